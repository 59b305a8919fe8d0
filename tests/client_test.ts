// Copyright 2026 the @alkdev/pubsub authors. MIT license.

import { deepEqual, equal, match, throws } from "node:assert/strict";
import { createWebSocketClientEventTarget } from "../client.ts";
import { type AnyEnvelopeEvent, createEnvelopeEvent, type EventEnvelope } from "../envelope.ts";
import { collect, invalidEvents, nextEvent, settle, startHub, until } from "./_helpers.ts";

Deno.test("createWebSocketClientEventTarget() sends each dispatched envelope to the hub", async () => {
  await using t = startHub();
  const { spoke } = await t.connect();
  const arrived = collect<EventEnvelope>(t.hub, "*");
  spoke.dispatchEvent(createEnvelopeEvent("job.run", "1", { n: 1 }));
  spoke.dispatchEvent(createEnvelopeEvent("job.run", "2", { n: 2 }));
  await until(() => arrived.length === 2, "both envelopes arrive");
  deepEqual(arrived, [
    { type: "job.run", id: "1", payload: { n: 1 } },
    { type: "job.run", id: "2", payload: { n: 2 } },
  ]);
});

Deno.test("createWebSocketClientEventTarget() puts only type, id and payload on the wire", async () => {
  await using t = startHub();
  const { spoke } = await t.connect();
  const raw: string[] = [];
  t.hub.addEventListener("*", (event) => raw.push(JSON.stringify(event.detail)));
  const event = createEnvelopeEvent("a", "1", { when: new Date(0), nan: NaN });
  (event.detail as unknown as Record<string, unknown>).secret = "not sent";
  spoke.dispatchEvent(event);
  await until(() => raw.length === 1, "the envelope arrives");
  equal(raw[0], '{"type":"a","id":"1","payload":{"when":"1970-01-01T00:00:00.000Z","nan":null}}');
});

Deno.test("createWebSocketClientEventTarget() fires what arrives on type:id, type:*, then *", async () => {
  await using t = startHub();
  const { spoke } = await t.connect();
  const order: string[] = [];
  for (const name of ["job.done:7", "job.done:*", "*"] as const) {
    spoke.addEventListener(name, (event) => order.push(`${name} ${event.detail.id}`));
  }
  t.hub.dispatchEvent(createEnvelopeEvent("job.done", "7", null));
  await until(() => order.length === 3, "three listeners hear it");
  deepEqual(order, ["job.done:7 7", "job.done:* 7", "* 7"]);
});

Deno.test("createWebSocketClientEventTarget() scopes topics to their type and id", async () => {
  await using t = startHub();
  const { spoke } = await t.connect();
  const seven = collect<EventEnvelope>(spoke, "job.done:7");
  const anyJob = collect<EventEnvelope>(spoke, "job.done:*");
  const everything = collect<EventEnvelope>(spoke, "*");
  t.hub.dispatchEvent(createEnvelopeEvent("job.done", "8", 1));
  t.hub.dispatchEvent(createEnvelopeEvent("job.run", "7", 2));
  t.hub.dispatchEvent(createEnvelopeEvent("job.done", "7", 3));
  await until(() => everything.length === 3, "all three arrive");
  deepEqual(seven.map((e) => e.payload), [3]);
  deepEqual(anyJob.map((e) => e.payload), [1, 3]);
  deepEqual(everything.map((e) => e.payload), [1, 2, 3]);
});

Deno.test("createWebSocketClientEventTarget() calls every listener on one topic", async () => {
  await using t = startHub();
  const { spoke } = await t.connect();
  const calls: string[] = [];
  const handler = { handleEvent: () => calls.push("object") };
  spoke.addEventListener("a:1", () => calls.push("first"));
  spoke.addEventListener("a:1", () => calls.push("second"));
  spoke.addEventListener("a:1", handler);
  spoke.addEventListener("a:1", () => calls.push("once"), { once: true });
  const removed = () => calls.push("removed");
  spoke.addEventListener("a:1", removed);
  spoke.removeEventListener("a:1", removed);
  t.hub.dispatchEvent(createEnvelopeEvent("a", "1", null));
  t.hub.dispatchEvent(createEnvelopeEvent("a", "1", null));
  await until(() => calls.length === 7, "both envelopes reach the listeners");
  deepEqual(calls, ["first", "second", "object", "once", "first", "second", "object"]);
});

Deno.test("createWebSocketClientEventTarget() fires close once when the hub closes the connection", async () => {
  await using t = startHub();
  const { spoke, onHub } = await t.connect();
  const closes = collect<{ code: number; reason: string; wasClean: boolean; unsent: number }>(
    spoke,
    "close",
  );
  onHub.close(4000, "bye");
  await until(() => closes.length === 1, "the spoke hears close");
  await settle(50);
  equal(closes.length, 1);
  equal(closes[0].code, 4000);
  equal(closes[0].reason, "bye");
  equal(closes[0].wasClean, true);
  equal(closes[0].unsent, 0);
  equal(spoke.state, "closed");
});

Deno.test("createWebSocketClientEventTarget() throws on dispatch after close, and sends nothing", async () => {
  await using t = startHub();
  const { spoke } = await t.connect();
  const arrived = collect(t.hub, "*");
  const closed = nextEvent(spoke, "close");
  spoke.close();
  throws(
    () => spoke.dispatchEvent(createEnvelopeEvent("a", "1", null)),
    (error: Error) => error.constructor === Error && /the connection is closed/.test(error.message),
  );
  await closed;
  throws(
    () => spoke.dispatchEvent(createEnvelopeEvent("a", "1", null)),
    /the connection is closed/,
  );
  await settle();
  equal(arrived.length, 0);
});

Deno.test("createWebSocketClientEventTarget() queues sends made while CONNECTING and sends them in order on open", async () => {
  await using t = startHub();
  const arrived = collect<EventEnvelope>(t.hub, "*");
  const ws = new WebSocket(t.url);
  equal(ws.readyState, WebSocket.CONNECTING);
  const spoke = createWebSocketClientEventTarget(ws);
  equal(spoke.state, "connecting");
  for (let i = 0; i < 5; i++) {
    equal(
      spoke.dispatchEvent(createEnvelopeEvent("n", String(i), i)),
      true,
      "a queued send is accepted",
    );
  }
  await nextEvent(spoke, "open");
  await until(() => arrived.length === 5, "the queued envelopes arrive");
  deepEqual(arrived.map((e) => e.payload), [0, 1, 2, 3, 4]);
  spoke.close();
  await nextEvent(spoke, "close");
});

Deno.test("createWebSocketClientEventTarget() throws on sends after close() while CONNECTING and counts the queued ones as unsent", async () => {
  await using t = startHub();
  const spoke = createWebSocketClientEventTarget(new WebSocket(t.url));
  spoke.dispatchEvent(createEnvelopeEvent("n", "1", 1));
  spoke.dispatchEvent(createEnvelopeEvent("n", "2", 2));
  const closed = nextEvent<CustomEvent<{ code: number; unsent: number }>>(spoke, "close");
  spoke.close();
  equal(spoke.state, "closing");
  throws(() => spoke.dispatchEvent(createEnvelopeEvent("n", "3", 3)), /the connection is closed/);
  const { detail } = await closed;
  equal(detail.unsent, 2);
  equal(detail.code, 1006);
});

Deno.test("createWebSocketClientEventTarget() throws past maxBufferedAmount instead of growing memory", async () => {
  await using t = startHub();
  const spoke = createWebSocketClientEventTarget(new WebSocket(t.url), { maxBufferedAmount: 100 });
  const fits = createEnvelopeEvent("a", "1", "x".repeat(100 - 34));
  equal(JSON.stringify(fits.detail).length, 100);
  spoke.dispatchEvent(fits); // exactly the limit while connecting
  throws(
    () => spoke.dispatchEvent(createEnvelopeEvent("a", "2", "")),
    /100 bytes are waiting and 34 more would pass maxBufferedAmount \(100\)/,
  );
  const arrived = collect<EventEnvelope>(t.hub, "*");
  await nextEvent(spoke, "open");
  await until(() => arrived.length === 1, "the envelope that fit arrives");
  equal(arrived[0].id, "1");
  spoke.close();
});

Deno.test("createWebSocketClientEventTarget() rejects limits that are not positive integers", () => {
  const ws = { readyState: 3 } as unknown as WebSocket;
  throws(
    () => createWebSocketClientEventTarget(ws, { maxMessageBytes: -1 }),
    (error: Error) =>
      error instanceof RangeError &&
      error.message === "'maxMessageBytes' must be a positive integer: got -1",
  );
  throws(() => createWebSocketClientEventTarget(ws, { maxBufferedAmount: 1.5 }), RangeError);
});

Deno.test("createWebSocketClientEventTarget() validates before sending and the hub receives nothing", async (t) => {
  await using h = startHub();
  const { spoke } = await h.connect();
  const arrived = collect(h.hub, "*");
  for (const [name, event, message] of invalidEvents()) {
    await t.step(`refuses ${name}`, () => {
      throws(
        () => spoke.dispatchEvent(event as AnyEnvelopeEvent),
        (error: Error) => error instanceof TypeError && message.test(error.message),
      );
    });
  }
  await settle();
  equal(arrived.length, 0);
});

Deno.test("createWebSocketClientEventTarget() reports bad frames as error events and keeps going", async (t) => {
  await using h = startHub();
  const { spoke } = await h.connect({ maxMessageBytes: 200 });
  const errors = collect<{ reason: string; data: string }>(spoke, "error");
  const envelopes = collect<EventEnvelope>(spoke, "*");
  const cases: [string, string | Uint8Array, RegExp][] = [
    ["non-JSON text", "hello", /^frame is not JSON$/],
    ["JSON that is not an object", "[1,2]", /an envelope must be an object/],
    ["a missing id", '{"type":"a"}', /'id' must be a string/],
    ["a wrongly typed type", '{"type":5,"id":"1"}', /'type' must be a string/],
    ["':' in type", '{"type":"a:b","id":"1"}', /must not contain ':'/],
    ["'*' as id", '{"type":"a","id":"*"}', /'id' must not be '\*'/],
    ["a binary frame", new Uint8Array([1, 2, 3]), /binary frames are not envelopes \(3 bytes\)/],
    [
      "a frame over maxMessageBytes",
      JSON.stringify({ type: "a", id: "1", payload: "x".repeat(200) }),
      /larger than maxMessageBytes \(200 bytes\)/,
    ],
  ];
  let sent = 0;
  for (const [name, frame, reason] of cases) {
    await t.step(`${name} fires error, then the next envelope arrives`, async () => {
      const errorsBefore = errors.length;
      rawSend(h, frame);
      h.hub.dispatchEvent(createEnvelopeEvent("ok", String(++sent), null));
      await until(() => envelopes.length === sent, "the next valid envelope");
      equal(errors.length, errorsBefore + 1);
      match(errors[errorsBefore].reason, reason);
      if (typeof frame === "string") equal(errors[errorsBefore].data, frame.slice(0, 256));
    });
  }
  deepEqual(envelopes.map((e) => e.type), cases.map(() => "ok"));
});

Deno.test("createWebSocketClientEventTarget() accepts a frame of exactly maxMessageBytes", async () => {
  await using h = startHub();
  const frame = JSON.stringify({ type: "a", id: "1", payload: "é".repeat(40) });
  const bytes = new TextEncoder().encode(frame).length;
  const { spoke } = await h.connect({ maxMessageBytes: bytes });
  const envelopes = collect<EventEnvelope>(spoke, "*");
  const errors = collect(spoke, "error");
  rawSend(h, frame);
  rawSend(h, JSON.stringify({ type: "a", id: "2", payload: "é".repeat(40) + "x" }));
  h.hub.dispatchEvent(createEnvelopeEvent("done", "1", null));
  await until(() => envelopes.length === 2, "the fitting frame and the marker");
  equal(envelopes[0].id, "1");
  equal(errors.length, 1);
});

/** Sends a raw frame from the hub side to every spoke, below the library, as a misbehaving hub would. */
function rawSend(h: { rawSockets: WebSocket[] }, frame: string | Uint8Array): void {
  for (const ws of h.rawSockets) ws.send(frame);
}
