// Copyright 2026 the @alkdev/pubsub authors. MIT license.

import { deepEqual, equal, rejects, throws } from "node:assert/strict";
import { createWebSocketClientEventTarget } from "../client.ts";
import type { EnvelopeEvents, EventEnvelope } from "../envelope.ts";
import { createInProcessEventTarget } from "../in_process.ts";
import { createPubSub, type Subscription } from "../pubsub.ts";
import { createWebSocketServerEventTarget } from "../server.ts";
import { nextEvent, startHub, within } from "./_helpers.ts";

type Jobs = {
  "job.run": { n: number };
  "job.done": { n: number };
  "job.note": string | undefined;
};
type JobEvents = EnvelopeEvents<Jobs>;

/** Spies on `target`'s add/removeEventListener and counts the listeners left, by name. */
function listenersOf(target: EventTarget): () => Record<string, number> {
  const live: Record<string, number> = {};
  const add = target.addEventListener.bind(target);
  const remove = target.removeEventListener.bind(target);
  target.addEventListener = (name, listener, options) => {
    live[name] = (live[name] ?? 0) + 1;
    add(name, listener, options);
  };
  target.removeEventListener = (name, listener, options) => {
    live[name] -= 1;
    if (live[name] === 0) delete live[name];
    remove(name, listener, options);
  };
  return () => ({ ...live });
}

/** Reads `count` envelopes, failing if they do not come in time. */
async function take<T>(sub: Subscription<T>, count: number): Promise<T[]> {
  const got: T[] = [];
  while (got.length < count) {
    const result = await within(sub.next(), `envelope ${got.length + 1} of ${count}`);
    if (result.done) throw new Error(`the subscription ended after ${got.length} envelopes`);
    got.push(result.value);
  }
  return got;
}

// In process

Deno.test("createPubSub() delivers what it publishes to the subscriber of that type and id only", async () => {
  const pubsub = createPubSub<Jobs>();
  const seven = pubsub.subscribe("job.done", "7");
  pubsub.publish("job.done", "8", { n: 8 });
  pubsub.publish("job.run", "7", { n: 0 });
  pubsub.publish("job.done", "7", { n: 7 });
  deepEqual(await take(seven, 1), [{ type: "job.done", id: "7", payload: { n: 7 } }]);
  await seven.return();
});

Deno.test("createPubSub() delivers every id of a type when subscribe() is given no id", async () => {
  const pubsub = createPubSub<Jobs>();
  const runs = pubsub.subscribe("job.run");
  pubsub.publish("job.run", "a", { n: 1 });
  pubsub.publish("job.done", "a", { n: 0 });
  pubsub.publish("job.run", "b", { n: 2 });
  deepEqual(await take(runs, 2), [
    { type: "job.run", id: "a", payload: { n: 1 } },
    { type: "job.run", id: "b", payload: { n: 2 } },
  ]);
  await runs.return();
});

Deno.test("createPubSub() keeps envelopes published after subscribe() and before the first next()", async () => {
  const pubsub = createPubSub<Jobs>();
  const runs = pubsub.subscribe("job.run");
  for (let n = 0; n < 5; n++) pubsub.publish("job.run", String(n), { n });
  deepEqual((await take(runs, 5)).map((e) => e.payload.n), [0, 1, 2, 3, 4]);
  await runs.return();
});

Deno.test("createPubSub() resolves next() calls waiting in line, in order", async () => {
  const pubsub = createPubSub<Jobs>();
  const runs = pubsub.subscribe("job.run");
  const waiting = [runs.next(), runs.next(), runs.next()];
  pubsub.publish("job.run", "a", { n: 1 });
  pubsub.publish("job.run", "b", { n: 2 });
  pubsub.publish("job.run", "c", { n: 3 });
  const results = await within(Promise.all(waiting), "three envelopes");
  deepEqual(results.map((r) => r.value?.id), ["a", "b", "c"]);
  await runs.return();
});

Deno.test("createPubSub() delivers a JSON copy, as a wire would", async () => {
  const pubsub = createPubSub<Record<string, unknown>>();
  const sub = pubsub.subscribe("at", "1");
  const sent = { when: new Date(0) };
  pubsub.publish("at", "1", sent);
  const [got] = await take(sub, 1);
  deepEqual(got.payload, { when: "1970-01-01T00:00:00.000Z" });
  await sub.return();
});

Deno.test("publish() throws what the target refuses, and nothing is delivered", () => {
  const target = createInProcessEventTarget<JobEvents>();
  const pubsub = createPubSub<Jobs>({ eventTarget: target });
  const untyped = createPubSub({ eventTarget: target });
  const everything = listenersOf(target);
  const delivered: unknown[] = [];
  target.addEventListener("*", (event) => delivered.push(event.detail));
  throws(() => pubsub.publish("job.run", "*", { n: 1 }), /Invalid envelope: 'id' must not be '\*'/);
  throws(() => pubsub.publish("job.run", "", { n: 1 }), TypeError);
  throws(() => untyped.publish("job:run", "1", 1), /'type' must not contain ':'/);
  throws(() => untyped.publish("job.run", "1", { n: 1n }), /JSON cannot encode the payload/);
  target.close();
  throws(
    () => pubsub.publish("job.run", "1", { n: 1 }),
    (error: Error) =>
      error.constructor === Error && /"job.run:1": the connection is closed/.test(error.message),
  );
  deepEqual(delivered, []);
  deepEqual(everything(), { "*": 1 });
});

Deno.test("subscribe() refuses an invalid type or id and a bad maxQueued, and adds no listener", () => {
  const target = createInProcessEventTarget();
  const live = listenersOf(target);
  const pubsub = createPubSub({ eventTarget: target });
  throws(
    () => pubsub.subscribe("job:run"),
    (error: Error) =>
      error instanceof TypeError &&
      error.message === `Cannot subscribe: 'type' must not contain ':' (got "job:run")`,
  );
  throws(() => pubsub.subscribe(""), /Cannot subscribe: 'type' must not be empty/);
  throws(() => pubsub.subscribe("job.run", "*"), /Cannot subscribe: 'id' must not be '\*'/);
  throws(() => pubsub.subscribe("job.run", ""), /Cannot subscribe: 'id' must not be empty/);
  for (const maxQueued of [0, -1, 1.5, NaN]) {
    throws(
      () => pubsub.subscribe("job.run", undefined, { maxQueued }),
      (error: Error) =>
        error instanceof RangeError &&
        error.message === `'maxQueued' must be a positive integer: got ${maxQueued}`,
    );
  }
  deepEqual(live(), {});
});

Deno.test("subscribe() ends on break and removes every listener it added", async () => {
  const target = createInProcessEventTarget<JobEvents>();
  const controller = new AbortController();
  const onTarget = listenersOf(target);
  const onSignal = listenersOf(controller.signal);
  const pubsub = createPubSub<Jobs>({ eventTarget: target });
  const runs = pubsub.subscribe("job.run", undefined, { signal: controller.signal });
  deepEqual(onTarget(), { "job.run:*": 1, close: 1 });
  deepEqual(onSignal(), { abort: 1 });
  pubsub.publish("job.run", "a", { n: 1 });
  pubsub.publish("job.run", "b", { n: 2 });
  const seen: string[] = [];
  for await (const run of runs) {
    seen.push(run.id);
    break;
  }
  deepEqual(seen, ["a"]);
  deepEqual(onTarget(), {});
  deepEqual(onSignal(), {});
  // Ended at once: what was held is gone, and what comes later is not buffered.
  pubsub.publish("job.run", "c", { n: 3 });
  deepEqual(await runs.next(), { value: undefined, done: true });
});

Deno.test("subscribe() removes its listeners when the loop body throws", async () => {
  const target = createInProcessEventTarget<JobEvents>();
  const live = listenersOf(target);
  const pubsub = createPubSub<Jobs>({ eventTarget: target });
  const runs = pubsub.subscribe("job.run", "1");
  pubsub.publish("job.run", "1", { n: 1 });
  await rejects(async () => {
    for await (const _ of runs) throw new Error("consumer failed");
  }, /consumer failed/);
  deepEqual(live(), {});
});

Deno.test("subscribe() ends at once on return(), with a next() pending or envelopes held", async () => {
  const target = createInProcessEventTarget<JobEvents>();
  const live = listenersOf(target);
  const pubsub = createPubSub<Jobs>({ eventTarget: target });

  const waiting = pubsub.subscribe("job.run");
  const pending = waiting.next();
  deepEqual(await waiting.return(), { value: undefined, done: true });
  deepEqual(await within(pending, "the pending next() to end"), { value: undefined, done: true });

  const holding = pubsub.subscribe("job.run");
  pubsub.publish("job.run", "a", { n: 1 });
  await holding.return();
  deepEqual(await holding.next(), { value: undefined, done: true });

  deepEqual(live(), {});
  pubsub.publish("job.run", "b", { n: 2 });
  deepEqual(await waiting.next(), { value: undefined, done: true });
});

Deno.test("subscribe() ends at once when its signal aborts, and removes every listener", async () => {
  const target = createInProcessEventTarget<JobEvents>();
  const controller = new AbortController();
  const onTarget = listenersOf(target);
  const onSignal = listenersOf(controller.signal);
  const pubsub = createPubSub<Jobs>({ eventTarget: target });
  const waiting = pubsub.subscribe("job.run", undefined, { signal: controller.signal });
  const holding = pubsub.subscribe("job.done", "1", { signal: controller.signal });
  pubsub.publish("job.done", "1", { n: 1 });
  const pending = waiting.next();
  controller.abort();
  deepEqual(await within(pending, "the pending next() to end"), { value: undefined, done: true });
  deepEqual(await holding.next(), { value: undefined, done: true });
  deepEqual(onTarget(), {});
  deepEqual(onSignal(), {});
});

Deno.test("subscribe() with a signal aborted already ends at once and adds no listener", async () => {
  const target = createInProcessEventTarget<JobEvents>();
  const live = listenersOf(target);
  const pubsub = createPubSub<Jobs>({ eventTarget: target });
  const runs = pubsub.subscribe("job.run", undefined, { signal: AbortSignal.abort() });
  pubsub.publish("job.run", "a", { n: 1 });
  deepEqual(await runs.next(), { value: undefined, done: true });
  deepEqual(live(), {});
});

Deno.test("subscribe() delivers what it holds when the target closes, then ends", async () => {
  const target = createInProcessEventTarget<JobEvents>();
  const live = listenersOf(target);
  const pubsub = createPubSub<Jobs>({ eventTarget: target });
  const waiting = pubsub.subscribe("job.done");
  const pending = waiting.next();
  const runs = pubsub.subscribe("job.run");
  for (let n = 0; n < 3; n++) pubsub.publish("job.run", String(n), { n });
  target.close();
  deepEqual(live(), {});
  deepEqual(await within(pending, "the pending next() to end"), { value: undefined, done: true });
  const seen: number[] = [];
  for await (const run of runs) seen.push(run.payload.n);
  deepEqual(seen, [0, 1, 2]);
});

Deno.test("subscribe() holds up to maxQueued envelopes for a busy consumer and loses none", async () => {
  const pubsub = createPubSub<Jobs>();
  const runs = pubsub.subscribe("job.run");
  for (let n = 0; n < 1024; n++) pubsub.publish("job.run", String(n), { n });
  const got = await take(runs, 1024);
  deepEqual(got.map((e) => e.payload.n), Array.from({ length: 1024 }, (_, n) => n));
  await runs.return();
});

Deno.test("subscribe() past maxQueued delivers what it held, then throws a clear error", async () => {
  const target = createInProcessEventTarget<JobEvents>();
  const live = listenersOf(target);
  const pubsub = createPubSub<Jobs>({ eventTarget: target });
  const runs = pubsub.subscribe("job.run", undefined, { maxQueued: 3 });
  for (let n = 0; n < 5; n++) pubsub.publish("job.run", String(n), { n });
  deepEqual(live(), {});
  const seen: number[] = [];
  await rejects(
    async () => {
      for await (const run of runs) seen.push(run.payload.n);
    },
    (error: Error) =>
      error.message ===
        'Subscription to "job.run:*" ended: more than 3 envelopes (maxQueued) arrived while the consumer was busy',
  );
  deepEqual(seen, [0, 1, 2]);
  deepEqual(await runs.next(), { value: undefined, done: true });
});

Deno.test("subscribe() types envelopes from the event map, and publish() checks payloads", async () => {
  const pubsub = createPubSub<Jobs>();
  const runs = pubsub.subscribe("job.run", "1");
  const notes = pubsub.subscribe("job.note");
  pubsub.publish("job.run", "1", { n: 2 });
  pubsub.publish("job.note", "1");
  pubsub.publish("job.note", "2", "hello");
  const run = (await runs.next()).value;
  if (run === undefined) throw new Error("no envelope");
  const typed: EventEnvelope<"job.run", { n: number }> = run;
  const n: number = run.payload.n;
  equal(n * typed.payload.n, 4);
  deepEqual((await take(notes, 2)).map((note) => note.payload), [undefined, "hello"]);

  throws(() => {
    // @ts-expect-error: job.run carries { n: number }
    pubsub.publish("job.run", "1", { n: "2" });
    // @ts-expect-error: job.run needs a payload
    pubsub.publish("job.run", "1");
    // @ts-expect-error: no such envelope type
    pubsub.publish("job.nope", "1", { n: 1 });
    // @ts-expect-error: no such envelope type
    pubsub.subscribe("job.nope");
    // @ts-expect-error: the payload has no such field
    run.payload.m;
    throw new Error("type checks only");
  }, /type checks only/);
  await runs.return();
  await notes.return();
});

// Across a real hub and spokes

Deno.test("createPubSub() on a spoke sees what the hub publishes", async () => {
  await using t = startHub<JobEvents>();
  const { spoke } = await t.connect();
  const onSpoke = createPubSub<Jobs>({ eventTarget: spoke });
  const fromHub = createPubSub<Jobs>({ eventTarget: t.hub });
  const seven = onSpoke.subscribe("job.done", "7");
  const all = onSpoke.subscribe("job.done");
  fromHub.publish("job.done", "6", { n: 6 });
  fromHub.publish("job.done", "7", { n: 7 });
  deepEqual(await take(seven, 1), [{ type: "job.done", id: "7", payload: { n: 7 } }]);
  deepEqual((await take(all, 2)).map((e) => e.id), ["6", "7"]);
  await seven.return();
  await all.return();
});

Deno.test("createPubSub() on the hub sees every spoke's requests", async () => {
  await using t = startHub<JobEvents>();
  const a = await t.connect();
  const b = await t.connect();
  const hub = createPubSub<Jobs>({ eventTarget: t.hub });
  const runs = hub.subscribe("job.run");
  createPubSub<Jobs>({ eventTarget: a.spoke }).publish("job.run", "a1", { n: 1 });
  createPubSub<Jobs>({ eventTarget: b.spoke }).publish("job.run", "b1", { n: 2 });
  createPubSub<Jobs>({ eventTarget: a.spoke }).publish("job.run", "a2", { n: 3 });
  const got = await take(runs, 3);
  deepEqual(got.map((e) => e.id).sort(), ["a1", "a2", "b1"]);
  // One spoke's envelopes keep their order.
  deepEqual(got.filter((e) => e.id.startsWith("a")).map((e) => e.id), ["a1", "a2"]);
  t.hub.close();
  deepEqual(await within(runs.next(), "the end on hub close"), { value: undefined, done: true });
});

Deno.test("createPubSub() on one spoke's hub-side target replies to that spoke alone", async () => {
  await using t = startHub<JobEvents>();
  const a = await t.connect();
  const b = await t.connect();
  const doneA = createPubSub<Jobs>({ eventTarget: a.spoke }).subscribe("job.done");
  const doneB = createPubSub<Jobs>({ eventTarget: b.spoke }).subscribe("job.done");
  // A reply through the target that a hub listener's event names as its source.
  t.hub.addEventListener("job.run:*", ({ detail, source }) => {
    createPubSub<Jobs>({ eventTarget: source }).publish("job.done", detail.id, {
      n: detail.payload.n * 2,
    });
  });
  createPubSub<Jobs>({ eventTarget: a.spoke }).publish("job.run", "r1", { n: 21 });
  deepEqual(await take(doneA, 1), [{ type: "job.done", id: "r1", payload: { n: 42 } }]);
  // A reply through the target the hub handed out for the spoke.
  createPubSub<Jobs>({ eventTarget: b.onHub }).publish("job.done", "r2", { n: 2 });
  // Then a fan-out to both: each spoke's next envelope shows what it got before.
  createPubSub<Jobs>({ eventTarget: t.hub }).publish("job.done", "all", { n: 0 });
  deepEqual((await take(doneA, 1)).map((e) => e.id), ["all"]);
  deepEqual((await take(doneB, 2)).map((e) => e.id), ["r2", "all"]);
  await doneA.return();
  await doneB.return();
});

Deno.test("subscribe() on a spoke delivers what arrived before the connection closed, then ends", async () => {
  await using t = startHub<JobEvents>();
  const { spoke, onHub } = await t.connect();
  const closed = nextEvent(spoke, "close");
  const live = listenersOf(spoke);
  const runs = createPubSub<Jobs>({ eventTarget: spoke }).subscribe("job.run");
  const toSpoke = createPubSub<Jobs>({ eventTarget: onHub });
  for (let n = 0; n < 3; n++) toSpoke.publish("job.run", String(n), { n });
  onHub.close(1000, "done");
  await closed;
  deepEqual(live(), {});
  const seen: number[] = [];
  for await (const run of runs) seen.push(run.payload.n);
  deepEqual(seen, [0, 1, 2]);
});

Deno.test("subscribe() on a connection closed already ends at once", async () => {
  await using t = startHub<JobEvents>();
  const { spoke } = await t.connect();
  const closed = nextEvent(spoke, "close");
  spoke.close();
  await closed;
  const live = listenersOf(spoke);
  const runs = createPubSub<Jobs>({ eventTarget: spoke }).subscribe("job.run");
  deepEqual(await within(runs.next(), "the end"), { value: undefined, done: true });
  deepEqual(live(), {});
});

Deno.test("subscribe() on an in-process target or a hub closed already ends at once", async () => {
  const target = createInProcessEventTarget<JobEvents>();
  target.close();
  const hub = createWebSocketServerEventTarget<JobEvents>();
  hub.close();
  for (const eventTarget of [target, hub]) {
    const live = listenersOf(eventTarget);
    const runs = createPubSub<Jobs>({ eventTarget }).subscribe("job.run");
    deepEqual(await within(runs.next(), "the end"), { value: undefined, done: true });
    deepEqual(live(), {});
  }
});

Deno.test("publish() on a WebSocket client queues while connecting and throws past maxBufferedAmount or after close", async () => {
  await using t = startHub<JobEvents>();
  const ws = new WebSocket(t.url);
  const client = createWebSocketClientEventTarget<JobEvents>(ws, { maxBufferedAmount: 100 });
  const pubsub = createPubSub<Jobs>({ eventTarget: client });
  const runs = createPubSub<Jobs>({ eventTarget: t.hub }).subscribe("job.run");
  pubsub.publish("job.run", "1", { n: 1 });
  throws(
    () => pubsub.publish("job.note", "2", "x".repeat(100)),
    /more would pass maxBufferedAmount \(100\)/,
  );
  await nextEvent(client, "open");
  deepEqual(await take(runs, 1), [{ type: "job.run", id: "1", payload: { n: 1 } }]);
  const closed = nextEvent(client, "close");
  client.close();
  await closed;
  throws(() => pubsub.publish("job.run", "3", { n: 3 }), /the connection is closed/);
  await runs.return();
});
