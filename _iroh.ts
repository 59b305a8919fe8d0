// Copyright 2026 the @alkdev/pubsub authors. MIT license.
// This module is browser compatible.

// Maps one bidirectional iroh stream onto a `Connection`: envelopes as lines
// of JSON, one write queue per stream, and QUIC's close read back as a close
// code and reason. The spoke opens the stream, the hub accepts it.
//
// `@number0/iroh` is the caller's: it is typed here by the few members used.
// Its bindings take and give bytes as `number[]` and codes as `bigint`, write
// calls in flight together are reordered, and a native promise that rejects
// unobserved crashes Node, so each one is awaited or caught where it is made.

import {
  ABNORMAL_CLOSURE,
  type Connect,
  type Connection,
  type ConnectionLimits,
  describeError,
  NORMAL_CLOSURE,
  positiveInteger,
  PROTOCOL_ERROR,
  type Transport,
} from "./_connection.ts";
import { type LineFrame, LineSplitter } from "./_lines.ts";
import { utf8ByteLength } from "./envelope.ts";

/**
 * The part of an `@number0/iroh` `Connection` the iroh targets use: give them
 * the connection that `endpoint.connect(addr, alpn)` or an accepted
 * `Incoming` returned.
 */
export interface IrohConnectionLike {
  /** Opens a bidirectional stream (the spoke's side). */
  openBi(): Promise<IrohBiStreamLike>;
  /** Accepts the peer's next bidirectional stream (the hub's side). */
  acceptBi(): Promise<IrohBiStreamLike>;
  /** Resolves with why the connection closed, e.g. `closed by peer: bye (code 4000)`. */
  closed(): Promise<string>;
  /** Why the connection closed, or `null` while it is open. */
  closeReason(): string | null;
  /** QUIC's application close: a code and the UTF-8 bytes of a reason. */
  close(errorCode: bigint, reason: number[]): void;
}

/** The two halves of an iroh bidirectional stream. */
export interface IrohBiStreamLike {
  /** The half this side writes. */
  readonly send: IrohSendStreamLike;
  /** The half this side reads. */
  readonly recv: IrohRecvStreamLike;
}

/** The writing half of an iroh stream. */
export interface IrohSendStreamLike {
  /** Writes every byte, waiting for QUIC's flow control to let them in. */
  writeAll(bytes: number[]): Promise<void>;
  /** Ends the stream after what was written. */
  finish(): Promise<void>;
  /** Resolves with `null` once the peer has received everything up to the end. */
  stopped(): Promise<number | null>;
}

/** The reading half of an iroh stream. */
export interface IrohRecvStreamLike {
  /** The next bytes, at most `sizeLimit` of them; `[]` at the end of the stream. */
  read(sizeLimit: number): Promise<number[]>;
}

/** Default for `closeTimeout`: how long a close waits for the peer to receive what was sent, in ms. */
export const DEFAULT_CLOSE_TIMEOUT = 5_000;

/** Reads `closeTimeout` from either target's options. */
export function readCloseTimeout(options: { closeTimeout?: number }): number {
  return positiveInteger("closeTimeout", options.closeTimeout, DEFAULT_CLOSE_TIMEOUT);
}

/** Bytes asked of each read. */
const READ_BYTES = 64 * 1024;
/** The most envelope bytes that one write coalesces (a longer line goes alone). */
const WRITE_BATCH_BYTES = 64 * 1024;

const encoder = new TextEncoder();

/** A close code as QUIC takes it; a `RangeError` for anything but a non-negative integer. */
export function quicCode(code: number): bigint {
  if (!Number.isSafeInteger(code) || code < 0) {
    throw new RangeError(`the close code must be a non-negative integer: got ${code}`);
  }
  return BigInt(code);
}

/** The UTF-8 bytes of `text` as the `number[]` that iroh's bindings take. */
function toBytes(text: string): number[] {
  const bytes = encoder.encode(text);
  // A plain loop: several times faster than Array.from or spreading.
  const array = new Array<number>(bytes.length);
  for (let i = 0; i < bytes.length; i++) array[i] = bytes[i];
  return array;
}

/** An iroh error's first line (with RUST_BACKTRACE set, a backtrace follows it). */
// What `closed()` says for the peer's application close: "closed by peer: <reason> (code <n>)",
// or "closed by peer: <n>" for an empty reason. Anchored and greedy, so a reason may hold "(code".
const PEER_CLOSE = /^closed by peer: (?:(.*) \(code (\d+)\)|(\d+))$/s;

/**
 * The code and reason of the peer's application close in a `closed()` text,
 * or `undefined` for any other end (a local close, a timeout, a lost path).
 */
function parseClose(text: string): { code: number; reason: string } | undefined {
  const match = PEER_CLOSE.exec(text);
  if (!match) return undefined;
  return match[3] === undefined
    ? { code: Number(match[2]), reason: match[1] }
    : { code: Number(match[3]), reason: "" };
}

/** Resolves with what `work` gives, or with `false` if it fails or takes longer than `ms`. */
function bounded(work: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(resolve, ms, false)));
  return Promise.race([work.catch(() => false), timeout]).finally(() => clearTimeout(timer));
}

/** One iroh stream as a `Transport`, and the target it carries. */
export class IrohStream<TTarget extends Connection = Connection> implements Transport {
  /** The connection target. */
  readonly target: TTarget;
  /** Settles once the QUIC connection has closed and the target has fired `close`. */
  readonly closed: Promise<void>;
  #connection: IrohConnectionLike;
  #maxMessageBytes: number;
  #closeTimeout: number;
  #stream: IrohBiStreamLike | undefined;
  // Settles once the stream has been read to its end (or will never be).
  #reading: Promise<void>;
  // Lines not yet written, with their sizes in bytes; `#buffered` is their sum plus the write in
  // flight.
  #lines: string[] = [];
  #sizes: number[] = [];
  #buffered = 0;
  #writing: Promise<void> = Promise.resolve();
  #pumping = false;
  #closing = false;
  #peerFinished = false;
  #failed = false;
  #finishedTimer: ReturnType<typeof setTimeout> | undefined;
  // Our own application close, once made.
  #local: { code: number; reason: string; clean: boolean } | undefined;

  /**
   * @param connection An established iroh connection.
   * @param side `open` for the spoke, which opens the stream; `accept` for the hub.
   * @param limits The byte limits.
   * @param closeTimeout How long a close waits for the peer, in ms.
   * @param connect Makes the target: a plain connection, or a hub's spoke.
   */
  constructor(
    connection: IrohConnectionLike,
    side: "open" | "accept",
    limits: ConnectionLimits,
    closeTimeout: number,
    connect: Connect<TTarget>,
  ) {
    this.#connection = connection;
    this.#maxMessageBytes = limits.maxMessageBytes;
    this.#closeTimeout = closeTimeout;
    this.target = connect(this);
    const stream = side === "open" ? connection.openBi() : connection.acceptBi();
    // A rejection means the connection closed first: `closed()` reports that.
    this.#reading = stream.then((bi) => this.#start(bi, side), () => {});
    this.closed = connection.closed().then(
      (why) => this.#ended(why),
      (error) => this.#ended(describeError(error)),
    );
  }

  send(text: string, bytes: number = utf8ByteLength(text)): boolean {
    this.#lines.push(text);
    this.#sizes.push(bytes);
    this.#buffered += bytes;
    if (!this.#pumping) {
      this.#pumping = true;
      this.#writing = this.#pump(this.#stream!.send);
    }
    return true;
  }

  bufferedAmount(): number {
    return this.#buffered;
  }

  closing(): boolean {
    return this.#closing || this.#peerFinished || this.#failed;
  }

  /** Finishes the stream, waits (bounded) until the peer has it all, then closes. */
  close(code: number = NORMAL_CLOSURE, reason = ""): void {
    quicCode(code);
    if (this.#closing) return;
    this.#closing = true;
    const stream = this.#stream;
    const flushed = stream
      ? bounded(this.#finish(stream.send), this.#closeTimeout)
      : Promise.resolve(true);
    flushed.then((clean) => this.#closeConnection(code, reason, clean));
  }

  /** Closes at once: what waits to be written is dropped. */
  abort(code: number, reason: string): void {
    this.#closing = true;
    this.#closeConnection(code, reason, false);
  }

  detach(): void {
    clearTimeout(this.#finishedTimer);
  }

  #start(bi: IrohBiStreamLike, side: "open" | "accept"): Promise<void> | undefined {
    // Closed before the stream was there: nothing more to do on it.
    if (this.#closing) return;
    this.#stream = bi;
    // QUIC announces a stream to the peer only once bytes flow: an empty line does it at once.
    if (side === "open") this.send("");
    const reading = this.#read(bi.recv);
    // Before any line is read. A microtask, so that an exception thrown by `onConnection` or an
    // `open` listener is reported as a listener's would be, and the stream is read all the same.
    queueMicrotask(() => this.target.handleOpen(true));
    return reading;
  }

  async #read(recv: IrohRecvStreamLike): Promise<void> {
    const lines = new LineSplitter(this.#maxMessageBytes);
    const frame = (line: LineFrame) => this.target.handleFrame(line);
    try {
      for (;;) {
        const chunk = await recv.read(READ_BYTES);
        if (chunk.length === 0) break;
        lines.push(chunk, frame);
      }
    } catch (error) {
      // When the connection has closed, `closed()` says how; anything else broke the stream.
      if (!this.#local && this.#connection.closeReason() === null) {
        this.#fail(`read failed: ${describeError(error)}`);
      }
      return;
    }
    lines.end(frame);
    // The peer finished its side: sends from here would not be read. Wait (bounded) for its
    // close, which carries the code and reason, before closing from this side.
    this.#peerFinished = true;
    this.#finishedTimer = setTimeout(() => this.close(), this.#closeTimeout);
  }

  /** Writes queued lines in order, coalescing those that wait, one write at a time. */
  async #pump(send: IrohSendStreamLike): Promise<void> {
    try {
      while (this.#lines.length > 0) {
        let count = 1;
        let bytes = this.#sizes[0];
        while (count < this.#lines.length && bytes + this.#sizes[count] <= WRITE_BATCH_BYTES) {
          bytes += this.#sizes[count++];
        }
        const batch = this.#lines.splice(0, count);
        this.#sizes.splice(0, count);
        await send.writeAll(toBytes(batch.join("\n") + "\n"));
        this.#buffered -= bytes;
      }
    } catch (error) {
      this.#dropQueue();
      this.#buffered = 0;
      if (!this.#local && this.#connection.closeReason() === null) {
        this.#fail(`write failed: ${describeError(error)}`);
      }
    }
    // Cleared in the same turn as the last check of the queue, so no line is left behind.
    this.#pumping = false;
  }

  async #finish(send: IrohSendStreamLike): Promise<boolean> {
    await this.#writing;
    if (this.#failed) return false;
    await send.finish();
    return (await send.stopped()) === null;
  }

  #fail(why: string): void {
    this.#failed = true;
    this.target.handleTransportError(why);
    this.abort(PROTOCOL_ERROR, why);
  }

  #closeConnection(code: number, reason: string, clean: boolean): void {
    if (this.#local) return;
    this.#local = { code, reason, clean };
    this.#dropQueue();
    try {
      this.#connection.close(quicCode(code), toBytes(reason));
    } catch {
      // Closed already: `closed()` reports how.
    }
  }

  /** Drops the lines not yet written; a write in flight still counts until it ends. */
  #dropQueue(): void {
    for (const size of this.#sizes) this.#buffered -= size;
    this.#lines = [];
    this.#sizes = [];
  }

  async #ended(why: string): Promise<void> {
    const peer = parseClose(why);
    // What the peer sent before it closed is still readable: dispatch it first.
    await this.#reading;
    // Cleared after the read ends, since the read's end is what arms it.
    clearTimeout(this.#finishedTimer);
    if (peer) this.target.handleClose(peer.code, peer.reason, true);
    else if (this.#local) {
      this.target.handleClose(this.#local.code, this.#local.reason, this.#local.clean);
    } else this.target.handleClose(ABNORMAL_CLOSURE, why, false);
  }
}
