// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// Targets fire a received envelope only under the names someone listens to
// (a hub's spokes often have none). These tests pin down that nothing a
// listener could hear is skipped: late listeners, listeners added while an
// envelope is fired, `once`, removal, and more names than are tracked.

import { deepEqual } from "node:assert/strict";
import { createEnvelopeEvent, type EventEnvelope } from "../envelope.ts";
import { collect, settle, startHub, until } from "./_helpers.ts";

Deno.test("a spoke target with no listener at first hears envelopes once a listener is added", async () => {
  await using t = startHub();
  const { spoke } = await t.connect();
  t.hub.dispatchEvent(createEnvelopeEvent("job.done", "1", 1));
  await settle();
  const seen = collect<EventEnvelope>(spoke, "job.done:*");
  t.hub.dispatchEvent(createEnvelopeEvent("job.done", "2", 2));
  await until(() => seen.length === 1, "the second envelope arrives");
  deepEqual(seen.map((envelope) => envelope.id), ["2"]);
});

Deno.test("a hub's spoke target hears what its spoke sends once a listener is added to it", async () => {
  await using t = startHub();
  const { spoke, onHub } = await t.connect();
  const onHubSeen = collect<EventEnvelope>(onHub, "*");
  const hubSeen = collect<EventEnvelope>(t.hub, "job.run:1");
  spoke.dispatchEvent(createEnvelopeEvent("job.run", "1", null));
  await until(() => onHubSeen.length === 1 && hubSeen.length === 1, "the envelope reaches both");
});

Deno.test("a listener added while an envelope is fired hears that envelope's later names", async () => {
  await using t = startHub();
  const { spoke } = await t.connect();
  const order: string[] = [];
  spoke.addEventListener("job.done:7", () => {
    order.push("job.done:7");
    spoke.addEventListener("job.done:*", () => order.push("job.done:*"), { once: true });
    spoke.addEventListener("*", () => order.push("*"), { once: true });
  }, { once: true });
  t.hub.dispatchEvent(createEnvelopeEvent("job.done", "7", null));
  await until(() => order.length === 3, "all three names fire");
  deepEqual(order, ["job.done:7", "job.done:*", "*"]);
});

Deno.test("a once listener fires once, and a listener added again after removal hears again", async () => {
  await using t = startHub();
  const { spoke } = await t.connect();
  const heard: string[] = [];
  spoke.addEventListener("a:*", (event) => heard.push(`once ${event.detail.id}`), { once: true });
  t.hub.dispatchEvent(createEnvelopeEvent("a", "1", null));
  t.hub.dispatchEvent(createEnvelopeEvent("a", "2", null));
  await until(() => heard.length === 1, "the once listener fires");
  const listener = (event: CustomEvent<EventEnvelope>) => heard.push(`again ${event.detail.id}`);
  spoke.addEventListener("a:*", listener);
  spoke.removeEventListener("a:*", listener);
  spoke.addEventListener("a:*", listener);
  t.hub.dispatchEvent(createEnvelopeEvent("a", "3", null));
  await until(() => heard.length === 2, "the listener added again fires");
  await settle();
  deepEqual(heard, ["once 1", "again 3"]);
});

Deno.test("a target with listeners under a hundred names still fires every one of them", async () => {
  await using t = startHub();
  const { spoke } = await t.connect();
  const heard = new Set<string>();
  for (let i = 0; i < 100; i++) {
    spoke.addEventListener(`job.done:${i}`, (event) => heard.add(event.type));
  }
  spoke.addEventListener("other:*", (event) => heard.add(event.type));
  for (let i = 0; i < 100; i++) t.hub.dispatchEvent(createEnvelopeEvent("job.done", `${i}`, i));
  t.hub.dispatchEvent(createEnvelopeEvent("other", "x", null));
  await until(() => heard.size === 101, "every name fires");
});
