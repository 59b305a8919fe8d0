// Copyright 2026 the @alkdev/pubsub authors. MIT license.

import { deepEqual, equal, notEqual, throws } from "node:assert/strict";
import {
  type AnyEnvelopeEvent,
  type CloseDetail,
  createEnvelopeEvent,
  type EnvelopeEvents,
  type EventEnvelope,
} from "../envelope.ts";
import { createInProcessEventTarget } from "../in_process.ts";
import { collect } from "./_helpers.ts";

Deno.test("createInProcessEventTarget() fires each envelope on type:id, type:*, then *", () => {
  const target = createInProcessEventTarget();
  const order: string[] = [];
  for (const name of ["job.done:7", "job.done:*", "*"] as const) {
    target.addEventListener(name, (event) => order.push(`${name} ${event.detail.id}`));
  }
  equal(target.dispatchEvent(createEnvelopeEvent("job.done", "7", null)), true);
  deepEqual(order, ["job.done:7 7", "job.done:* 7", "* 7"]);
});

Deno.test("createInProcessEventTarget() scopes topics to their type and id", () => {
  const target = createInProcessEventTarget();
  const seven = collect<EventEnvelope>(target, "job.done:7");
  const anyJob = collect<EventEnvelope>(target, "job.done:*");
  const everything = collect<EventEnvelope>(target, "*");
  target.dispatchEvent(createEnvelopeEvent("job.done", "8", 1));
  target.dispatchEvent(createEnvelopeEvent("job.run", "7", 2));
  target.dispatchEvent(createEnvelopeEvent("job.done", "7", 3));
  deepEqual(seven.map((e) => e.payload), [3]);
  deepEqual(anyJob.map((e) => e.payload), [1, 3]);
  deepEqual(everything.map((e) => e.payload), [1, 2, 3]);
});

Deno.test("createInProcessEventTarget() gives listeners a JSON round-tripped copy, never the sender's object", () => {
  const target = createInProcessEventTarget();
  const received = collect<EventEnvelope>(target, "a:1");
  const sent = { when: new Date(0), nan: NaN, list: [1, 2] };
  const event = createEnvelopeEvent("a", "1", sent);
  (event.detail as unknown as Record<string, unknown>).secret = "not delivered";
  target.dispatchEvent(event);
  deepEqual(received, [
    { type: "a", id: "1", payload: { when: "1970-01-01T00:00:00.000Z", nan: null, list: [1, 2] } },
  ]);
  const payload = received[0].payload as { list: number[] };
  notEqual(received[0], event.detail);
  payload.list.push(3);
  deepEqual(sent.list, [1, 2]);
  equal(sent.when instanceof Date, true);
});

Deno.test("createInProcessEventTarget() makes one copy per dispatch, so a second dispatch is untouched", () => {
  const target = createInProcessEventTarget();
  const received = collect<EventEnvelope<string, { n: number }>>(target, "a:*");
  const event = createEnvelopeEvent("a", "1", { n: 1 });
  target.dispatchEvent(event);
  received[0].payload.n = 99;
  target.dispatchEvent(event);
  deepEqual(received.map((e) => e.payload.n), [99, 1]);
});

Deno.test("createInProcessEventTarget() marks envelope events with a null source", () => {
  const target = createInProcessEventTarget();
  let source: unknown = "unset";
  target.addEventListener("a:1", (event) => (source = event.source));
  target.dispatchEvent(createEnvelopeEvent("a", "1", null));
  equal(source, null);
});

Deno.test("createInProcessEventTarget() honours once, removeEventListener and handleEvent objects", () => {
  const target = createInProcessEventTarget();
  const calls: string[] = [];
  const handler = {
    name: "object",
    handleEvent() {
      calls.push(this.name);
    },
  };
  target.addEventListener("a:1", () => calls.push("every"));
  target.addEventListener("a:1", handler);
  target.addEventListener("a:1", () => calls.push("once"), { once: true });
  const removed = () => calls.push("removed");
  target.addEventListener("a:1", removed);
  target.removeEventListener("a:1", removed);
  target.dispatchEvent(createEnvelopeEvent("a", "1", null));
  target.dispatchEvent(createEnvelopeEvent("a", "1", null));
  deepEqual(calls, ["every", "object", "once", "every", "object"]);
});

Deno.test("createInProcessEventTarget() validates like the WebSocket targets and delivers nothing it refuses", async (t) => {
  const target = createInProcessEventTarget();
  const arrived = collect(target, "*");
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  const bad: [string, Event, RegExp][] = [
    ["a plain Event", new Event("a:1"), /invalid envelope in 'detail'/],
    ["no type", new CustomEvent("x:1", { detail: { id: "1" } }), /'type' must be a string/],
    [
      "an empty type",
      new CustomEvent(":1", { detail: { type: "", id: "1" } }),
      /must not be empty/,
    ],
    [
      "':' in type",
      new CustomEvent("a:b:1", { detail: { type: "a:b", id: "1" } }),
      /must not contain ':'/,
    ],
    ["'*' as id", new CustomEvent("a:*", { detail: { type: "a", id: "*" } }), /must not be '\*'/],
    [
      "a number id",
      new CustomEvent("a:1", { detail: { type: "a", id: 1 } }),
      /'id' must be a string/,
    ],
    [
      "a wrong event type",
      new CustomEvent("a:2", { detail: { type: "a", id: "1" } }),
      /must be the envelope's topic "a:1"/,
    ],
    [
      "a BigInt payload",
      new CustomEvent("a:1", { detail: { type: "a", id: "1", payload: 1n } }),
      /JSON cannot encode the payload/,
    ],
    [
      "a cyclic payload",
      new CustomEvent("a:1", { detail: { type: "a", id: "1", payload: cycle } }),
      /JSON cannot encode the payload/,
    ],
  ];
  for (const [name, event, message] of bad) {
    await t.step(`refuses ${name} with a TypeError`, () => {
      throws(
        () => target.dispatchEvent(event as AnyEnvelopeEvent),
        (error: Error) => error instanceof TypeError && message.test(error.message),
      );
    });
  }
  equal(arrived.length, 0);
});

Deno.test("createInProcessEventTarget() fires close once, then throws on dispatch", () => {
  const target = createInProcessEventTarget();
  const closes = collect<CloseDetail>(target, "close");
  const arrived = collect(target, "*");
  target.close();
  target.close();
  deepEqual(closes, [{ code: 1000, reason: "", wasClean: true, unsent: 0 }]);
  throws(
    () => target.dispatchEvent(createEnvelopeEvent("a", "1", null)),
    (error: Error) =>
      error.constructor === Error &&
      error.message === 'Cannot dispatch "a:1": the connection is closed',
  );
  // Validation comes first, even on a closed target.
  throws(
    () => target.dispatchEvent(new CustomEvent("a:*", { detail: { type: "a", id: "*" } }) as never),
    TypeError,
  );
  equal(arrived.length, 0);
});

Deno.test("createInProcessEventTarget() types listeners and dispatches from an event map", () => {
  type Events = EnvelopeEvents<{ "job.run": { n: number }; "job.done": string }>;
  const target = createInProcessEventTarget<Events>();
  const seen: number[] = [];
  target.addEventListener("job.run:1", (event) => seen.push(event.detail.payload.n));
  target.addEventListener("job.run:*", (event) => seen.push(event.detail.payload.n * 10));
  target.addEventListener("close", (event) => seen.push(event.detail.code));
  // @ts-expect-error: job.done carries a string, not a number
  target.addEventListener("job.done:*", (event) => seen.push(event.detail.payload.n));
  // @ts-expect-error: no such envelope type
  target.addEventListener("job.nope:*", () => {});
  // @ts-expect-error: the payload of job.run is { n: number }
  throws(() => target.dispatchEvent(createEnvelopeEvent("job.run", "1", { n: 1n })), TypeError);
  target.dispatchEvent(createEnvelopeEvent("job.run", "1", { n: 2 }));
  target.close();
  deepEqual(seen, [2, 20, 1000]);
});
