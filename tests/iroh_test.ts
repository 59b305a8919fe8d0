// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// The iroh spoke and hub on real endpoints bound on 127.0.0.1 with relays off
// (see tests/_iroh.ts for how Deno loads @number0/iroh).

import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import type { ConnectionEventTarget } from "../client.ts";
import {
  type AnyEnvelopeEvent,
  type CloseDetail,
  createEnvelopeEvent,
  type EnvelopeEvents,
  type ErrorDetail,
  type EventEnvelope,
} from "../envelope.ts";
import { createIrohHubEventTarget } from "../iroh_hub.ts";
import { createIrohSpokeEventTarget } from "../iroh_spoke.ts";
import { createPubSub } from "../pubsub.ts";
import { collect, nextEvent, settle, until, within } from "./_helpers.ts";
import { ALPN, bindEndpoint, bytes, connectToRawHub, type Iroh, startIrohHub } from "./_iroh.ts";

type Spoke = ConnectionEventTarget;

const decoder = new TextDecoder();

// ---------------------------------------------------------------- spoke

Deno.test("createIrohSpokeEventTarget() writes each envelope as one line of JSON after an empty line that announces the stream", async () => {
  await using pair = await connectToRawHub();
  const event = createEnvelopeEvent("job.run", "1", { when: new Date(0), nan: NaN, text: "a\nb" });
  (event.detail as unknown as Record<string, unknown>).secret = "not sent";
  pair.spoke.dispatchEvent(event);
  pair.spoke.dispatchEvent(createEnvelopeEvent("job.run", "2", "é"));
  pair.spoke.close(1000, "done");
  // close() finishes the stream: the hub side can read it to its end.
  const wire = decoder.decode(
    new Uint8Array(await within(pair.stream.recv.readToEnd(1 << 20), "the stream's end")),
  );
  equal(
    wire,
    '\n{"type":"job.run","id":"1","payload":{"when":"1970-01-01T00:00:00.000Z","nan":null,"text":"a\\nb"}}\n' +
      '{"type":"job.run","id":"2","payload":"é"}\n',
  );
});

Deno.test("createIrohSpokeEventTarget() sends each dispatched envelope to the hub, in order", async () => {
  await using t = await startIrohHub();
  const { spoke } = await t.connect();
  const arrived = collect<EventEnvelope>(t.hub, "*");
  for (let i = 0; i < 500; i++) {
    equal(spoke.dispatchEvent(createEnvelopeEvent("job.run", String(i), { i })), true);
  }
  await until(() => arrived.length === 500, "every envelope arrives");
  deepEqual(
    arrived,
    Array.from({ length: 500 }, (_, i) => ({ type: "job.run", id: String(i), payload: { i } })),
  );
});

Deno.test("createIrohSpokeEventTarget() fires what arrives on type:id, type:*, then *, and scopes topics", async () => {
  await using t = await startIrohHub();
  const { spoke } = await t.connect();
  const order: string[] = [];
  for (const name of ["job.done:7", "job.done:*", "*"] as const) {
    spoke.addEventListener(name, (event) => {
      equal(event.source, spoke);
      order.push(`${name} ${event.detail.payload}`);
    });
  }
  t.hub.dispatchEvent(createEnvelopeEvent("job.done", "8", 1));
  t.hub.dispatchEvent(createEnvelopeEvent("job.run", "7", 2));
  t.hub.dispatchEvent(createEnvelopeEvent("job.done", "7", 3));
  await until(() => order.length === 6, "all three arrive");
  deepEqual(order, ["job.done:* 1", "* 1", "* 2", "job.done:7 3", "job.done:* 3", "* 3"]);
});

Deno.test("createIrohSpokeEventTarget() calls every listener on one topic, once listeners and handleEvent included", async () => {
  await using t = await startIrohHub();
  const { spoke } = await t.connect();
  const calls: string[] = [];
  spoke.addEventListener("a:1", () => calls.push("first"));
  spoke.addEventListener("a:1", { handleEvent: () => calls.push("object") });
  spoke.addEventListener("a:1", () => calls.push("once"), { once: true });
  const removed = () => calls.push("removed");
  spoke.addEventListener("a:1", removed);
  spoke.removeEventListener("a:1", removed);
  t.hub.dispatchEvent(createEnvelopeEvent("a", "1", null));
  t.hub.dispatchEvent(createEnvelopeEvent("a", "1", null));
  await until(() => calls.length === 5, "both envelopes reach the listeners");
  deepEqual(calls, ["first", "object", "once", "first", "object"]);
});

Deno.test("createIrohSpokeEventTarget() queues sends made before the stream is open and sends them in order on open", async () => {
  await using t = await startIrohHub();
  const arrived = collect<EventEnvelope>(t.hub, "*");
  const spoke = createIrohSpokeEventTarget(await t.dial());
  equal(spoke.state, "connecting");
  for (let i = 0; i < 5; i++) spoke.dispatchEvent(createEnvelopeEvent("n", String(i), i));
  await nextEvent(spoke, "open");
  equal(spoke.state, "open");
  await until(() => arrived.length === 5, "the queued envelopes arrive");
  deepEqual(arrived.map((e) => e.payload), [0, 1, 2, 3, 4]);
});

Deno.test("createIrohSpokeEventTarget() close(code, reason) delivers what was sent first, and the hub sees the code and reason", async () => {
  const disconnected: Spoke[] = [];
  await using t = await startIrohHub({ onDisconnection: (spoke) => disconnected.push(spoke) });
  const { spoke, onHub } = await t.connect();
  const arrived = collect<EventEnvelope>(onHub, "*");
  const hubSaw = nextEvent<CustomEvent<CloseDetail>>(onHub, "close");
  const spokeSaw = nextEvent<CustomEvent<CloseDetail>>(spoke, "close");
  const payload = "p".repeat(1000);
  for (let i = 0; i < 2000; i++) spoke.dispatchEvent(createEnvelopeEvent("n", String(i), payload));
  spoke.close(4000, "bye");
  equal(spoke.state, "closing");
  throws(
    () => spoke.dispatchEvent(createEnvelopeEvent("late", "1", null)),
    /the connection is closed/,
  );
  deepEqual((await hubSaw).detail, { code: 4000, reason: "bye", wasClean: true, unsent: 0 });
  // Every line written before close() was read before the hub's close fired.
  equal(arrived.length, 2000);
  equal(arrived.every((envelope, i) => envelope.id === String(i)), true);
  deepEqual((await spokeSaw).detail, { code: 4000, reason: "bye", wasClean: true, unsent: 0 });
  equal(spoke.state, "closed");
  deepEqual(disconnected, [onHub]);
  throws(
    () => spoke.dispatchEvent(createEnvelopeEvent("late", "2", null)),
    /the connection is closed/,
  );
});

Deno.test("createIrohSpokeEventTarget() fires close once with the code and reason when the hub side closes", async () => {
  await using t = await startIrohHub();
  const { spoke, onHub } = await t.connect();
  const closes = collect<CloseDetail>(spoke, "close");
  const arrived = collect<EventEnvelope>(spoke, "*");
  onHub.dispatchEvent(createEnvelopeEvent("last", "1", "words"));
  onHub.close(4001, "go away (code 9)");
  await until(() => closes.length === 1, "the spoke hears close");
  await settle(50);
  deepEqual(closes, [{ code: 4001, reason: "go away (code 9)", wasClean: true, unsent: 0 }]);
  deepEqual(arrived.map((e) => e.id), ["1"], "what was sent before close arrived first");
  equal(spoke.state, "closed");
});

Deno.test("createIrohSpokeEventTarget() reports a connection closed under it as 1006, not clean", async () => {
  const endpoint = await bindEndpoint();
  const hubEndpoint = await bindEndpoint([ALPN]);
  try {
    const accepted = hubEndpoint.acceptNext().then((i) => i!.accept()).then((a) => a.connect());
    const spoke = createIrohSpokeEventTarget(await endpoint.connect(hubEndpoint.addr(), ALPN));
    const opened = nextEvent(spoke, "open");
    await accepted;
    await opened;
    const closed = nextEvent<CustomEvent<CloseDetail>>(spoke, "close");
    await endpoint.close(); // the spoke's own endpoint, closed without closing the target
    deepEqual((await closed).detail, { code: 1006, reason: "closed", wasClean: false, unsent: 0 });
  } finally {
    await endpoint.close();
    await hubEndpoint.close();
  }
});

Deno.test("createIrohSpokeEventTarget() reports bad lines as error events and keeps going", async (t) => {
  await using pair = await connectToRawHub({ maxMessageBytes: 200 });
  const errors = collect<ErrorDetail>(pair.spoke, "error");
  const envelopes = collect<EventEnvelope>(pair.spoke, "*");
  const long = JSON.stringify({ type: "a", id: "1", payload: "x".repeat(5000) });
  const cases: [string, string | number[], RegExp, string][] = [
    ["non-JSON text", "hello", /^frame is not JSON$/, "hello"],
    ["JSON that is not an object", "[1,2]", /an envelope must be an object/, "[1,2]"],
    ["a missing id", '{"type":"a"}', /'id' must be a string/, '{"type":"a"}'],
    ["':' in type", '{"type":"a:b","id":"1"}', /must not contain ':'/, '{"type":"a:b","id":"1"}'],
    ["'*' as id", '{"type":"a","id":"*"}', /'id' must not be '\*'/, '{"type":"a","id":"*"}'],
    [
      "bytes that are not UTF-8",
      [0x7b, 0xff, 0x7d],
      /^binary frames are not envelopes \(3 bytes\)$/,
      "{\ufffd}",
    ],
    [
      "a line over maxMessageBytes",
      long,
      /^frame is larger than maxMessageBytes \(200 bytes\)$/,
      long.slice(0, 256),
    ],
  ];
  let sent = 0;
  for (const [name, line, reason, data] of cases) {
    await t.step(`${name} fires error, then the next line arrives`, async () => {
      const before = errors.length;
      const good = bytes(`${JSON.stringify({ type: "ok", id: String(++sent) })}\n`);
      const raw = typeof line === "string" ? bytes(line) : line;
      await pair.stream.send.writeAll([...raw, 10, ...good]);
      await until(() => envelopes.length === sent, "the next valid line");
      equal(errors.length, before + 1);
      match(errors[before].reason, reason);
      equal(errors[before].data, data);
      equal(pair.spoke.state, "open");
    });
  }
  await t.step(
    "a line over maxMessageBytes in many small writes is skipped up to its newline",
    async () => {
      const before = errors.length;
      for (let at = 0; at < long.length; at += 300) {
        await pair.stream.send.writeAll(
          bytes(long.slice(at, at + 300)),
        );
      }
      await pair.stream.send.writeAll(
        bytes(`\n${JSON.stringify({ type: "ok", id: String(++sent) })}\n`),
      );
      await until(() => envelopes.length === sent, "the next valid line");
      equal(errors.length, before + 1);
      match(errors[before].reason, /larger than maxMessageBytes/);
      equal(errors[before].data, long.slice(0, 256));
    },
  );
  deepEqual(envelopes.map((e) => e.type), Array(sent).fill("ok"));
});

Deno.test("createIrohSpokeEventTarget() ignores empty lines and accepts a line of exactly maxMessageBytes", async () => {
  const line = JSON.stringify({ type: "a", id: "1", payload: "é".repeat(40) });
  const size = new TextEncoder().encode(line).length;
  await using pair = await connectToRawHub({ maxMessageBytes: size });
  const envelopes = collect<EventEnvelope>(pair.spoke, "*");
  const errors = collect<ErrorDetail>(pair.spoke, "error");
  const over = JSON.stringify({ type: "a", id: "2", payload: "é".repeat(40) + "x" });
  await pair.stream.send.writeAll(bytes(`\n\n${line}\n\n${over}\n\n{"type":"done","id":"1"}\n`));
  await until(() => envelopes.length === 2, "the fitting line and the marker");
  deepEqual(envelopes.map((e) => `${e.type}:${e.id}`), ["a:1", "done:1"]);
  equal(errors.length, 1);
  match(errors[0].reason, new RegExp(`larger than maxMessageBytes \\(${size} bytes\\)`));
});

Deno.test("createIrohSpokeEventTarget() validates before sending and the hub receives nothing", async () => {
  await using t = await startIrohHub();
  const { spoke } = await t.connect();
  const arrived = collect(t.hub, "*");
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  const bad: [Event, RegExp][] = [
    [new Event("a:1"), /invalid envelope in 'detail'/],
    [new CustomEvent("a:b:1", { detail: { type: "a:b", id: "1" } }), /must not contain ':'/],
    [new CustomEvent("a:*", { detail: { type: "a", id: "*" } }), /'id' must not be '\*'/],
    [
      new CustomEvent("a:2", { detail: { type: "a", id: "1" } }),
      /must be the envelope's topic "a:1"/,
    ],
    [new CustomEvent("a:1", { detail: { type: "a", id: "1", payload: 1n } }), /JSON cannot encode/],
    [
      new CustomEvent("a:1", { detail: { type: "a", id: "1", payload: cycle } }),
      /JSON cannot encode/,
    ],
  ];
  for (const [event, message] of bad) {
    throws(
      () => spoke.dispatchEvent(event as AnyEnvelopeEvent),
      (error: Error) => error instanceof TypeError && message.test(error.message),
    );
  }
  await settle();
  equal(arrived.length, 0);
  equal(spoke.state, "open");
});

Deno.test("createIrohSpokeEventTarget() throws past maxBufferedAmount: one synchronous burst trips it even toward a fast peer", async () => {
  await using t = await startIrohHub();
  const { spoke } = await t.connect({ maxBufferedAmount: 10_000 });
  const arrived = collect<EventEnvelope>(t.hub, "*");
  const fits = createEnvelopeEvent("a", "0", "x".repeat(1000 - 34));
  equal(JSON.stringify(fits.detail).length, 1000);
  let sent = 0;
  let thrown: Error | undefined;
  try {
    for (; sent < 100; sent++) {
      spoke.dispatchEvent(createEnvelopeEvent("a", String(sent), fits.detail.payload));
    }
  } catch (error) {
    thrown = error as Error;
  }
  equal(sent, 10, "ten lines of 1000 bytes fit, the limit itself included");
  match(
    thrown!.message,
    /^Cannot dispatch "a:10": 10000 bytes are waiting and 1001 more would pass maxBufferedAmount \(10000\)$/,
  );
  equal(spoke.state, "open", "a spoke target throws, it is not cut off");
  // Once written, the bytes no longer count: sending goes on.
  await until(() => arrived.length === 10, "the ten that fit arrive");
  spoke.dispatchEvent(createEnvelopeEvent("a", "after", null));
  await until(() => arrived.length === 11, "a send after the burst arrives");
});

Deno.test("createIrohSpokeEventTarget() and createIrohHubEventTarget() reject options that are not positive integers", () => {
  const connection = {} as Iroh.Connection;
  throws(
    () => createIrohSpokeEventTarget(connection, { maxMessageBytes: -1 }),
    (error: Error) =>
      error instanceof RangeError &&
      error.message === "'maxMessageBytes' must be a positive integer: got -1",
  );
  throws(() => createIrohSpokeEventTarget(connection, { maxBufferedAmount: 1.5 }), RangeError);
  throws(
    () => createIrohSpokeEventTarget(connection, { closeTimeout: 0 }),
    /'closeTimeout' must be a positive integer: got 0/,
  );
  throws(() => createIrohHubEventTarget({ closeTimeout: NaN }), RangeError);
  throws(() => createIrohHubEventTarget({ maxMessageBytes: 0 }), RangeError);
});

// ---------------------------------------------------------------- hub

Deno.test("createIrohHubEventTarget() fans out to every open spoke, in order, and not to its own listeners", async () => {
  await using t = await startIrohHub();
  const spokes = [];
  for (let i = 0; i < 4; i++) spokes.push((await t.connect()).spoke);
  equal(t.hub.connections.size, 4);
  const received = spokes.map((spoke) => collect<EventEnvelope>(spoke, "*"));
  const echoed = collect(t.hub, "*");
  for (let i = 0; i < 200; i++) {
    equal(t.hub.dispatchEvent(createEnvelopeEvent("tick", String(i), { i })), true);
  }
  await until(() => received.every((seen) => seen.length === 200), "every spoke has all 200");
  const expected = Array.from(
    { length: 200 },
    (_, i) => ({ type: "tick", id: String(i), payload: { i } }),
  );
  for (const seen of received) deepEqual(seen, expected);
  await settle();
  equal(echoed.length, 0);
});

Deno.test("createIrohHubEventTarget() hears every spoke, with event.source naming that spoke's target", async () => {
  const added: Spoke[] = [];
  const connected: Spoke[] = [];
  await using t = await startIrohHub(
    { onConnection: (spoke) => connected.push(spoke) },
    (spoke) => added.push(spoke),
  );
  const a = await t.connect();
  const b = await t.connect();
  deepEqual(connected, added, "addConnection's target is the one onConnection gets");
  deepEqual(connected, [a.onHub, b.onHub]);
  const names = new Map<unknown, string>([[a.onHub, "a"], [b.onHub, "b"]]);
  const heard: string[] = [];
  for (const name of ["job.done:7", "job.done:*", "*"] as const) {
    t.hub.addEventListener(
      name,
      (event) => heard.push(`${name} ${event.detail.payload} from ${names.get(event.source)}`),
    );
  }
  const own = collect<EventEnvelope>(a.onHub, "*");
  a.spoke.dispatchEvent(createEnvelopeEvent("job.done", "7", "x"));
  await until(() => heard.length === 3, "the hub hears a");
  b.spoke.dispatchEvent(createEnvelopeEvent("job.done", "7", "y"));
  await until(() => heard.length === 6, "the hub hears b");
  deepEqual(heard, [
    "job.done:7 x from a",
    "job.done:* x from a",
    "* x from a",
    "job.done:7 y from b",
    "job.done:* y from b",
    "* y from b",
  ]);
  deepEqual(own.map((e) => e.payload), ["x"], "a spoke's own target hears only that spoke");
});

Deno.test("createIrohHubEventTarget() replies through event.source to that spoke alone and never relays between spokes", async () => {
  await using t = await startIrohHub();
  const spokes = [await t.connect(), await t.connect(), await t.connect()];
  const seen = spokes.map(({ spoke }) => collect<EventEnvelope>(spoke, "*"));
  t.hub.addEventListener("ask:*", (event) => {
    event.source.dispatchEvent(
      createEnvelopeEvent("answer", event.detail.id, `for ${event.detail.payload}`),
    );
  });
  spokes.forEach(({ spoke }, i) => spoke.dispatchEvent(createEnvelopeEvent("ask", `q${i}`, i)));
  await until(() => seen.every((envelopes) => envelopes.length === 1), "each spoke's answer");
  t.hub.dispatchEvent(createEnvelopeEvent("news", "1", "all"));
  await until(() => seen.every((envelopes) => envelopes.length === 2), "the news on every spoke");
  await settle();
  seen.forEach((envelopes, i) => {
    deepEqual(envelopes, [
      { type: "answer", id: `q${i}`, payload: `for ${i}` },
      { type: "news", id: "1", payload: "all" },
    ]);
  });
});

Deno.test("createIrohHubEventTarget() tracks connections and fires onDisconnection once however a spoke leaves", async () => {
  const connected: string[] = [];
  const disconnected: Spoke[] = [];
  await using t = await startIrohHub({
    onConnection: (spoke) => connected.push(spoke.state),
    onDisconnection: (spoke) => disconnected.push(spoke),
  });
  const view = t.hub.connections;
  const clean = await t.connect();
  const hubClosed = await t.connect();
  const dropped = await t.connectRaw();
  deepEqual(connected, ["open", "open", "open"], "onConnection runs once the stream is open");
  deepEqual([...view], [clean.onHub, hubClosed.onHub, dropped.onHub]);

  const ended = async (spoke: Spoke, leave: () => void) => {
    const before = disconnected.length;
    const closed = nextEvent<CustomEvent<CloseDetail>>(spoke, "close");
    leave();
    const { detail } = await closed;
    await until(() => disconnected.length > before, "onDisconnection");
    equal(disconnected[before], spoke);
    equal(view.has(spoke), false);
    equal(spoke.state, "closed");
    return detail;
  };
  deepEqual(await ended(clean.onHub, () => clean.spoke.close(1000, "done")), {
    code: 1000,
    reason: "done",
    wasClean: true,
    unsent: 0,
  });
  const spokeHeard = nextEvent<CustomEvent<CloseDetail>>(hubClosed.spoke, "close");
  deepEqual(await ended(hubClosed.onHub, () => hubClosed.onHub.close(4001, "go")), {
    code: 4001,
    reason: "go",
    wasClean: true,
    unsent: 0,
  });
  deepEqual([(await spokeHeard).detail.code, (await spokeHeard).detail.reason], [4001, "go"]);
  // The peer's connection closed by hand with a bare code, as a peer in another language might.
  deepEqual(await ended(dropped.onHub, () => dropped.connection.close(7n, [])), {
    code: 7,
    reason: "",
    wasClean: true,
    unsent: 0,
  });
  equal(view.size, 0);
  await settle();
  deepEqual(disconnected, [clean.onHub, hubClosed.onHub, dropped.onHub], "exactly once each");
});

Deno.test("createIrohHubEventTarget() closes a spoke that finished its stream but not its connection after closeTimeout", async () => {
  const disconnected: Spoke[] = [];
  await using t = await startIrohHub({
    closeTimeout: 200,
    onDisconnection: (spoke) => disconnected.push(spoke),
  });
  const { connection, stream, onHub } = await t.connectRaw();
  const arrived = collect<EventEnvelope>(onHub, "*");
  const closed = nextEvent<CustomEvent<CloseDetail>>(onHub, "close");
  await stream.send.writeAll(bytes('{"type":"last","id":"1"}'));
  await stream.send.finish();
  await until(() => onHub.state === "closing", "the hub side to see the end of the stream");
  throws(
    () => onHub.dispatchEvent(createEnvelopeEvent("a", "1", null)),
    /the connection is closed/,
  );
  const started = Date.now();
  deepEqual((await closed).detail, { code: 1000, reason: "", wasClean: true, unsent: 0 });
  ok(Date.now() - started < 2000);
  deepEqual(arrived.map((e) => e.type), ["last"], "a last line without its newline still counts");
  deepEqual(disconnected, [onHub]);
  equal(await within(connection.closed(), "the peer's close"), "closed by peer: 1000");
});

Deno.test("createIrohHubEventTarget() fires error and closes with 1002 when a spoke resets its stream or stops reading", async (t) => {
  await using h = await startIrohHub();
  await t.step("a reset stream", async () => {
    const { connection, stream, onHub } = await h.connectRaw();
    const errors = collect<ErrorDetail>(onHub, "error");
    const closed = nextEvent<CustomEvent<CloseDetail>>(onHub, "close");
    await stream.send.reset(55n);
    const { detail } = await closed;
    deepEqual([detail.code, detail.wasClean], [1002, false]);
    match(detail.reason, /^read failed: /);
    deepEqual(errors, [{ reason: detail.reason, data: "" }]);
    match(
      await within(connection.closed(), "the peer's close"),
      /^closed by peer: read failed: .* \(code 1002\)$/,
    );
  });
  await t.step("a stopped stream", async () => {
    const { stream, onHub } = await h.connectRaw();
    const errors = collect<ErrorDetail>(onHub, "error");
    const closes = collect<CloseDetail>(onHub, "close");
    await stream.recv.stop(9n);
    // Writes fail once the peer's stop has arrived.
    for (let i = 0; closes.length === 0 && i < 200; i++) {
      onHub.dispatchEvent(createEnvelopeEvent("a", String(i), null));
      await settle(10);
    }
    equal(closes.length, 1);
    deepEqual([closes[0].code, closes[0].wasClean], [1002, false]);
    match(closes[0].reason, /^write failed: /);
    equal(errors[0].reason, closes[0].reason);
  });
});

Deno.test("createIrohHubEventTarget() queues direct sends to a spoke whose stream has not arrived, and never reports one that closes before", async () => {
  const added: Spoke[] = [];
  const connected: Spoke[] = [];
  const disconnected: Spoke[] = [];
  await using t = await startIrohHub({
    onConnection: (spoke) => connected.push(spoke),
    onDisconnection: (spoke) => disconnected.push(spoke),
  }, (spoke) => added.push(spoke));
  // A connection that never opens its stream, then closes.
  const silent = await t.dial();
  await until(() => added.length === 1, "addConnection");
  equal(added[0].state, "connecting");
  equal(t.hub.connections.size, 0);
  const silentClosed = nextEvent<CustomEvent<CloseDetail>>(added[0], "close");
  silent.close(4002n, bytes("never mind"));
  deepEqual((await silentClosed).detail, {
    code: 4002,
    reason: "never mind",
    wasClean: true,
    unsent: 0,
  });
  // A connection whose stream comes later: direct sends wait for it, fan-out does not reach it.
  const late = await t.dial();
  await until(() => added.length === 2, "addConnection");
  for (let i = 0; i < 3; i++) added[1].dispatchEvent(createEnvelopeEvent("early", String(i), i));
  t.hub.dispatchEvent(createEnvelopeEvent("fanout", "before-open", null));
  const spoke = createIrohSpokeEventTarget(late);
  const seen = collect<EventEnvelope>(spoke, "*");
  await until(() => connected.length === 1, "onConnection");
  t.hub.dispatchEvent(createEnvelopeEvent("fanout", "after-open", null));
  await until(() => seen.length === 4, "the queued sends and the fan-out after open");
  deepEqual(seen.map(({ type, id }) => `${type}:${id}`), [
    "early:0",
    "early:1",
    "early:2",
    "fanout:after-open",
  ]);
  deepEqual(connected, [added[1]]);
  equal(disconnected.length, 0, "the silent connection never joined, so it never left");
});

Deno.test("createIrohHubEventTarget() reports bad lines from a spoke on its target and on the hub, and keeps going", async () => {
  await using t = await startIrohHub({ maxMessageBytes: 200 });
  const { stream, onHub } = await t.connectRaw();
  const bystander = await t.connect();
  const hubErrors: { detail: ErrorDetail; source: unknown }[] = [];
  t.hub.addEventListener(
    "error",
    (event) => hubErrors.push({ detail: event.detail, source: event.source }),
  );
  const spokeErrors = collect<ErrorDetail>(onHub, "error");
  const envelopes = collect<EventEnvelope>(onHub, "*");
  const bystanderSaw = collect(bystander.spoke, "*");
  const lines = [
    "hello",
    '{"type":"a","id":',
    "null",
    '{"type":5,"id":"1"}',
    '{"type":"","id":"1"}',
    JSON.stringify({ type: "a", id: "1", payload: "x".repeat(300) }),
  ];
  // One write: the lines arrive in one chunk, each still judged alone.
  await stream.send.writeAll(
    bytes(lines.map((line, i) => `${line}\n{"type":"ok","id":"${i}"}\n`).join("")),
  );
  await until(() => envelopes.length === lines.length, "the valid lines");
  deepEqual(hubErrors.map(({ detail }) => detail.reason), [
    "frame is not JSON",
    "frame is not JSON",
    "invalid envelope: an envelope must be an object (got null)",
    "invalid envelope: 'type' must be a string (got number 5)",
    "invalid envelope: 'type' must not be empty",
    "frame is larger than maxMessageBytes (200 bytes)",
  ]);
  deepEqual(spokeErrors, hubErrors.map(({ detail }) => detail));
  equal(hubErrors.every(({ source }) => source === onHub), true);
  deepEqual(envelopes.map((e) => e.id), ["0", "1", "2", "3", "4", "5"]);
  equal(t.hub.connections.has(onHub), true);
  await settle();
  equal(bystanderSaw.length, 0, "nothing from the bad spoke reaches another spoke");
});

Deno.test("createIrohHubEventTarget() cuts off a peer that never reads with 1013 while every other spoke gets every envelope in order", async () => {
  const limit = 64 * 1024;
  const disconnected: Spoke[] = [];
  let sending = -1;
  const cutAt: number[] = [];
  await using t = await startIrohHub({
    maxBufferedAmount: limit,
    onDisconnection: (spoke) => {
      disconnected.push(spoke);
      cutAt.push(sending);
    },
  });
  const readers = [await t.connect(), await t.connect()];
  const counts = [0, 0];
  let inOrder = true;
  readers.forEach(({ spoke }, r) =>
    spoke.addEventListener("tick:*", (event) => {
      if (event.detail.id !== String(counts[r])) inOrder = false;
      counts[r]++;
    })
  );
  const slow = await t.connectRaw(); // writes its first line, then never reads
  // Asked at once, as the spoke target does: iroh's later `closed()` calls report the connection's
  // last error, and a stateless reset that follows the peer's close can replace that close.
  const slowClosed = slow.connection.closed();
  const closes = collect<CloseDetail>(slow.onHub, "close");
  const total = 4000;
  const payload = "x".repeat(1024);
  for (sending = 0; sending < total; sending++) {
    // At the readers' pace, as a healthy hub produces: never more than 32 envelopes ahead of them.
    if (sending % 16 === 0) {
      await until(() => counts.every((n) => n >= sending - 16), "the readers to keep up");
    }
    t.hub.dispatchEvent(createEnvelopeEvent("tick", String(sending), payload));
  }
  await until(() => counts.every((n) => n === total), "every reader has every envelope", 20_000);
  deepEqual(disconnected, [slow.onHub]);
  // Not before the limit could be passed: each envelope waits as at most `envelopeBytes` bytes.
  // How much QUIC takes in first (its flow-control window, about 1.2 MiB) varies with timing.
  const envelopeBytes = JSON.stringify({ type: "tick", id: String(total), payload }).length;
  ok(cutAt[0] >= Math.floor(limit / envelopeBytes), `cut off at envelope ${cutAt[0]}`);
  equal(closes.length, 1);
  equal(closes[0].code, 1013);
  equal(closes[0].wasClean, false);
  equal(closes[0].reason, `Try again later: more than ${limit} bytes waiting`);
  equal(inOrder, true);
  deepEqual([...t.hub.connections], readers.map(({ onHub }) => onHub));
  // The peer is told why.
  equal(
    await within(slowClosed, "the slow peer's close"),
    `closed by peer: Try again later: more than ${limit} bytes waiting (code 1013)`,
  );
  await settle();
  equal(disconnected.length, 1);
});

Deno.test("createIrohHubEventTarget() spoke target throws on a direct send past maxBufferedAmount and cuts the spoke off", async () => {
  const disconnected: Spoke[] = [];
  await using t = await startIrohHub({
    maxBufferedAmount: 64 * 1024,
    onDisconnection: (spoke) => disconnected.push(spoke),
  });
  const reader = await t.connect();
  const slow = await t.connectRaw();
  const closes = collect<CloseDetail>(slow.onHub, "close");
  const payload = "y".repeat(1024);
  let thrown: Error | undefined;
  let sent = 0;
  for (; sent < 20_000 && !thrown; sent++) {
    if (sent % 64 === 0) await settle(0);
    try {
      slow.onHub.dispatchEvent(createEnvelopeEvent("direct", String(sent), payload));
    } catch (error) {
      thrown = error as Error;
    }
  }
  ok(thrown, `no send threw after ${sent} sends`);
  match(thrown.message, /bytes are waiting and \d+ more would pass maxBufferedAmount \(65536\)/);
  deepEqual(disconnected, [slow.onHub], "onDisconnection at once");
  deepEqual(closes.map(({ code, wasClean }) => [code, wasClean]), [[1013, false]]);
  throws(
    () => slow.onHub.dispatchEvent(createEnvelopeEvent("direct", "again", null)),
    /the connection is closed/,
  );
  const seen = collect<EventEnvelope>(reader.spoke, "*");
  t.hub.dispatchEvent(createEnvelopeEvent("still", "1", null));
  await until(() => seen.length === 1, "the reader still gets fan-out");
  deepEqual([...t.hub.connections], [reader.onHub]);
});

Deno.test("createIrohHubEventTarget() close() sends 1001 after what was sent, reports each spoke, then refuses new work", async () => {
  const disconnected: Spoke[] = [];
  await using t = await startIrohHub({ onDisconnection: (spoke) => disconnected.push(spoke) });
  const spokes = [await t.connect(), await t.connect(), await t.connect()];
  const seen = spokes.map(({ spoke }) => collect<EventEnvelope>(spoke, "*"));
  const spokeCloses = spokes.map(({ spoke }) =>
    nextEvent<CustomEvent<CloseDetail>>(spoke, "close")
  );
  const order: string[] = [];
  t.hub.addEventListener(
    "close",
    (event) => order.push(`hub close ${event.detail.code} after ${disconnected.length}`),
  );
  for (let i = 0; i < 300; i++) {
    t.hub.dispatchEvent(createEnvelopeEvent("last", String(i), "z".repeat(500)));
  }
  const closed = t.hub.close();
  equal(t.hub.state, "closed");
  deepEqual(
    order,
    ["hub close 1001 after 3"],
    "onDisconnection for each spoke, then close on the hub, at once",
  );
  deepEqual(disconnected, spokes.map(({ onHub }) => onHub));
  equal(t.hub.connections.size, 0);
  await within(closed, "every connection to close");
  for (const [i, spokeClosed] of spokeCloses.entries()) {
    deepEqual((await spokeClosed).detail, { code: 1001, reason: "", wasClean: true, unsent: 0 });
    equal(seen[i].length, 300, "everything sent before close() arrived");
  }
  throws(
    () => t.hub.addConnection({} as Iroh.Connection),
    (error: Error) =>
      error.constructor === Error &&
      /Cannot add a connection: the hub is closed/.test(error.message),
  );
  throws(
    () => t.hub.dispatchEvent(createEnvelopeEvent("a", "1", null)),
    /Cannot dispatch "a:1": the hub is closed/,
  );
  throws(() => t.hub.dispatchEvent(new Event("a:1") as AnyEnvelopeEvent), TypeError);
  await t.hub.close();
  equal(order.length, 1, "close fires once");
});

Deno.test("createIrohHubEventTarget() close(code, reason) gives every spoke that code and reason", async () => {
  await using t = await startIrohHub();
  const { spoke } = await t.connect();
  const closed = nextEvent<CustomEvent<CloseDetail>>(spoke, "close");
  throws(() => t.hub.close(-1), RangeError);
  equal(t.hub.state, "open", "a bad code closes nothing");
  await t.hub.close(4100, "maintenance");
  deepEqual([(await closed).detail.code, (await closed).detail.reason], [4100, "maintenance"]);
});

Deno.test("createIrohHubEventTarget() dispatchEvent returns true with no spokes", async () => {
  const hub = createIrohHubEventTarget();
  equal(hub.connections.size, 0);
  equal(hub.dispatchEvent(createEnvelopeEvent("a", "1", null)), true);
  await hub.close();
});

Deno.test("createPubSub() over an iroh spoke and hub publishes and subscribes end to end", async () => {
  type Map = { "job.run": { n: number }; "job.done": { n: number } };
  await using t = await startIrohHub<EnvelopeEvents<Map>>();
  const { spoke } = await t.connect();
  const hub = createPubSub<Map>({ eventTarget: t.hub });
  const client = createPubSub<Map>({ eventTarget: spoke });
  // The hub answers every job.run it hears.
  const serving = (async () => {
    for await (const job of hub.subscribe("job.run")) {
      hub.publish("job.done", job.id, { n: job.payload.n * 2 });
      if (job.id === "3") break;
    }
  })();
  const done = client.subscribe("job.done");
  for (let i = 1; i <= 3; i++) client.publish("job.run", String(i), { n: i });
  const results: EventEnvelope[] = [];
  for await (const envelope of done) {
    results.push(envelope);
    if (results.length === 3) break;
  }
  await within(serving, "the hub's loop");
  deepEqual(results.map(({ id, payload }) => [id, payload]), [["1", { n: 2 }], ["2", { n: 4 }], [
    "3",
    { n: 6 },
  ]]);
  // The subscription ends when the target closes.
  const pending = client.subscribe("job.done");
  spoke.close();
  deepEqual(await within(pending.next(), "the end of the subscription"), {
    done: true,
    value: undefined,
  });
});
