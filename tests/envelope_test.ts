// Copyright 2026 the @alkdev/pubsub authors. MIT license.

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import {
  createEnvelopeEvent,
  dispatchEnvelope,
  dispatchError,
  encodeEnvelopeEvent,
  envelopeProblem,
  ERROR_DATA_PREVIEW_CHARS,
  exceedsBytes,
  parseFrame,
  SourcedEvent,
  topicOf,
  utf8ByteLength,
  validateEnvelope,
} from "../envelope.ts";

const encoder = new TextEncoder();
const bytesOf = (text: string) => encoder.encode(text).length;

Deno.test("topicOf() joins type and id with ':'", () => {
  equal(topicOf("job.done", "7"), "job.done:7");
  equal(topicOf("job.done", "*"), "job.done:*");
  equal(topicOf("a", "b:c"), "a:b:c");
});

Deno.test("envelopeProblem() names the field and the value that are wrong", () => {
  const cases: [unknown, string | undefined][] = [
    [{ type: "a", id: "1" }, undefined],
    [{ type: "a", id: "1", payload: null, extra: 1 }, undefined],
    [{ type: "a", id: "b:c" }, undefined],
    [null, "an envelope must be an object (got null)"],
    [undefined, "an envelope must be an object (got undefined)"],
    [[1], "an envelope must be an object (got an array)"],
    ["a:1", 'an envelope must be an object (got "a:1")'],
    [5, "an envelope must be an object (got number 5)"],
    [{ id: "1" }, "'type' must be a string (got undefined)"],
    [{ type: null, id: "1" }, "'type' must be a string (got null)"],
    [{ type: 5, id: "1" }, "'type' must be a string (got number 5)"],
    [{ type: {}, id: "1" }, "'type' must be a string (got an object)"],
    [{ type: "", id: "1" }, "'type' must not be empty"],
    [{ type: "a:b", id: "1" }, `'type' must not contain ':' (got "a:b")`],
    [{ type: "a" }, "'id' must be a string (got undefined)"],
    [{ type: "a", id: 1 }, "'id' must be a string (got number 1)"],
    [{ type: "a", id: true }, "'id' must be a string (got boolean true)"],
    [{ type: "a", id: "" }, "'id' must not be empty"],
    [{ type: "a", id: "*" }, "'id' must not be '*', which names every id"],
  ];
  for (const [value, problem] of cases) {
    equal(envelopeProblem(value), problem, JSON.stringify(value));
  }
  // A long value is cut in the message.
  equal(
    envelopeProblem({ type: `${"t".repeat(50)}:x`, id: "1" }),
    `'type' must not contain ':' (got "${"t".repeat(40)}…")`,
  );
});

Deno.test("validateEnvelope() returns only type, id and payload, and throws a TypeError otherwise", () => {
  deepEqual(validateEnvelope({ type: "a", id: "1", payload: { x: [1] }, extra: 2 }), {
    type: "a",
    id: "1",
    payload: { x: [1] },
  });
  const bare = validateEnvelope({ type: "a", id: "1" });
  equal(bare.payload, undefined);
  deepEqual(Object.keys(bare), ["type", "id", "payload"]);
  throws(
    () => validateEnvelope({ type: "a:b", id: "1" }),
    (error: Error) =>
      error instanceof TypeError &&
      error.message === `Invalid envelope: 'type' must not contain ':' (got "a:b")`,
  );
  throws(() => validateEnvelope("{}"), TypeError);
  throws(() => validateEnvelope({ type: "a", id: "*" }), /'id' must not be '\*'/);
});

Deno.test("createEnvelopeEvent() builds a CustomEvent named by the topic, and throws a TypeError on a bad type or id", () => {
  const payload = { n: 1 };
  const event = createEnvelopeEvent("job.run", "7", payload);
  ok(event instanceof CustomEvent);
  equal(event.type, "job.run:7");
  deepEqual(event.detail, { type: "job.run", id: "7", payload: { n: 1 } });
  for (
    const [type, id, message] of [
      ["", "1", /'type' must not be empty/],
      ["a:b", "1", /'type' must not contain ':'/],
      ["a", "", /'id' must not be empty/],
      ["a", "*", /'id' must not be '\*'/],
    ] as const
  ) {
    throws(
      () => createEnvelopeEvent(type, id, null),
      (error: Error) => error instanceof TypeError && message.test(error.message),
    );
  }
  throws(() => createEnvelopeEvent(1 as unknown as string, "1", null), TypeError);
});

Deno.test("encodeEnvelopeEvent() encodes only type, id and payload, as JSON does", () => {
  const event = createEnvelopeEvent("a", "1", {
    nan: NaN,
    inf: -Infinity,
    date: new Date(0),
    gone: undefined,
    list: [undefined, NaN],
  });
  (event.detail as unknown as Record<string, unknown>).secret = "kept home";
  equal(
    encodeEnvelopeEvent(event),
    '{"type":"a","id":"1","payload":{"nan":null,"inf":null,"date":"1970-01-01T00:00:00.000Z","list":[null,null]}}',
  );
  equal(encodeEnvelopeEvent(createEnvelopeEvent("a", "1", undefined)), '{"type":"a","id":"1"}');
  equal(
    encodeEnvelopeEvent(createEnvelopeEvent("a", "1", NaN)),
    '{"type":"a","id":"1","payload":null}',
  );
  // Key order on the wire is fixed, whatever the sender's object.
  equal(
    encodeEnvelopeEvent(new CustomEvent("a:1", { detail: { payload: 2, id: "1", type: "a" } })),
    '{"type":"a","id":"1","payload":2}',
  );
});

Deno.test("encodeEnvelopeEvent() throws a TypeError that says what is wrong", () => {
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  const cases: [Event, RegExp][] = [
    [
      new Event("a:1"),
      /^Cannot dispatch "a:1": invalid envelope in 'detail': an envelope must be an object \(got undefined\)$/,
    ],
    [
      new CustomEvent("a:1", { detail: { type: "a", id: 1 } }),
      /'id' must be a string \(got number 1\)/,
    ],
    [
      new CustomEvent("a:2", { detail: { type: "a", id: "1" } }),
      /^Cannot dispatch "a:2": 'event.type' must be the envelope's topic "a:1"$/,
    ],
    [
      new CustomEvent("a:1", { detail: { type: "a", id: "1", payload: 1n } }),
      /^Cannot dispatch "a:1": JSON cannot encode the payload \(.+\)$/,
    ],
    [
      new CustomEvent("a:1", { detail: { type: "a", id: "1", payload: cycle } }),
      /JSON cannot encode the payload/,
    ],
  ];
  for (const [event, message] of cases) {
    throws(
      () => encodeEnvelopeEvent(event),
      (error: Error) => error instanceof TypeError && message.test(error.message),
      message.source,
    );
  }
  // The JSON error is kept as the cause.
  throws(
    () =>
      encodeEnvelopeEvent(new CustomEvent("a:1", { detail: { type: "a", id: "1", payload: 1n } })),
    (error: Error) => error.cause instanceof TypeError,
  );
});

/** Strings whose UTF-8 length is easy to get wrong. */
const tricky = [
  "",
  "plain ascii",
  "\u0000\u007f",
  "\u0080\u07ff", // the 2-byte range, both ends
  "\u0800\uffff", // the 3-byte range, both ends
  "héllo €",
  "😀", // a surrogate pair: 4 bytes
  "a😀b👍🏽c", // pairs among others, and a modifier
  "\u{10ffff}",
  "\ud800", // a lone high surrogate: U+FFFD, 3 bytes
  "\udc00", // a lone low surrogate
  "a\ud83d", // a high surrogate at the very end
  "\ude00\ud83d", // a pair in the wrong order: two lone surrogates
  "\ud83d\ud83d\ude00", // a lone high followed by a pair
  "\ud83d\ude00\ude00", // a pair followed by a lone low
  "x".repeat(1000) + "€".repeat(1000),
];

Deno.test("utf8ByteLength() counts what TextEncoder produces, surrogates included", () => {
  for (const text of tricky) equal(utf8ByteLength(text), bytesOf(text), JSON.stringify(text));
  // And on random UTF-16, lone surrogates and all (a fixed seed keeps it repeatable).
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 500; i++) {
    const units = Array.from({ length: 1 + Math.floor(random() * 20) }, () => {
      const r = random();
      // Mostly surrogates and range edges, where mistakes hide.
      if (r < 0.3) return 0xd800 + Math.floor(random() * 0x800);
      if (r < 0.5) return Math.floor(random() * 0x80);
      if (r < 0.7) return 0x80 + Math.floor(random() * 0x780);
      return Math.floor(random() * 0x10000);
    });
    const text = String.fromCharCode(...units);
    equal(utf8ByteLength(text), bytesOf(text), JSON.stringify(text));
  }
});

Deno.test("exceedsBytes() accepts a string of exactly the limit and refuses one byte less", () => {
  for (const text of tricky) {
    const bytes = bytesOf(text);
    equal(exceedsBytes(text, bytes), false, JSON.stringify(text));
    if (bytes > 0) equal(exceedsBytes(text, bytes - 1), true, JSON.stringify(text));
  }
  // Where the length alone decides: longer than the limit, or short enough even at 3 bytes a unit.
  equal(exceedsBytes("abcd", 3), true);
  equal(exceedsBytes("€€", 6), false);
  equal(exceedsBytes("€€", 5), true);
  // 4 bytes in 2 units: the length alone would say it fits in 3.
  equal(exceedsBytes("😀", 3), true);
  equal(exceedsBytes("😀", 4), false);
});

Deno.test("parseFrame() returns the envelope of a valid text frame, without other fields", () => {
  deepEqual(parseFrame('{"id":"1","type":"a","payload":[1,{"b":null}],"x":1}', 1024), {
    envelope: { type: "a", id: "1", payload: [1, { b: null }] },
  });
  const { envelope } = parseFrame('{"type":"a","id":"1"}', 1024);
  equal(envelope?.payload, undefined);
});

Deno.test("parseFrame() refuses, with a reason and the frame's start, what is not an envelope", () => {
  const cases: [unknown, string, string][] = [
    ["nope", "frame is not JSON", "nope"],
    ["", "frame is not JSON", ""],
    ["[]", "invalid envelope: an envelope must be an object (got an array)", "[]"],
    [
      '{"type":"a:b","id":"1"}',
      `invalid envelope: 'type' must not contain ':' (got "a:b")`,
      '{"type":"a:b","id":"1"}',
    ],
    [
      '{"type":"a","id":"*"}',
      "invalid envelope: 'id' must not be '*', which names every id",
      '{"type":"a","id":"*"}',
    ],
    [new Uint8Array([104, 105]), "binary frames are not envelopes (2 bytes)", "hi"],
    [
      new Uint8Array([0, 104, 105, 0]).subarray(1, 3),
      "binary frames are not envelopes (2 bytes)",
      "hi",
    ],
    [new Uint8Array([104, 105, 33]).buffer, "binary frames are not envelopes (3 bytes)", "hi!"],
    [
      new DataView(new Uint8Array([120, 121]).buffer),
      "binary frames are not envelopes (2 bytes)",
      "xy",
    ],
    [new Blob(["abc"]), "binary frames are not envelopes (3 bytes)", ""],
    [null, "binary frames are not envelopes", ""],
  ];
  for (const [data, reason, preview] of cases) {
    deepEqual(parseFrame(data, 1024), { refused: { reason, data: preview } }, String(data));
  }
  // The preview is the start of the frame, however long the frame is.
  const long = "x".repeat(5000);
  deepEqual(parseFrame(long, 10_000), {
    refused: { reason: "frame is not JSON", data: long.slice(0, ERROR_DATA_PREVIEW_CHARS) },
  });
  const binary = new Uint8Array(1000).fill(97);
  equal(parseFrame(binary, 10_000).refused?.data.length, ERROR_DATA_PREVIEW_CHARS);
});

Deno.test("parseFrame() accepts a frame of exactly maxBytes and refuses one byte more", () => {
  const frame = JSON.stringify({ type: "a", id: "1", payload: "é😀" });
  const bytes = bytesOf(frame);
  ok(bytes > frame.length, "the frame has multi-byte characters");
  equal(parseFrame(frame, bytes).envelope?.payload, "é😀");
  deepEqual(parseFrame(frame, bytes - 1), {
    refused: { reason: `frame is larger than maxMessageBytes (${bytes - 1} bytes)`, data: frame },
  });
});

Deno.test("dispatchEnvelope() fires <type>:<id>, <type>:* and * in order, past an overridden dispatchEvent", () => {
  class Sender extends EventTarget {
    override dispatchEvent(): boolean {
      throw new Error("sends, never dispatches locally");
    }
  }
  const target = new Sender();
  const source = new EventTarget();
  const heard: string[] = [];
  const events: Event[] = [];
  for (const name of ["*", "a:*", "a:1", "a:2", "b:*"]) {
    target.addEventListener(name, (event) => {
      const sourced = event as SourcedEvent<{ payload: number }>;
      heard.push(`${name} ${sourced.detail.payload} ${sourced.source === source}`);
      events.push(event);
    });
  }
  dispatchEnvelope(target, { type: "a", id: "1", payload: 5 }, source);
  deepEqual(heard, ["a:1 5 true", "a:* 5 true", "* 5 true"]);
  ok(events.every((event) => event instanceof SourcedEvent && event instanceof CustomEvent));
  equal(new Set(events).size, 3, "each name gets its own event");
});

Deno.test("dispatchError() fires error with { reason, data } and the source", () => {
  const target = new EventTarget();
  const seen: unknown[] = [];
  target.addEventListener("error", (event) => {
    const sourced = event as SourcedEvent;
    seen.push(sourced.detail, sourced.source);
  });
  dispatchError(target, { reason: "frame is not JSON", data: "x" }, null);
  deepEqual(seen, [{ reason: "frame is not JSON", data: "x" }, null]);
});
