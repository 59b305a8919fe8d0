// Copyright 2026 the @alkdev/pubsub authors. MIT license.
// This module is browser compatible.

// Newline-delimited framing for byte streams (iroh): splits chunks into lines
// whatever their boundaries, bounds how much of one line is held, and skips
// the rest of a line that is too long up to its newline.

import { ERROR_DATA_PREVIEW_CHARS } from "./envelope.ts";

const NEWLINE = 10;
// Enough bytes of a refused line for the preview an `error` event shows (3 bytes a UTF-16 unit at most).
const PREVIEW_BYTES = ERROR_DATA_PREVIEW_CHARS * 3;

/**
 * What a line becomes for `Connection.handleFrame`: its text; its bytes when
 * they are not UTF-8 (refused like any binary frame); or, for a line longer
 * than the limit, text that is still over the limit (the whole line when one
 * chunk held it, else its start), so that the frame's size check refuses it
 * with a preview of its start.
 */
export type LineFrame = string | Uint8Array;

/** Splits a byte stream into lines ending in `\n`; empty lines are dropped. */
export class LineSplitter {
  #maxBytes: number;
  // How much of a too long line is kept: past the limit, and enough for the preview.
  #holdBytes: number;
  #fatal = new TextDecoder("utf-8", { fatal: true });
  #lossy = new TextDecoder();
  // The start of the current line, from earlier chunks, at most `#holdBytes` in all.
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  // Inside a line already handed over as too long: dropped up to its newline.
  #skipping = false;

  /** @param maxBytes The longest line handed over whole, in bytes without its `\n`. */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
    this.#holdBytes = Math.max(maxBytes, PREVIEW_BYTES);
  }

  /** Splits one chunk, calling `frame` for each line it completes. */
  push(chunk: ArrayLike<number>, frame: (line: LineFrame) => void): void {
    const bytes = chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk as ArrayLike<number>);
    const last = bytes.lastIndexOf(NEWLINE);
    if (last < 0) {
      this.#extend(bytes, frame);
      return;
    }
    let start = 0;
    if (this.#pendingBytes > 0 || this.#skipping) {
      const end = bytes.indexOf(NEWLINE);
      this.#extend(bytes.subarray(0, end), frame);
      this.#finishLine(frame);
      start = end + 1;
    }
    if (start < last) this.#whole(bytes.subarray(start, last), frame);
    this.#extend(bytes.subarray(last + 1), frame);
  }

  /** The stream ended: a last line without its `\n` is handed over too. */
  end(frame: (line: LineFrame) => void): void {
    this.#finishLine(frame);
  }

  /** Complete lines, with no line pending before them: one decode for all when it can. */
  #whole(bytes: Uint8Array, frame: (line: LineFrame) => void): void {
    let text: string;
    try {
      text = this.#fatal.decode(bytes);
    } catch {
      // Some line is not UTF-8: find which, one at a time.
      let start = 0;
      while (start <= bytes.length) {
        let end = bytes.indexOf(NEWLINE, start);
        if (end < 0) end = bytes.length;
        this.#line(bytes.subarray(start, end), frame);
        start = end + 1;
      }
      return;
    }
    for (const line of text.split("\n")) {
      // Lines of one chunk are small enough to hand over whole: the size check refuses them.
      if (line !== "") frame(line);
    }
  }

  #line(bytes: Uint8Array, frame: (line: LineFrame) => void): void {
    if (bytes.length === 0) return;
    if (bytes.length > this.#maxBytes) {
      frame(this.#lossy.decode(bytes.subarray(0, this.#holdBytes + 1)));
      return;
    }
    try {
      frame(this.#fatal.decode(bytes));
    } catch {
      frame(bytes.slice());
    }
  }

  /** Adds to the current line, or hands its start over once it is too long. */
  #extend(bytes: Uint8Array, frame: (line: LineFrame) => void): void {
    if (this.#skipping || bytes.length === 0) return;
    this.#pending.push(bytes.slice());
    this.#pendingBytes += bytes.length;
    if (this.#pendingBytes <= this.#holdBytes) return;
    this.#line(this.#takePending(), frame);
    this.#skipping = true;
  }

  #finishLine(frame: (line: LineFrame) => void): void {
    if (this.#skipping) this.#skipping = false;
    else if (this.#pendingBytes > 0) this.#line(this.#takePending(), frame);
  }

  #takePending(): Uint8Array {
    const pending = this.#pending;
    const bytes = pending.length === 1 ? pending[0] : new Uint8Array(this.#pendingBytes);
    if (pending.length > 1) {
      let at = 0;
      for (const piece of pending) {
        bytes.set(piece, at);
        at += piece.length;
      }
    }
    this.#pending = [];
    this.#pendingBytes = 0;
    return bytes;
  }
}
