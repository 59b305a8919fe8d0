// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// The generics as a user meets them. `deno test` type-checks this file first:
// a `@ts-expect-error` line that compiles, or a typed line that does not,
// fails the run before any test starts. Each test also runs, on real targets.

import { deepEqual, equal } from "node:assert/strict";
import type { ConnectionEventTarget } from "../client.ts";
import {
  type CloseDetail,
  createEnvelopeEvent,
  type EnvelopeEvents,
  type ErrorDetail,
  type EventEnvelope,
} from "../envelope.ts";
import { createInProcessEventTarget } from "../in_process.ts";
import { nextEvent, startHub, until } from "./_helpers.ts";

type Events = EnvelopeEvents<{
  "call.responded": { output: number };
  "job.run": { n: number };
}>;

/** `true` only when `A` and `B` are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;
/** Compiles only when given `true`: `expectType<Equal<typeof x, number>>(true)`. */
function expectType<T extends true>(_: T): void {}

Deno.test("EnvelopeEvents types the detail that a topic listener sees", () => {
  const target = createInProcessEventTarget<Events>();
  const outputs: number[] = [];
  target.addEventListener("call.responded:1", (event) => {
    expectType<Equal<typeof event.detail.payload, { output: number }>>(true);
    expectType<Equal<typeof event.detail.type, "call.responded">>(true);
    const output: number = event.detail.payload.output;
    outputs.push(output);
  });
  target.dispatchEvent(createEnvelopeEvent("call.responded", "1", { output: 42 }));
  target.dispatchEvent(createEnvelopeEvent("call.responded", "2", { output: 7 }));
  deepEqual(outputs, [42]);
});

Deno.test("EnvelopeEvents lets <type>:*, *, open, close and error listeners compile without casts", () => {
  const target = createInProcessEventTarget<Events>();
  const seen: string[] = [];
  target.addEventListener("call.responded:*", (event) => {
    seen.push(`any id ${event.detail.id} ${event.detail.payload.output + 1}`);
  });
  target.addEventListener("*", ({ detail }) => {
    expectType<Equal<typeof detail.type, "call.responded" | "job.run">>(true);
    // The envelope's `type` tells the payload apart.
    if (detail.type === "job.run") seen.push(`job ${detail.payload.n * 2}`);
    else seen.push(`call ${detail.payload.output}`);
  });
  target.addEventListener("open", (event) => {
    expectType<Equal<typeof event, Event>>(true);
  });
  target.addEventListener("close", (event) => {
    expectType<Equal<typeof event.detail, CloseDetail>>(true);
    seen.push(`close ${event.detail.code} ${event.detail.wasClean} ${event.detail.unsent}`);
  });
  target.addEventListener("error", (event) => {
    const { reason, data }: ErrorDetail = event.detail;
    seen.push(`error ${reason} ${data}`);
  });
  target.addEventListener("job.run:*", {
    handleEvent: (event) => seen.push(`object ${event.detail.payload.n}`),
  });
  target.dispatchEvent(createEnvelopeEvent("call.responded", "5", { output: 1 }));
  target.dispatchEvent(createEnvelopeEvent("job.run", "6", { n: 21 }));
  target.close();
  deepEqual(seen, ["any id 5 2", "call 1", "object 21", "job 42", "close 1000 true 0"]);
});

Deno.test("EnvelopeEvents types event.source on a hub, so a reply to one spoke is checked too", async () => {
  await using t = startHub<Events>();
  const { spoke } = await t.connect();
  t.hub.addEventListener("call.responded:*", (event) => {
    expectType<Equal<typeof event.source, ConnectionEventTarget<Events>>>(true);
    const reply = createEnvelopeEvent("job.run", event.detail.id, {
      n: event.detail.payload.output * 2,
    });
    event.source.dispatchEvent(reply);
    const wrongReply = createEnvelopeEvent("job.run", "1", { n: "2" });
    // @ts-expect-error: a reply through source is checked against the map as well.
    const _sendWrong = () => event.source.dispatchEvent(wrongReply);
  });
  const hubErrors: ConnectionEventTarget<Events>[] = [];
  t.hub.addEventListener("error", (event) => hubErrors.push(event.source));
  const runs: EventEnvelope<"job.run", { n: number }>[] = [];
  spoke.addEventListener("job.run:*", (event) => runs.push(event.detail));
  spoke.dispatchEvent(createEnvelopeEvent("call.responded", "9", { output: 21 }));
  await until(() => runs.length === 1, "the reply");
  deepEqual(runs, [{ type: "job.run", id: "9", payload: { n: 42 } }]);
  equal(hubErrors.length, 0);
  const closed = nextEvent<CustomEvent<CloseDetail>>(spoke, "close");
  spoke.close(1000);
  equal((await closed).detail.code, 1000);
});

Deno.test("EnvelopeEvents makes a wrong payload, an unknown topic or a wrong property a compile error", () => {
  const target = createInProcessEventTarget<Events>();
  const outputs: unknown[] = [];
  target.addEventListener("call.responded:*", (event) => {
    outputs.push(event.detail.payload.output);
    // @ts-expect-error: the payload has no `result`.
    outputs.push(event.detail.payload.result);
    // @ts-expect-error: the envelope has no `topic`.
    outputs.push(event.detail.topic);
  });
  // @ts-expect-error: `output` must be a number.
  target.dispatchEvent(createEnvelopeEvent("call.responded", "1", { output: "42" }));
  // @ts-expect-error: the payload lacks `output`.
  target.dispatchEvent(createEnvelopeEvent("call.responded", "2", {}));
  // @ts-expect-error: "call.requested" is not in the map.
  target.dispatchEvent(createEnvelopeEvent("call.requested", "3", { output: 1 }));
  // @ts-expect-error: "call.requested" is not in the map.
  target.addEventListener("call.requested:1", () => {});
  // @ts-expect-error: a type alone, without an id or `*`, is no listener name.
  target.addEventListener("call.responded", () => {});
  // @ts-expect-error: `message` is none of this package's event names.
  target.addEventListener("message", () => {});
  // @ts-expect-error: a `job.run` listener does not see a `call.responded` payload.
  target.addEventListener("job.run:1", (event) => event.detail.payload.output);
  target.dispatchEvent(createEnvelopeEvent("call.responded", "4", { output: 4 }));
  // The lines above still ran: types do not change what goes over the wire.
  deepEqual(outputs, [
    "42",
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    4,
    undefined,
    undefined,
  ]);
});

Deno.test("EnvelopeEvents gives a key holding ':' no events, since it can never be a type", () => {
  const target = createInProcessEventTarget<EnvelopeEvents<{ "a:b": number; ok: string }>>();
  const seen: string[] = [];
  target.addEventListener("ok:1", (event) => seen.push(event.detail.payload));
  // @ts-expect-error "a:b" is no envelope type, so "a:b:1" names nothing.
  target.addEventListener("a:b:1", () => seen.push("never"));
  target.dispatchEvent(createEnvelopeEvent("ok", "1", "yes"));
  deepEqual(seen, ["yes"]);
});
