// Copyright 2026 the @alkdev/pubsub authors. MIT license.

import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import {
  type CloseDetail,
  createEnvelopeEvent,
  type EnvelopeEvents,
  type ErrorDetail,
  type EventEnvelope,
} from "../envelope.ts";
import { createPubSub } from "../pubsub.ts";
import { createWorkerEventTarget, type WorkerEventTarget } from "../worker.ts";
import { collect, nextEvent, settle, until, WAIT_MS } from "./_helpers.ts";

type Jobs = { "job.run": { n: number }; "job.done": { n: number } };

/** What the peer in the worker reports (tests/fixtures/worker_peer.ts). */
interface Report {
  heard: string[];
  errors: ErrorDetail[];
  closes: CloseDetail[];
  order: string[];
}

/** A tests/fixtures/worker_peer.ts worker serving `mode`, driven over its Worker. */
interface Peer extends AsyncDisposable {
  worker: Worker;
  /** This side's target over the Worker: commands and replies. */
  control: WorkerEventTarget;
  /** Runs a `do.<name>` command in the worker and returns its result. */
  command<T = unknown>(name: string, payload?: unknown): Promise<T>;
}

const CLEAN: CloseDetail = { code: 1000, reason: "", wasClean: true, unsent: 0 };
/** The maxMessageBytes of every target here and in the worker (tests/fixtures/worker_peer.ts). */
const LIMIT = 4096;

/** Starts a peer worker; with mode "port", `port` is the end it is given. */
async function startPeer(mode: string, port?: MessagePort): Promise<Peer> {
  const worker = new Worker(new URL("./fixtures/worker_peer.ts", import.meta.url), {
    type: "module",
    name: mode,
  });
  if (port) worker.postMessage({ port }, [port]);
  const control = createWorkerEventTarget(worker, { maxMessageBytes: LIMIT });
  await nextEvent(control, `ready:${mode}`);
  let sent = 0;
  return {
    worker,
    control,
    async command<T>(name: string, payload: unknown = null) {
      // A long raw value is sent trimmed and padded back in the worker: the command must fit LIMIT.
      const { value } = (payload ?? {}) as { value?: unknown };
      if (name === "raw" && typeof value === "string" && value.length > LIMIT / 2) {
        payload = { value: value.trimEnd(), pad: value.length - value.trimEnd().length };
      }
      const id = String(++sent);
      const reply = nextEvent<CustomEvent<EventEnvelope>>(control, `did.${name}:${id}`);
      control.dispatchEvent(createEnvelopeEvent(`do.${name}`, id, payload));
      return (await reply).detail.payload as T;
    },
    [Symbol.asyncDispose]() {
      control.close();
      worker.terminate();
      return Promise.resolve();
    },
  };
}

/** Both ends of a fresh MessageChannel as targets. */
function channelPair(options = { maxMessageBytes: LIMIT }) {
  const { port1, port2 } = new MessageChannel();
  const left = createWorkerEventTarget(port1, options);
  const right = createWorkerEventTarget(port2, options);
  return {
    port1,
    port2,
    left,
    right,
    [Symbol.dispose]() {
      left.close();
      right.close();
    },
  };
}

/** Bad input, the reason it is refused with, and whether JSON can carry it to a worker. */
const BAD: [string, unknown, RegExp][] = [
  ["non-JSON text", "hello", /^frame is not JSON$/],
  ["JSON that is not an object", "[1,2]", /an envelope must be an object/],
  ["a missing id", '{"type":"a"}', /'id' must be a string/],
  ["':' in type", '{"type":"a:b","id":"1"}', /must not contain ':'/],
  [
    "text over maxMessageBytes",
    '{"type":"a","id":"1"}' + " ".repeat(LIMIT),
    new RegExp(`larger than maxMessageBytes \\(${LIMIT} bytes\\)`),
  ],
  ["a posted object", { type: "a", id: "1" }, /message is not a string \(got Object\)/],
  ["a posted number", 7, /message is not a string \(got Number\)/],
  ["a posted null", null, /message is not a string \(got Null\)/],
];

Deno.test("createWorkerEventTarget() over a Worker and its self carries envelopes both ways, on type:id, type:*, then *", async () => {
  await using peer = await startPeer("self");
  const order: string[] = [];
  for (const name of ["order:1", "order:*", "*"] as const) {
    peer.control.addEventListener(name, ({ detail }) => {
      if (detail.type === "order") order.push(name);
    });
  }
  await peer.command("publish", { type: "order", id: "1", payload: null });
  await until(() => order.length === 3, "the worker's envelope reaches three listeners");
  deepEqual(order, ["order:1", "order:*", "*"]);

  peer.control.dispatchEvent(createEnvelopeEvent("order", "1", null));
  const report = await peer.command<Report>("report");
  deepEqual(report.order, ["order:1", "order:*", "*"]);
});

Deno.test("createWorkerEventTarget() over a Worker echoes nothing to the sender, on either side", async () => {
  await using peer = await startPeer("self");
  const mainHeard = collect<EventEnvelope>(peer.control, "*");
  peer.control.dispatchEvent(createEnvelopeEvent("ping", "1", null));
  await peer.command("publish", { type: "pong", id: "1", payload: null });
  await until(() => mainHeard.some((e) => e.type === "pong"), "the worker's pong");
  const { heard } = await peer.command<Report>("report");
  ok(heard.includes("ping:1"));
  ok(!heard.includes("pong:1"), "the worker heard its own envelope");
  ok(!mainHeard.some((e) => e.type === "ping"), "this side heard its own envelope");
});

Deno.test("createWorkerEventTarget() over a Worker reports bad messages from the worker as error events and keeps going", async (t) => {
  await using peer = await startPeer("self");
  const errors = collect<ErrorDetail>(peer.control, "error");
  const oks = collect<EventEnvelope>(peer.control, "ok:*");
  let sent = 0;
  for (const [name, value, reason] of BAD) {
    await t.step(`${name} fires error, then the next envelope arrives`, async () => {
      const before = errors.length;
      await peer.command("raw", { value });
      await peer.command("publish", { type: "ok", id: String(++sent), payload: null });
      await until(() => oks.length === sent, "the next valid envelope");
      equal(errors.length, before + 1);
      match(errors[before].reason, reason);
      equal(errors[before].data, typeof value === "string" ? value.slice(0, 256) : "");
    });
  }
});

Deno.test("createWorkerEventTarget() over the worker's self reports bad messages from this side and keeps going", async () => {
  await using peer = await startPeer("self");
  const sent: [unknown, RegExp][] = [
    ...BAD.map(([, value, reason]): [unknown, RegExp] => [value, reason]),
    [new Uint8Array([1, 2, 3]).buffer, /message is not a string \(got ArrayBuffer\)/],
    [new Map([[1, 2]]), /message is not a string \(got Map\)/],
  ];
  for (const [value] of sent) peer.worker.postMessage(value);
  peer.control.dispatchEvent(createEnvelopeEvent("ok", "1", null));
  const { errors, heard } = await peer.command<Report>("report");
  equal(errors.length, sent.length);
  sent.forEach(([, reason], i) => match(errors[i].reason, reason));
  ok(heard.includes("ok:1"));
});

// No runtime tested here (Deno, Node, Bun) fails to deserialize anything one
// thread posts to another, so `messageerror` is dispatched on the real port.
Deno.test("createWorkerEventTarget() over a Worker turns messageerror into an error event on both sides, and the next envelope arrives", async () => {
  await using peer = await startPeer("self");
  const errors = collect<ErrorDetail>(peer.control, "error");
  const oks = collect<EventEnvelope>(peer.control, "ok:*");
  peer.worker.dispatchEvent(new MessageEvent("messageerror"));
  deepEqual(errors, [{ reason: "messageerror: a message could not be deserialized", data: "" }]);
  await peer.command("publish", { type: "ok", id: "1", payload: null });
  await until(() => oks.length === 1, "the next envelope");

  await peer.command("messageerror");
  peer.control.dispatchEvent(createEnvelopeEvent("ok", "2", null));
  const report = await peer.command<Report>("report");
  deepEqual(report.errors, [{
    reason: "messageerror: a message could not be deserialized",
    data: "",
  }]);
  ok(report.heard.includes("ok:2"));
});

Deno.test("createWorkerEventTarget() over a Worker closes once, throws on send after close, and leaves the worker running", async () => {
  await using peer = await startPeer("self");
  const closes = collect<CloseDetail>(peer.control, "close");
  peer.control.close(4000, "done");
  peer.control.close();
  deepEqual(closes, [{ code: 4000, reason: "done", wasClean: true, unsent: 0 }]);
  equal(peer.control.state, "closed");
  throws(
    () => peer.control.dispatchEvent(createEnvelopeEvent("a", "1", null)),
    (error: Error) => error.constructor === Error && /the connection is closed/.test(error.message),
  );
  // The worker still answers below the library, and this target no longer listens.
  const heard = collect(peer.control, "*");
  const answer = nextEvent<MessageEvent>(peer.worker, "message");
  peer.worker.postMessage("status");
  const status = JSON.parse((await answer).data);
  equal(status.type, "status");
  await settle(50);
  deepEqual(heard, []);
});

Deno.test("createWorkerEventTarget() over the worker's self closes once and stops listening, and the worker runs on", async () => {
  await using peer = await startPeer("self");
  const { closes, threw } = await peer.command<{ closes: CloseDetail[]; threw: string }>("close");
  deepEqual(closes, [CLEAN]);
  match(threw, /Cannot dispatch "after:close": the connection is closed/);
  peer.control.dispatchEvent(createEnvelopeEvent("late", "1", null));
  const status = nextEvent<CustomEvent<EventEnvelope<string, Report>>>(peer.control, "status:1");
  peer.worker.postMessage("status");
  const report = (await status).detail.payload;
  ok(!report.heard.includes("late:1"), "the closed target still heard an envelope");
  deepEqual(report.errors, [], "the closed target refused the raw status text");
  deepEqual(report.closes, [CLEAN]);
});

Deno.test("createPubSub() over a Worker target runs jobs in the worker end to end", async () => {
  await using peer = await startPeer("self");
  const pubsub = createPubSub<Jobs>({ eventTarget: peer.control });
  const done = pubsub.subscribe("job.done");
  for (let n = 1; n <= 3; n++) pubsub.publish("job.run", String(n), { n });
  const results: string[] = [];
  for await (const { id, payload } of done) {
    results.push(`${id}=${payload.n}`);
    if (results.length === 3) break;
  }
  deepEqual(results, ["1=2", "2=4", "3=6"]);
});

Deno.test("createWorkerEventTarget() over a MessageChannel fires on type:id, type:*, then *, and echoes nothing", async () => {
  using pair = channelPair();
  const order: string[] = [];
  for (const name of ["job.done:7", "job.done:*", "*"] as const) {
    pair.right.addEventListener(name, (event) => order.push(`${name} ${event.detail.id}`));
  }
  const echoed = collect(pair.left, "*");
  pair.left.dispatchEvent(createEnvelopeEvent("job.done", "7", null));
  await until(() => order.length === 3, "three listeners hear it");
  deepEqual(order, ["job.done:7 7", "job.done:* 7", "* 7"]);
  await settle(50);
  deepEqual(echoed, []);
});

Deno.test("createWorkerEventTarget() over a MessageChannel keeps JSON's rules: a Date arrives as a string, a BigInt throws", async () => {
  using pair = channelPair();
  const arrived = collect<EventEnvelope>(pair.right, "*");
  const event = createEnvelopeEvent("a", "1", {
    at: new Date(0),
    nan: NaN,
    map: new Map([[1, 2]]),
  });
  (event.detail as unknown as Record<string, unknown>).secret = "not sent";
  pair.left.dispatchEvent(event);
  throws(
    () => pair.left.dispatchEvent(createEnvelopeEvent("a", "2", 1n)),
    (error: Error) => error instanceof TypeError && /JSON cannot encode/.test(error.message),
  );
  await until(() => arrived.length === 1, "the envelope arrives");
  await settle(50);
  deepEqual(arrived, [{
    type: "a",
    id: "1",
    payload: { at: "1970-01-01T00:00:00.000Z", nan: null, map: {} },
  }]);
});

Deno.test("createWorkerEventTarget() over a MessageChannel reports bad messages as error events and keeps going", async (t) => {
  using pair = channelPair();
  const errors = collect<ErrorDetail>(pair.right, "error");
  const oks = collect<EventEnvelope>(pair.right, "ok:*");
  const cases: [string, unknown, RegExp][] = [
    ...BAD,
    ["an ArrayBuffer", new Uint8Array([1, 2, 3]).buffer, /not a string \(got ArrayBuffer\)/],
    ["a Blob", new Blob(["x"]), /not a string \(got Blob\)/],
  ];
  let sent = 0;
  for (const [name, value, reason] of cases) {
    await t.step(`${name} fires error, then the next envelope arrives`, async () => {
      const before = errors.length;
      pair.port1.postMessage(value);
      pair.left.dispatchEvent(createEnvelopeEvent("ok", String(++sent), null));
      await until(() => oks.length === sent, "the next valid envelope");
      equal(errors.length, before + 1);
      match(errors[before].reason, reason);
    });
  }
  await t.step("messageerror fires error, then the next envelope arrives", async () => {
    const before = errors.length;
    pair.port2.dispatchEvent(new MessageEvent("messageerror"));
    pair.left.dispatchEvent(createEnvelopeEvent("ok", String(++sent), null));
    await until(() => oks.length === sent, "the next valid envelope");
    deepEqual(errors.slice(before), [{
      reason: "messageerror: a message could not be deserialized",
      data: "",
    }]);
  });
});

Deno.test("createWorkerEventTarget() over a MessageChannel accepts a message of exactly maxMessageBytes", async () => {
  const frame = JSON.stringify({ type: "a", id: "1", payload: "é".repeat(40) });
  using pair = channelPair({ maxMessageBytes: new TextEncoder().encode(frame).length });
  const arrived = collect<EventEnvelope>(pair.right, "*");
  const errors = collect<ErrorDetail>(pair.right, "error");
  pair.port1.postMessage(frame);
  pair.port1.postMessage(JSON.stringify({ type: "a", id: "2", payload: "é".repeat(40) + "x" }));
  pair.port1.postMessage(JSON.stringify({ type: "done", id: "1" }));
  await until(() => arrived.length === 2, "the fitting message and the marker");
  deepEqual(arrived.map((e) => e.id), ["1", "1"]);
  equal(errors.length, 1);
});

Deno.test("createWorkerEventTarget() over a MessageChannel closes each end once, and sends after close throw", async () => {
  using pair = channelPair();
  const leftCloses = collect<CloseDetail>(pair.left, "close");
  const rightCloses = collect<CloseDetail>(pair.right, "close");
  const arrived = collect(pair.right, "*");
  pair.left.close();
  pair.left.close();
  deepEqual(leftCloses, [CLEAN]);
  throws(
    () => pair.left.dispatchEvent(createEnvelopeEvent("a", "1", null)),
    /connection is closed/,
  );
  // The port itself is closed: what is posted on it goes nowhere.
  pair.port1.postMessage(JSON.stringify({ type: "a", id: "2" }));
  pair.right.close(4001, "bye");
  deepEqual(rightCloses, [{ code: 4001, reason: "bye", wasClean: true, unsent: 0 }]);
  throws(
    () => pair.right.dispatchEvent(createEnvelopeEvent("a", "3", null)),
    /connection is closed/,
  );
  await settle(50);
  deepEqual(arrived, []);
  equal(pair.left.state, "closed");
});

Deno.test("createWorkerEventTarget() over a BroadcastChannel stops listening on close, and posting on the channel then throws", () => {
  const channel = new BroadcastChannel(`test-${crypto.randomUUID()}`);
  const target = createWorkerEventTarget(channel);
  equal(target.state, "open");
  target.close();
  throws(() => channel.postMessage("x"), /closed/i);
});

Deno.test("createWorkerEventTarget() rejects a maxMessageBytes that is not a positive integer", () => {
  const { port1, port2 } = new MessageChannel();
  throws(
    () => createWorkerEventTarget(port1, { maxMessageBytes: 0 }),
    (error: Error) =>
      error instanceof RangeError &&
      error.message === "'maxMessageBytes' must be a positive integer: got 0",
  );
  port1.close();
  port2.close();
});

Deno.test("createWorkerEventTarget() over a MessagePort sent to a worker carries envelopes both ways", async () => {
  const { port1, port2 } = new MessageChannel();
  await using peer = await startPeer("port", port2);
  const target = createWorkerEventTarget(port1, { maxMessageBytes: LIMIT });
  const order: string[] = [];
  for (const name of ["order:1", "order:*", "*"] as const) {
    target.addEventListener(name, ({ detail }) => {
      if (detail.type === "order") order.push(name);
    });
  }
  const controlHeard = collect<EventEnvelope>(peer.control, "order:*");
  await peer.command("publish", { type: "order", id: "1", payload: null });
  await until(() => order.length === 3, "the worker's envelope on the port");
  deepEqual(order, ["order:1", "order:*", "*"]);
  deepEqual(controlHeard, [], "the envelope went over the port, not the Worker");

  target.dispatchEvent(createEnvelopeEvent("order", "1", null));
  const errors = collect<ErrorDetail>(target, "error");
  await peer.command("raw", { value: { type: "a", id: "1" } });
  const arrived = nextEvent(target, "ok:1");
  await peer.command("publish", { type: "ok", id: "1", payload: null });
  await arrived;
  match(errors[0].reason, /not a string \(got Object\)/);

  const report = await peer.command<Report>("report");
  deepEqual(report.order, ["order:1", "order:*", "*"]);
  ok(!report.heard.includes("ok:1"), "the worker heard its own envelope");

  const pubsub = createPubSub<Jobs>({ eventTarget: target });
  const done = pubsub.subscribe("job.done", "9");
  pubsub.publish("job.run", "9", { n: 21 });
  deepEqual((await done.next()).value, { type: "job.done", id: "9", payload: { n: 42 } });
  await done.return();

  const closed = await peer.command<{ closes: CloseDetail[]; threw: string }>("close");
  deepEqual(closed.closes, [CLEAN]);
  match(closed.threw, /the connection is closed/);
  target.close();
});

Deno.test("createWorkerEventTarget() over a BroadcastChannel carries envelopes between two workers", async () => {
  const mode = `broadcast:test-${crypto.randomUUID()}`;
  await using a = await startPeer(mode);
  await using b = await startPeer(mode);

  await a.command("publish", { type: "order", id: "1", payload: null });
  await eventually(
    async () => (await b.command<Report>("report")).order.length === 3,
    "b hears it",
  );
  deepEqual((await b.command<Report>("report")).order, ["order:1", "order:*", "*"]);
  deepEqual((await a.command<Report>("report")).heard, [], "a heard its own envelope");

  // createPubSub in b asks, a's createPubSub answers.
  deepEqual(await b.command("request", { n: 21 }), { n: 42 });
  deepEqual(await a.command("request", { n: 5 }), { n: 10 });

  for (const [, value] of BAD) await a.command("raw", { value });
  await a.command("publish", { type: "ok", id: "1", payload: null });
  await eventually(
    async () => (await b.command<Report>("report")).heard.includes("ok:1"),
    "b hears ok",
  );
  await b.command("messageerror");
  const { errors } = await b.command<Report>("report");
  equal(errors.length, BAD.length + 1);
  BAD.forEach(([, , reason], i) => match(errors[i].reason, reason));
  equal(errors[BAD.length].reason, "messageerror: a message could not be deserialized");

  const closed = await a.command<{ closes: CloseDetail[]; threw: string }>("close");
  deepEqual(closed.closes, [CLEAN]);
  match(closed.threw, /the connection is closed/);
  await b.command("publish", { type: "late", id: "1", payload: null });
  const status = nextEvent<CustomEvent<EventEnvelope<string, Report>>>(a.control, "status:1");
  a.worker.postMessage("status");
  ok(!(await status).detail.payload.heard.includes("late:1"), "a heard after close");
});

Deno.test("createWorkerEventTarget() types listeners by the event map", () => {
  const { port1, port2 } = new MessageChannel();
  const typed = createWorkerEventTarget<EnvelopeEvents<Jobs>>(port1);
  typed.addEventListener("job.done:*", (event) => {
    const n: number = event.detail.payload.n;
    return n;
  });
  // @ts-expect-error: a name that is no topic, wildcard or lifecycle name
  typed.addEventListener("job.typo", () => {});
  // @ts-expect-error: the payload of job.run is { n: number }
  typed.dispatchEvent(createEnvelopeEvent("job.run", "1", { n: "one" }));
  typed.close();
  port2.close();
});

/** Waits until an asynchronous check holds. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${WAIT_MS} ms waiting until ${what}`);
    }
    await settle(10);
  }
}
