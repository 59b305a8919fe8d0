// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// Unit tests of the line framing under the iroh targets (a private module).

import { deepEqual, equal, ok } from "node:assert/strict";
import { type LineFrame, LineSplitter } from "../_lines.ts";
import { parseFrame } from "../envelope.ts";

const encode = (text: string) => [...new TextEncoder().encode(text)];

/** Feeds `chunks` (text or bytes) to a splitter and returns what it handed over, `end()` included. */
function split(maxBytes: number, chunks: (string | number[])[]): LineFrame[] {
  const splitter = new LineSplitter(maxBytes);
  const out: LineFrame[] = [];
  for (const chunk of chunks) {
    splitter.push(typeof chunk === "string" ? encode(chunk) : chunk, (line) => out.push(line));
  }
  splitter.end((line) => out.push(line));
  return out;
}

Deno.test("LineSplitter splits lines whatever the chunk boundaries", () => {
  const text = '{"a":1}\n{"b":"two"}\n{"c":[3]}\n';
  const expected = ['{"a":1}', '{"b":"two"}', '{"c":[3]}'];
  deepEqual(split(1024, [text]), expected);
  // Every way of cutting the text in two, and one byte at a time.
  for (let at = 0; at <= text.length; at++) {
    deepEqual(split(1024, [text.slice(0, at), text.slice(at)]), expected, `cut at ${at}`);
  }
  deepEqual(split(1024, [...text]), expected);
});

Deno.test("LineSplitter keeps a character whose UTF-8 bytes a chunk boundary splits", () => {
  const bytes = encode("é€😀\nnext\n");
  for (let at = 0; at <= bytes.length; at++) {
    deepEqual(split(1024, [bytes.slice(0, at), bytes.slice(at)]), ["é€😀", "next"], `cut at ${at}`);
  }
});

Deno.test("LineSplitter drops empty lines", () => {
  deepEqual(split(1024, ["\n\n", "a\n\n\nb\n", "\n"]), ["a", "b"]);
  deepEqual(split(1024, ["\n"]), []);
});

Deno.test("LineSplitter hands over a last line that has no newline when the stream ends", () => {
  deepEqual(split(1024, ["a\nb", "c"]), ["a", "bc"]);
});

Deno.test("LineSplitter accepts a line of exactly maxBytes, split or not", () => {
  const line = "é".repeat(50); // 100 bytes
  deepEqual(split(100, [line + "\nx\n"]), [line, "x"]);
  deepEqual(split(100, [line.slice(0, 20), line.slice(20) + "\n", "x\n"]), [line, "x"]);
});

Deno.test("LineSplitter hands over a long line's start, still over the limit, and skips the rest to its newline", () => {
  const long = "y".repeat(10_000);
  const chunks: string[] = ["ok\n" + long.slice(0, 50)];
  for (let at = 50; at < long.length; at += 700) chunks.push(long.slice(at, at + 700));
  chunks.push("\nafter\n");
  const out = split(100, chunks);
  deepEqual(out.length, 3);
  equal(out[0], "ok");
  equal(out[2], "after");
  const head = out[1] as string;
  ok(head.length > 100 && head.length < 1000, `held ${head.length} characters of the long line`);
  equal(head, long.slice(0, head.length));
  // What the target does with it: refused by size, with a preview of the start.
  const { refused } = parseFrame(head, 100);
  equal(refused?.reason, "frame is larger than maxMessageBytes (100 bytes)");
  equal(refused?.data, long.slice(0, 256));
});

Deno.test("LineSplitter refuses by size a long line cut inside a multi-byte character", () => {
  const long = "€".repeat(400); // 1200 bytes, cut at 101 bytes: 33 characters and 2 bytes
  const out = split(100, [long.slice(0, 10), long.slice(10) + "\nok\n"]);
  equal(out.length, 2);
  equal(out[1], "ok");
  equal(
    parseFrame(out[0], 100).refused?.reason,
    "frame is larger than maxMessageBytes (100 bytes)",
  );
});

Deno.test("LineSplitter hands over a long line within one chunk whole, for the size check", () => {
  const long = "z".repeat(300);
  const out = split(100, [`a\n${long}\nb\n`]);
  deepEqual(out, ["a", long, "b"]);
});

Deno.test("LineSplitter hands over the bytes of a line that is not UTF-8, and the lines around it", () => {
  const bad = [0x7b, 0xff, 0xfe, 0x7d];
  const out = split(1024, [[...encode("a\n"), ...bad, 10, ...encode("b\n")]]);
  deepEqual(out, ["a", new Uint8Array(bad), "b"]);
  equal(
    parseFrame(out[1], 1024).refused?.reason,
    "binary frames are not envelopes (4 bytes)",
  );
  // The same across chunks.
  deepEqual(split(1024, [[...encode("a\n"), 0x7b, 0xff], [0xfe, 0x7d, 10]]), [
    "a",
    new Uint8Array(bad),
  ]);
});

Deno.test("LineSplitter holds no more than the limit of one line, however long it is", () => {
  const splitter = new LineSplitter(1000);
  const out: LineFrame[] = [];
  const chunk = encode("q".repeat(64 * 1024));
  for (let i = 0; i < 200; i++) splitter.push(chunk, (line) => out.push(line)); // 12.5 MiB
  splitter.push(encode("\nnext\n"), (line) => out.push(line));
  equal(out.length, 2);
  ok((out[0] as string).length <= 64 * 1024 + 1000);
  equal(out[1], "next");
});
