// Copyright 2026 the @alkdev/pubsub authors. MIT license.

import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import { type ConnectionEventTarget, createWebSocketClientEventTarget } from "../client.ts";
import {
  type AnyEnvelopeEvent,
  type CloseDetail,
  createEnvelopeEvent,
  type ErrorDetail,
  type EventEnvelope,
} from "../envelope.ts";
import { type CallbackConnection, createWebSocketServerEventTarget } from "../server.ts";
import {
  collect,
  collectGarbage,
  invalidEvents,
  nextEvent,
  settle,
  startHub,
  tally,
  until,
  within,
} from "./_helpers.ts";

type Spoke = ConnectionEventTarget;

Deno.test("createWebSocketServerEventTarget() fans out to every open spoke", async () => {
  await using t = startHub();
  const spokes = [];
  for (let i = 0; i < 4; i++) spokes.push((await t.connect()).spoke);
  equal(t.hub.connections.size, 4);
  const received = spokes.map((spoke) => collect<EventEnvelope>(spoke, "*"));
  const echoed = collect(t.hub, "*");
  for (let i = 0; i < 50; i++) {
    equal(t.hub.dispatchEvent(createEnvelopeEvent("tick", String(i), { i })), true);
  }
  await until(() => received.every((seen) => seen.length === 50), "every spoke has all 50");
  const expected = Array.from(
    { length: 50 },
    (_, i) => ({ type: "tick", id: String(i), payload: { i } }),
  );
  for (const seen of received) deepEqual(seen, expected);
  await settle();
  equal(echoed.length, 0, "the hub's own listeners do not hear its fan-out");
});

Deno.test("createWebSocketServerEventTarget() hears every spoke, with event.source naming that spoke's target", async () => {
  const added: Spoke[] = [];
  const connected: Spoke[] = [];
  await using t = startHub({ onConnection: (spoke) => connected.push(spoke) }, {
    added: (spoke) => added.push(spoke),
  });
  const a = await t.connect();
  const b = await t.connect();
  // The target addConnection returned, the one onConnection got and event.source are one object.
  equal(connected[0], added[0]);
  equal(connected[1], added[1]);
  const names = new Map<unknown, string>([[added[0], "a"], [added[1], "b"]]);
  const heard: string[] = [];
  for (const name of ["job.done:7", "job.done:*", "*"] as const) {
    t.hub.addEventListener(name, (event) => {
      heard.push(`${name} ${event.detail.payload} from ${names.get(event.source)}`);
    });
  }
  const own = { a: [] as string[], b: [] as string[] };
  a.onHub.addEventListener(
    "*",
    (event) => own.a.push(`${event.detail.payload} ${event.source === a.onHub}`),
  );
  b.onHub.addEventListener(
    "*",
    (event) => own.b.push(`${event.detail.payload} ${event.source === b.onHub}`),
  );

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
  deepEqual(own, { a: ["x true"], b: ["y true"] });
});

Deno.test("createWebSocketServerEventTarget() tracks connections and fires onDisconnection once however a spoke leaves", async () => {
  const connected: string[] = [];
  const disconnected: Spoke[] = [];
  await using t = startHub({
    onConnection: (spoke) => connected.push(spoke.state),
    onDisconnection: (spoke) => disconnected.push(spoke),
  });
  const view = t.hub.connections;
  equal(view.size, 0);
  const clean = await t.connect();
  const hubClosed = await t.connect();
  const dropped = await t.connectTcp();
  deepEqual(connected, ["open", "open", "open"], "onConnection runs once the socket is open");
  equal(view.size, 3, "connections is a live view");
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
  // A clean close from the client.
  const cleanDetail = await ended(clean.onHub, () => clean.spoke.close(1000, "done"));
  deepEqual([cleanDetail.code, cleanDetail.reason, cleanDetail.wasClean], [1000, "done", true]);
  equal(view.size, 2);
  // A close from the hub side, through the spoke's own target.
  const spokeHeard = nextEvent<CustomEvent<CloseDetail>>(hubClosed.spoke, "close");
  await ended(hubClosed.onHub, () => hubClosed.onHub.close(4001, "go"));
  const heardDetail = (await spokeHeard).detail;
  deepEqual([heardDetail.code, heardDetail.reason], [4001, "go"]);
  equal(view.size, 1);
  // An abrupt TCP drop, with no close frame.
  const droppedDetail = await ended(dropped.onHub, () => dropped.conn.close());
  equal(droppedDetail.wasClean, false);
  equal(view.size, 0);

  await settle();
  deepEqual(disconnected, [clean.onHub, hubClosed.onHub, dropped.onHub], "exactly once each");
});

Deno.test("createWebSocketServerEventTarget() replies through event.source to that spoke alone and never relays between spokes", async () => {
  await using t = startHub();
  const spokes = [await t.connect(), await t.connect(), await t.connect()];
  const seen = spokes.map(({ spoke }) => collect<EventEnvelope>(spoke, "*"));
  const asked: string[] = [];
  t.hub.addEventListener("ask:*", (event) => {
    asked.push(event.detail.id);
    event.source.dispatchEvent(
      createEnvelopeEvent("answer", event.detail.id, `for ${event.detail.payload}`),
    );
  });
  spokes.forEach(({ spoke }, i) => spoke.dispatchEvent(createEnvelopeEvent("ask", `q${i}`, i)));
  await until(() => seen.every((envelopes) => envelopes.length === 1), "each spoke's answer");
  // Hub to all after the answers: on each socket it comes after that spoke's answer.
  t.hub.dispatchEvent(createEnvelopeEvent("news", "1", "all"));
  await until(() => seen.every((envelopes) => envelopes.length === 2), "the news on every spoke");
  await settle();
  deepEqual(asked.sort(), ["q0", "q1", "q2"]);
  seen.forEach((envelopes, i) => {
    deepEqual(envelopes, [
      { type: "answer", id: `q${i}`, payload: `for ${i}` },
      { type: "news", id: "1", payload: "all" },
    ]);
  });
});

Deno.test("createWebSocketServerEventTarget() validates sends on the hub and on a spoke's target, and nobody receives them", async (t) => {
  await using h = startHub();
  const { spoke, onHub } = await h.connect();
  const other = await h.connect();
  const received = [
    collect(spoke, "*"),
    collect(other.spoke, "*"),
    collect(h.hub, "*"),
    collect(onHub, "*"),
  ];
  for (const [name, event, message] of invalidEvents()) {
    await t.step(`refuses ${name}`, () => {
      for (const target of [h.hub, onHub]) {
        throws(
          () => target.dispatchEvent(event as AnyEnvelopeEvent),
          (error: Error) => error instanceof TypeError && message.test(error.message),
        );
      }
    });
  }
  await settle();
  deepEqual(received, [[], [], [], []]);
  equal(onHub.state, "open", "a refused send leaves the connection open");
});

Deno.test("createWebSocketServerEventTarget() reports bad input from a spoke on its target and on the hub, and keeps going", async (t) => {
  await using h = startHub({ maxMessageBytes: 200 });
  const { ws, onHub } = await h.connectRaw();
  const bystander = await h.connect();
  const hubErrors: { detail: ErrorDetail; source: unknown }[] = [];
  h.hub.addEventListener(
    "error",
    (event) => hubErrors.push({ detail: event.detail, source: event.source }),
  );
  const spokeErrors: { detail: ErrorDetail; source: unknown }[] = [];
  onHub.addEventListener(
    "error",
    (event) => spokeErrors.push({ detail: event.detail, source: event.source }),
  );
  const onHubEnvelopes = collect<EventEnvelope>(onHub, "*");
  const hubEnvelopes: string[] = [];
  for (const name of ["ok:*", "*"] as const) {
    h.hub.addEventListener(name, (event) => hubEnvelopes.push(`${name} ${event.detail.id}`));
  }
  const bystanderSaw = collect(bystander.spoke, "*");
  const cases: [string, string | Uint8Array, RegExp][] = [
    ["non-JSON text", "hello", /^frame is not JSON$/],
    ["truncated JSON", '{"type":"a","id":', /^frame is not JSON$/],
    ["JSON null", "null", /an envelope must be an object \(got null\)/],
    ["a JSON array", "[1,2]", /an envelope must be an object \(got an array\)/],
    ["a JSON string", '"a:1"', /an envelope must be an object/],
    ["a missing type", '{"id":"1"}', /'type' must be a string \(got undefined\)/],
    ["a missing id", '{"type":"a"}', /'id' must be a string/],
    ["a number type", '{"type":5,"id":"1"}', /'type' must be a string \(got number 5\)/],
    ["a number id", '{"type":"a","id":1}', /'id' must be a string \(got number 1\)/],
    ["an empty type", '{"type":"","id":"1"}', /'type' must not be empty/],
    ["':' in type", '{"type":"a:b","id":"1"}', /'type' must not contain ':'/],
    ["'*' as id", '{"type":"a","id":"*"}', /'id' must not be '\*'/],
    ["a binary frame", new Uint8Array([1, 2, 3]), /^binary frames are not envelopes \(3 bytes\)$/],
    [
      "a frame over maxMessageBytes",
      JSON.stringify({ type: "a", id: "1", payload: "x".repeat(300) }),
      /^frame is larger than maxMessageBytes \(200 bytes\)$/,
    ],
  ];
  let sent = 0;
  for (const [name, frame, reason] of cases) {
    await t.step(
      `${name} fires error on the spoke and the hub, then the next envelope arrives`,
      async () => {
        const before = hubErrors.length;
        ws.send(frame);
        ws.send(JSON.stringify({ type: "ok", id: String(++sent) }));
        await until(() => onHubEnvelopes.length === sent, "the next valid envelope");
        equal(hubErrors.length, before + 1);
        equal(spokeErrors.length, before + 1);
        for (const { detail, source } of [hubErrors[before], spokeErrors[before]]) {
          match(detail.reason, reason);
          equal(source, onHub);
          equal(detail.data, typeof frame === "string" ? frame.slice(0, 256) : "\x01\x02\x03");
        }
        equal(onHub.state, "open");
      },
    );
  }
  deepEqual(onHubEnvelopes.map((envelope) => envelope.type), cases.map(() => "ok"));
  deepEqual(hubEnvelopes, cases.flatMap((_, i) => [`ok:* ${i + 1}`, `* ${i + 1}`]));
  equal(h.hub.connections.has(onHub), true);
  await settle();
  equal(bystanderSaw.length, 0, "nothing from the bad spoke reaches another spoke");
});

Deno.test("createWebSocketServerEventTarget() queues direct sends to a CONNECTING spoke and adds it to connections on open", async () => {
  const atAdd: string[] = [];
  const connected: Spoke[] = [];
  await using t = startHub({ onConnection: (spoke) => connected.push(spoke) }, {
    added(spoke, socket) {
      atAdd.push(`${socket.readyState} ${spoke.state} ${t.hub.connections.has(spoke)}`);
      for (let i = 0; i < 3; i++) spoke.dispatchEvent(createEnvelopeEvent("early", String(i), i));
      // Fan-out reaches only open spokes: this one is not in it yet.
      t.hub.dispatchEvent(createEnvelopeEvent("fanout", "before-open", null));
    },
  });
  const spoke = createWebSocketClientEventTarget(new WebSocket(t.url));
  const seen = collect<EventEnvelope>(spoke, "*");
  await nextEvent(spoke, "open");
  await until(() => connected.length === 1, "onConnection");
  deepEqual(atAdd, [`${WebSocket.CONNECTING} connecting false`]);
  equal(t.hub.connections.has(connected[0]), true);
  t.hub.dispatchEvent(createEnvelopeEvent("fanout", "after-open", null));
  await until(() => seen.length === 4, "the queued sends and the fan-out after open");
  deepEqual(seen.map(({ type, id }) => `${type}:${id}`), [
    "early:0",
    "early:1",
    "early:2",
    "fanout:after-open",
  ]);
  spoke.close();
  await nextEvent(spoke, "close");
});

Deno.test("createWebSocketServerEventTarget() cuts off a spoke that never reads with 1013 while every other spoke gets every message", async () => {
  const limit = 64 * 1024;
  const disconnected: Spoke[] = [];
  let sending = -1;
  const cutAt: number[] = [];
  await using t = startHub({
    maxBufferedAmount: limit,
    onDisconnection: (spoke) => {
      disconnected.push(spoke);
      cutAt.push(sending);
    },
  });
  const readers = [await t.connect(), await t.connect()];
  const tallies = readers.map(({ spoke }) => tally(spoke, "tick"));
  const slow = await t.connectTcp();
  const closes = collect<CloseDetail>(slow.onHub, "close");

  const total = 32_000;
  const payload = "x".repeat(1024);
  collectGarbage();
  const before = Deno.memoryUsage();
  for (sending = 0; sending < total; sending++) {
    // Produce at the pace of the readers, as a healthy hub does: at most 32 messages (34 KB) in
    // flight, under the limit even while the hub's socket still counts what they have read.
    // The slow spoke is never waited for.
    if (sending % 16 === 0) await Promise.all(tallies.map((tally) => tally.reached(sending - 16)));
    t.hub.dispatchEvent(createEnvelopeEvent("tick", String(sending), payload));
  }
  await Promise.all(tallies.map((tally) => tally.reached(total)));
  collectGarbage();
  const after = Deno.memoryUsage();

  // Cut off during the fan-out, while its TCP connection was still open: not when it ended.
  deepEqual(disconnected, [slow.onHub]);
  ok(cutAt[0] >= 0 && cutAt[0] < total, `cut off while sending (at ${cutAt[0]})`);
  equal(closes.length, 1);
  equal(closes[0].code, 1013);
  equal(closes[0].wasClean, false);
  match(closes[0].reason, /Try again later: more than 65536 bytes waiting/);
  equal(t.hub.connections.has(slow.onHub), false);
  equal(t.hub.connections.size, 2);
  for (const tally of tallies) {
    equal(tally.count, total);
    equal(tally.inOrder, true);
  }
  // Without the limit the hub would hold most of the slow spoke's share (32 MB) in memory,
  // which its resident size shows (the sockets' buffers are outside the JavaScript heap).
  const grown = after.rss - before.rss;
  const sentToSlow = total * payload.length;
  ok(grown < sentToSlow / 2, `rss grew by ${grown} bytes; ${sentToSlow} were fanned out to each`);
  await settle();
  equal(disconnected.length, 1, "onDisconnection once, also after the TCP connection ends");
});

Deno.test("createWebSocketServerEventTarget() cuts a spoke off with 1013 and throws when a direct send to it passes maxBufferedAmount", async () => {
  const disconnected: Spoke[] = [];
  await using t = startHub({
    maxBufferedAmount: 64 * 1024,
    onDisconnection: (spoke) => disconnected.push(spoke),
  });
  const reader = await t.connect();
  const slow = await t.connectTcp();
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
  deepEqual(
    closes.map(({ code, wasClean }) => [code, wasClean]),
    [[1013, false]],
  );
  throws(
    () => slow.onHub.dispatchEvent(createEnvelopeEvent("direct", "again", null)),
    /the connection is closed/,
  );
  // The other spoke is untouched.
  const seen = collect<EventEnvelope>(reader.spoke, "*");
  t.hub.dispatchEvent(createEnvelopeEvent("still", "1", null));
  await until(() => seen.length === 1, "the reader still gets fan-out");
  deepEqual([...t.hub.connections], [reader.onHub]);
});

Deno.test("createWebSocketServerEventTarget() leaves nothing behind after hundreds of spokes come and go", async () => {
  let connections = 0;
  let disconnections = 0;
  await using t = startHub({
    onConnection(spoke) {
      connections++;
      // Ballast that would stay reachable if the hub kept a spoke after it left: 1 MiB each.
      const ballast = new Uint8Array(1024 * 1024);
      spoke.addEventListener("*", () => ballast.fill(1));
    },
    onDisconnection: () => disconnections++,
  });
  const batchSize = 50;
  const drops = 5;
  // One batch per call, so that nothing of it stays reachable from this test's own variables.
  const batch = async () => {
    const spokes = Array.from(
      { length: batchSize },
      () => createWebSocketClientEventTarget(new WebSocket(t.url)),
    );
    await Promise.all(spokes.map((spoke) => nextEvent(spoke, "open")));
    const tcp = [];
    for (let i = 0; i < drops; i++) tcp.push(await t.connectTcp());
    await until(() => t.hub.connections.size === batchSize + drops, "the batch is connected");
    const onHub = [...t.hub.connections];
    const closed = spokes.map((spoke) => nextEvent(spoke, "close"));
    // Half leave from the client, half are closed by the hub, and a few drop their TCP connection.
    spokes.forEach((spoke, i) => i % 2 === 0 && spoke.close());
    onHub.slice(0, batchSize).forEach((spoke, i) => i % 2 === 1 && spoke.close());
    for (const { conn } of tcp) conn.close();
    await Promise.all(closed);
    await until(() => t.hub.connections.size === 0, "the batch is gone");
  };
  collectGarbage();
  const before = Deno.memoryUsage();
  const batches = 6;
  for (let i = 0; i < batches; i++) await batch();
  const total = batches * (batchSize + drops);
  await until(() => disconnections === total, "every onDisconnection");
  equal(connections, total);
  equal(t.hub.connections.size, 0);
  await settle();
  equal(disconnections, total, "no spoke was reported twice");
  collectGarbage();
  const after = Deno.memoryUsage();
  const grown = after.heapUsed + after.external - before.heapUsed - before.external;
  // 330 MiB if the spokes were kept; the helper keeps the last one it saw.
  ok(grown < 16 * 1024 * 1024, `heap and external memory grew by ${grown} bytes`);
});

Deno.test("createWebSocketServerEventTarget() close() sends 1001 to every spoke, reports each, then refuses new work", async () => {
  const disconnected: Spoke[] = [];
  await using t = startHub({ onDisconnection: (spoke) => disconnected.push(spoke) });
  const spokes = [await t.connect(), await t.connect(), await t.connect()];
  const spokeCloses = spokes.map(({ spoke }) =>
    nextEvent<CustomEvent<CloseDetail>>(spoke, "close")
  );
  const order: string[] = [];
  t.hub.addEventListener("close", () => order.push(`hub close after ${disconnected.length}`));
  const hubClosed = nextEvent<CustomEvent<CloseDetail>>(t.hub, "close");
  t.hub.close();
  equal((await hubClosed).detail.code, 1001);
  deepEqual(order, ["hub close after 3"], "onDisconnection for each spoke, then close on the hub");
  deepEqual(disconnected, spokes.map(({ onHub }) => onHub));
  equal(t.hub.connections.size, 0);
  for (const closed of spokeCloses) equal((await closed).detail.code, 1001);

  throws(
    () => t.hub.addConnection(t.rawSockets[0]),
    (error: Error) =>
      error.constructor === Error &&
      /Cannot add a connection: the hub is closed/.test(error.message),
  );
  throws(
    () => t.hub.dispatchEvent(createEnvelopeEvent("a", "1", null)),
    (error: Error) =>
      error.constructor === Error && /Cannot dispatch "a:1": the hub is closed/.test(error.message),
  );
  // Validation comes first, even on a closed hub.
  throws(() => t.hub.dispatchEvent(new Event("a:1") as AnyEnvelopeEvent), TypeError);
  t.hub.close();
  await settle();
  equal(order.length, 1, "close fires once");
});

Deno.test("createWebSocketServerEventTarget() dispatchEvent returns true with no spokes", () => {
  const hub = createWebSocketServerEventTarget();
  equal(hub.connections.size, 0);
  equal(hub.dispatchEvent(createEnvelopeEvent("a", "1", null)), true);
  hub.close();
});

Deno.test("createWebSocketServerEventTarget() addCallbackConnection() serves sockets fed through callbacks", async () => {
  const connected: Spoke[] = [];
  const disconnected: Spoke[] = [];
  const hub = createWebSocketServerEventTarget({
    onConnection: (spoke) => connected.push(spoke),
    onDisconnection: (spoke) => disconnected.push(spoke),
  });
  const fed: CallbackConnection[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.binaryType = "arraybuffer";
    // As a callback server (Bun.serve, Hono) does: hand over the open socket, then feed it.
    socket.onopen = () => {
      const connection = hub.addCallbackConnection(socket);
      fed.push(connection);
      socket.onmessage = (event) => connection.message(event.data);
      socket.onclose = (event) => connection.closed(event.code, event.reason);
    };
    return response;
  });
  const url = `ws://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
  try {
    const spokes: Spoke[] = [];
    for (let i = 0; i < 2; i++) {
      const spoke = createWebSocketClientEventTarget(new WebSocket(url));
      await nextEvent(spoke, "open");
      await until(() => connected.length === i + 1, "onConnection");
      spokes.push(spoke);
    }
    deepEqual(connected, fed.map(({ target }) => target));
    const seen = spokes.map((spoke) => collect<EventEnvelope>(spoke, "*"));
    const sources: unknown[] = [];
    hub.addEventListener("ping:*", (event) => {
      sources.push(event.source);
      event.source.dispatchEvent(createEnvelopeEvent("pong", event.detail.id, null));
    });
    const errors: unknown[] = [];
    hub.addEventListener("error", (event) => errors.push(event.source));

    spokes[1].dispatchEvent(createEnvelopeEvent("ping", "1", null));
    await until(() => seen[1].length === 1, "the reply");
    deepEqual(sources, [fed[1].target]);
    fed[0].message(new Uint8Array([1]).buffer);
    deepEqual(errors, [fed[0].target]);
    hub.dispatchEvent(createEnvelopeEvent("all", "1", null));
    await until(
      () => seen.every((envelopes) => envelopes.length > 0 && envelopes.at(-1)!.type === "all"),
      "fan-out",
    );
    deepEqual(seen.map((envelopes) => envelopes.map(({ type }) => type)), [["all"], [
      "pong",
      "all",
    ]]);

    const closed = nextEvent<CustomEvent<CloseDetail>>(fed[0].target, "close");
    spokes[0].close(1000, "bye");
    deepEqual([(await closed).detail.code, (await closed).detail.reason], [1000, "bye"]);
    fed[0].closed(1000, "again");
    fed[0].message(JSON.stringify({ type: "late", id: "1" }));
    await settle();
    deepEqual(disconnected, [fed[0].target], "onDisconnection once");
    deepEqual([...hub.connections], [fed[1].target]);
    equal(sources.length, 1, "nothing is dispatched after closed()");
  } finally {
    hub.close();
    await server.shutdown();
  }
});

Deno.test("createWebSocketServerEventTarget() reports a throwing onConnection or onDisconnection and still fans out and closes", async () => {
  const reported: string[] = [];
  const onError = (event: ErrorEvent) => {
    event.preventDefault();
    reported.push((event.error as Error).message);
  };
  globalThis.addEventListener("error", onError);
  try {
    await using t = startHub({
      onConnection: () => {
        throw new Error("bug in onConnection");
      },
      onDisconnection: () => {
        throw new Error("bug in onDisconnection");
      },
    });
    const a = await t.connect();
    const b = await t.connect();
    const seen = [collect(a.spoke, "*"), collect(b.spoke, "*")];
    t.hub.dispatchEvent(createEnvelopeEvent("n", "1", 1));
    await until(() => seen.every((s) => s.length === 1), "both spokes get the fan-out");
    const closed = [
      nextEvent(a.onHub, "close"),
      nextEvent(b.onHub, "close"),
      nextEvent(t.hub, "close"),
    ];
    t.hub.close();
    await Promise.all(closed);
    equal(t.hub.connections.size, 0);
    await until(() => reported.length === 4, "every callback error is reported");
    deepEqual(reported.sort(), [
      "bug in onConnection",
      "bug in onConnection",
      "bug in onDisconnection",
      "bug in onDisconnection",
    ]);
  } finally {
    globalThis.removeEventListener("error", onError);
  }
});

Deno.test("createWebSocketServerEventTarget() keeps connections read-only", async () => {
  await using t = startHub();
  const { onHub } = await t.connect();
  const connections = t.hub.connections as Set<Spoke>;
  for (
    const change of [
      () => connections.delete(onHub),
      () => connections.clear(),
      () => connections.add(onHub),
    ]
  ) {
    throws(
      change,
      (error: Error) =>
        error instanceof TypeError && /'connections' is read-only/.test(error.message),
    );
  }
  equal(t.hub.connections.size, 1);
  ok(t.hub.connections.has(onHub));
  deepEqual([...t.hub.connections], [onHub]);
});

Deno.test("createWebSocketServerEventTarget() tells a client-side socket's peer when it closes it, with a code the socket takes", async () => {
  await using remote = startHub();
  const ended = [] as CloseDetail[];
  const ws = new WebSocket(remote.url);
  await within(
    new Promise((resolve) => ws.addEventListener("open", resolve, { once: true })),
    "open",
  );
  await until(() => remote.hub.connections.size === 1, "the remote hub has the socket");
  const [remoteSpoke] = remote.hub.connections;
  remoteSpoke.addEventListener("close", (event) => ended.push(event.detail));
  // A hub that dialled out: onConnection runs inside addConnection for a socket given open.
  const hub = createWebSocketServerEventTarget({ onConnection: () => hub.close() });
  const spoke = hub.addConnection(ws);
  equal(spoke.state, "closed");
  equal(hub.connections.size, 0);
  await until(() => ended.length === 1, "the peer hears the close");
  equal(ended[0].code, 1000, "a client-side socket refuses 1001, so it closes with 1000");
});

Deno.test("createWebSocketServerEventTarget() keeps a spoke whose fan-out fits maxBufferedAmount exactly and cuts one byte more", async () => {
  await using t = startHub({ maxBufferedAmount: 1000 });
  const { spoke, onHub } = await t.connect();
  const seen = collect<EventEnvelope>(spoke, "*");
  const exactly = createEnvelopeEvent("a", "1", "x".repeat(1000 - 34));
  equal(JSON.stringify(exactly.detail).length, 1000);
  equal(t.hub.dispatchEvent(exactly), true);
  await until(() => seen.length === 1, "the message of exactly the limit arrives");
  equal(onHub.state, "open");
  const closed = nextEvent<CustomEvent<CloseDetail>>(onHub, "close");
  t.hub.dispatchEvent(createEnvelopeEvent("a", "2", "x".repeat(1000 - 33)));
  equal((await closed).detail.code, 1013);
});
