// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// The WebSocket hub's contract, checked against the installed npm package on a
// real server of each runtime: websocket_node_test.mjs runs it on Node with the
// `ws` package's server, websocket_bun_test.mjs on Bun.serve. Each runtime gives
// `startHub` (its server, with every upgraded socket handed to the hub) and the
// WebSocket clients it has; every case runs once per client.

import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import { createEnvelopeEvent } from "@alkdev/pubsub/envelope";
import { createWebSocketClientEventTarget } from "@alkdev/pubsub/event-target-websocket-client";
import { collect, nextEvent, settle, slowReader, until, within } from "./_helpers.mjs";

/**
 * @typedef {object} TestHub What a runtime's `startHub(options)` resolves to.
 * @property {import("@alkdev/pubsub").WebSocketServerEventTarget} hub The hub under test.
 * @property {string} url Its `ws://127.0.0.1:<port>` address.
 * @property {number} port Its port.
 * @property {object[]} joined The hub-side spoke targets, in `onConnection` order.
 * @property {{ send(frame: string | Uint8Array): void }[]} rawSockets The server's own sockets, in
 *   connection order, for frames sent below the library.
 * @property {(raw: object) => number} bufferedAmount Bytes a server socket has waiting.
 * @property {() => Promise<void>} close Stops the server.
 */

/**
 * Defines the contract's cases with the runtime's test function.
 *
 * @param {object} runtime
 * @param {(name: string, fn: () => Promise<void>) => void} runtime.test `node:test`'s or `bun:test`'s.
 * @param {string} runtime.server What the hub runs on, for the test names.
 * @param {(options?: object) => Promise<TestHub>} runtime.startHub Starts a hub on a real server.
 * @param {[string, (url: string) => WebSocket][]} runtime.clients The WebSocket clients to test.
 */
export function websocketContract({ test, server, startHub, clients }) {
  /** Runs `body` with a started hub, then closes every socket it opened and the server. */
  async function withHub(options, body) {
    const t = await startHub(options);
    const sockets = [];
    t.socket = (make) => {
      const ws = make(t.url);
      sockets.push(ws);
      return ws;
    };
    t.connect = async (make, clientOptions) => {
      const before = t.joined.length;
      const ws = t.socket(make);
      const spoke = createWebSocketClientEventTarget(ws, clientOptions);
      await nextEvent(spoke, "open");
      await until(() => t.joined.length > before, "the hub has the spoke");
      return { spoke, ws, onHub: t.joined[t.joined.length - 1] };
    };
    try {
      await body(t);
    } finally {
      t.hub.close();
      for (const ws of sockets) {
        if (ws.readyState === 3) continue;
        const closed = new Promise((resolve) => ws.addEventListener("close", resolve));
        // ws reports closing a socket that is still connecting as an error.
        ws.addEventListener("error", () => {});
        ws.close();
        await within(closed, "a spoke's socket to close").catch(() => {});
      }
      await t.close();
    }
  }

  for (const [client, make] of clients) {
    const name = (what) => `${server} hub, ${client} spokes: ${what}`;

    test(
      name("fans an envelope out to every spoke, on type:id, type:* then *"),
      () =>
        withHub({}, async (t) => {
          const spokes = [await t.connect(make), await t.connect(make), await t.connect(make)];
          equal(t.hub.connections.size, 3);
          const heard = spokes.map(({ spoke }) => {
            const order = [];
            for (const topic of ["job.done:7", "job.done:*", "*"]) {
              spoke.addEventListener(
                topic,
                (event) => order.push(`${topic} ${event.detail.payload.n}`),
              );
            }
            return order;
          });
          equal(t.hub.dispatchEvent(createEnvelopeEvent("job.done", "7", { n: 1 })), true);
          await until(() => heard.every((order) => order.length === 3), "every spoke hears it");
          await settle(50);
          for (const order of heard) deepEqual(order, ["job.done:7 1", "job.done:* 1", "* 1"]);
        }),
    );

    test(
      name("hub listeners hear every spoke, with source naming the sending spoke"),
      () =>
        withHub({}, async (t) => {
          const a = await t.connect(make);
          const b = await t.connect(make);
          const heard = [];
          t.hub.addEventListener("job.run:*", (event) => heard.push([event.detail, event.source]));
          const onA = collect(a.onHub, "*");
          a.spoke.dispatchEvent(createEnvelopeEvent("job.run", "a1", 1));
          b.spoke.dispatchEvent(createEnvelopeEvent("job.run", "b1", 2));
          a.spoke.dispatchEvent(createEnvelopeEvent("job.run", "a2", { deep: [3] }));
          await until(() => heard.length === 3, "the hub hears three envelopes");
          const fromA = heard.filter(([, source]) => source === a.onHub).map(([detail]) => detail);
          const fromB = heard.filter(([, source]) => source === b.onHub).map(([detail]) => detail);
          deepEqual(fromA, [
            { type: "job.run", id: "a1", payload: 1 },
            { type: "job.run", id: "a2", payload: { deep: [3] } },
          ]);
          deepEqual(fromB, [{ type: "job.run", id: "b1", payload: 2 }]);
          deepEqual(onA, fromA);
        }),
    );

    test(
      name("a reply through event.source reaches the sending spoke alone"),
      () =>
        withHub({}, async (t) => {
          const a = await t.connect(make);
          const b = await t.connect(make);
          t.hub.addEventListener("job.run:*", (event) => {
            event.source.dispatchEvent(
              createEnvelopeEvent("job.done", event.detail.id, event.detail.payload * 10),
            );
          });
          const toA = collect(a.spoke, "*");
          const toB = collect(b.spoke, "*");
          a.spoke.dispatchEvent(createEnvelopeEvent("job.run", "1", 4));
          await until(() => toA.length === 1, "the reply reaches the sender");
          await settle();
          deepEqual(toA, [{ type: "job.done", id: "1", payload: 40 }]);
          deepEqual(toB, []);
        }),
    );

    test(
      name("never relays one spoke's envelopes to the others, nor echoes them back"),
      () =>
        withHub({}, async (t) => {
          const a = await t.connect(make);
          const b = await t.connect(make);
          const atHub = collect(t.hub, "*");
          const toA = collect(a.spoke, "*");
          const toB = collect(b.spoke, "*");
          for (let i = 0; i < 3; i++) {
            a.spoke.dispatchEvent(createEnvelopeEvent("chat", String(i), i));
          }
          await until(() => atHub.length === 3, "the hub hears all three");
          await settle();
          deepEqual(toA, []);
          deepEqual(toB, []);
        }),
    );

    test(
      name(
        "bad frames from a spoke fire error on the hub (with source) and the spoke, and it goes on",
      ),
      () =>
        withHub({ maxMessageBytes: 200 }, async (t) => {
          const a = await t.connect(make);
          const atHub = [];
          t.hub.addEventListener("error", (event) => atHub.push([event.detail, event.source]));
          const onSpoke = collect(a.onHub, "error");
          const arrived = collect(t.hub, "*");
          const cases = badFrames();
          for (const [i, [frame]] of cases.entries()) {
            a.ws.send(frame);
            a.spoke.dispatchEvent(createEnvelopeEvent("ok", String(i), null));
            await until(() => arrived.length === i + 1, `the envelope after frame ${i}`);
          }
          equal(atHub.length, cases.length);
          equal(onSpoke.length, cases.length);
          for (const [i, [frame, reason]] of cases.entries()) {
            match(atHub[i][0].reason, reason);
            equal(atHub[i][1], a.onHub);
            deepEqual(onSpoke[i], atHub[i][0]);
            if (typeof frame === "string") equal(atHub[i][0].data, frame.slice(0, 256));
          }
          deepEqual(arrived.map((envelope) => envelope.id), cases.map((_, i) => String(i)));
        }),
    );

    test(
      name("bad frames from the hub fire error on the spoke, and it goes on"),
      () =>
        withHub({}, async (t) => {
          const a = await t.connect(make, { maxMessageBytes: 200 });
          const errors = collect(a.spoke, "error");
          const arrived = collect(a.spoke, "*");
          const cases = badFrames();
          for (const [i, [frame]] of cases.entries()) {
            t.rawSockets[0].send(frame);
            t.hub.dispatchEvent(createEnvelopeEvent("ok", String(i), null));
            await until(() => arrived.length === i + 1, `the envelope after frame ${i}`);
          }
          equal(errors.length, cases.length);
          for (const [i, [, reason]] of cases.entries()) match(errors[i].reason, reason);
        }),
    );

    test(
      name("an invalid event throws a TypeError on spoke and hub, and nothing is sent"),
      () =>
        withHub({}, async (t) => {
          const a = await t.connect(make);
          const atHub = collect(t.hub, "*");
          const toA = collect(a.spoke, "*");
          const wrongTopic = new CustomEvent("a:2", { detail: { type: "a", id: "1" } });
          const bigint = new CustomEvent("a:1", { detail: { type: "a", id: "1", payload: 1n } });
          const typeError = (message) => (error) =>
            error instanceof TypeError && message.test(error.message);
          throws(
            () => a.spoke.dispatchEvent(wrongTopic),
            typeError(/must be the envelope's topic "a:1"/),
          );
          throws(() => a.spoke.dispatchEvent(bigint), typeError(/JSON cannot encode the payload/));
          throws(() => t.hub.dispatchEvent(bigint), typeError(/JSON cannot encode the payload/));
          throws(() => a.onHub.dispatchEvent(new Event("a:1")), typeError(/invalid envelope/));
          await settle();
          deepEqual(atHub, []);
          deepEqual(toA, []);
        }),
    );

    test(
      name("sends made while CONNECTING are queued and go out in order on open"),
      () =>
        withHub({}, async (t) => {
          const arrived = collect(t.hub, "*");
          const ws = t.socket(make);
          equal(ws.readyState, 0);
          const spoke = createWebSocketClientEventTarget(ws);
          equal(spoke.state, "connecting");
          for (let i = 0; i < 5; i++) spoke.dispatchEvent(createEnvelopeEvent("n", String(i), i));
          await nextEvent(spoke, "open");
          await until(() => arrived.length === 5, "the queued envelopes arrive");
          deepEqual(arrived.map((envelope) => envelope.payload), [0, 1, 2, 3, 4]);
        }),
    );

    test(
      name("a spoke's close reaches both ends once, onDisconnection once, and the rest go on"),
      () => {
        const gone = [];
        return withHub({ onDisconnection: (spoke) => gone.push(spoke) }, async (t) => {
          const a = await t.connect(make);
          const b = await t.connect(make);
          const [hubSide, clientSide] = [collect(a.onHub, "close"), collect(a.spoke, "close")];
          a.spoke.close(4001, "bye");
          await until(() => hubSide.length === 1 && clientSide.length === 1, "both ends close");
          await settle(50);
          equal(hubSide.length, 1);
          equal(clientSide.length, 1);
          deepEqual([hubSide[0].code, hubSide[0].reason], [4001, "bye"]);
          deepEqual(clientSide[0], { code: 4001, reason: "bye", wasClean: true, unsent: 0 });
          deepEqual(gone, [a.onHub]);
          equal(t.hub.connections.size, 1);
          ok(t.hub.connections.has(b.onHub));
          const closed = /Cannot dispatch "a:1": the connection is closed/;
          throws(() => a.spoke.dispatchEvent(createEnvelopeEvent("a", "1", null)), closed);
          throws(() => a.onHub.dispatchEvent(createEnvelopeEvent("a", "1", null)), closed);
          const toB = collect(b.spoke, "*");
          t.hub.dispatchEvent(createEnvelopeEvent("still", "1", "here"));
          await until(() => toB.length === 1, "the other spoke still hears the hub");
        });
      },
    );

    test(
      name(
        "hub.close() closes every spoke with 1001, each gets onDisconnection, then the hub closes",
      ),
      () => {
        const gone = [];
        return withHub({ onDisconnection: (spoke) => gone.push(spoke) }, async (t) => {
          const a = await t.connect(make);
          const b = await t.connect(make);
          const closes = [nextEvent(a.spoke, "close"), nextEvent(b.spoke, "close")];
          const hubCloses = collect(t.hub, "close");
          t.hub.close();
          deepEqual(new Set(gone), new Set([a.onHub, b.onHub]));
          equal(t.hub.connections.size, 0);
          deepEqual(hubCloses, [{ code: 1001, reason: "", wasClean: true, unsent: 0 }]);
          for (const event of await Promise.all(closes)) equal(event.detail.code, 1001);
          throws(
            () => t.hub.dispatchEvent(createEnvelopeEvent("a", "1", null)),
            /the hub is closed/,
          );
          throws(
            () => t.hub.addConnection(t.socket(make)),
            /Cannot add a connection: the hub is closed/,
          );
          t.hub.close();
          equal(hubCloses.length, 1);
        });
      },
    );
  }

  test(`${server} hub: a spoke that stops reading is cut off with 1013 at once, the others get every message in order`, () => {
    const limit = 256 * 1024;
    let dispatching = false;
    let peerEnded = () => false;
    const gone = [];
    return withHub({
      maxBufferedAmount: limit,
      onDisconnection: (spoke) => gone.push({ spoke, dispatching, peerEnded: peerEnded() }),
    }, async (t) => {
      const good = [];
      for (const [, make] of clients) good.push(await t.connect(make));
      const slow = await slowReader(t.port);
      peerEnded = slow.ended;
      await until(() => t.hub.connections.size === good.length + 1, "the hub has the slow reader");
      const slowOnHub = t.joined.at(-1);
      const slowRaw = t.rawSockets.at(-1);
      const slowClose = collect(slowOnHub, "close");
      const received = good.map(({ spoke }) => collect(spoke, "*"));
      const chunk = "x".repeat(16 * 1024);
      let sent = 0;
      const send = (count) => {
        dispatching = true;
        try {
          for (let i = 0; i < count; i++) {
            t.hub.dispatchEvent(createEnvelopeEvent("tick", String(sent++), chunk));
          }
        } finally {
          dispatching = false;
        }
      };
      try {
        // Batches small enough that the readers drain between them: only the slow one falls behind.
        for (let round = 0; round < 2_000 && gone.length === 0; round++) {
          send(4);
          await until(
            () => received.every((got) => got.length === sent),
            `${sent} messages arrive`,
          );
        }
        equal(gone.length, 1, "the slow reader was cut off");
        equal(gone[0].spoke, slowOnHub);
        ok(gone[0].dispatching, "onDisconnection fired within the fan-out that passed the limit");
        equal(gone[0].peerEnded, false, "it did not wait for the dead peer's TCP to end");
        equal(slowClose.length, 1);
        equal(slowClose[0].code, 1013);
        equal(slowClose[0].wasClean, false);
        match(slowClose[0].reason, /Try again later: more than 262144 bytes waiting/);
        equal(t.hub.connections.size, good.length);
        // Nothing more is held for it, however much the hub sends.
        const held = t.bufferedAmount(slowRaw);
        send(20);
        await until(() => received.every((got) => got.length === sent), "the last messages arrive");
        ok(t.bufferedAmount(slowRaw) <= held, "the hub holds nothing more for the cut-off spoke");
        const all = Array.from({ length: sent }, (_, i) => String(i));
        for (const got of received) deepEqual(got.map((envelope) => envelope.id), all);
      } finally {
        slow.socket.destroy();
      }
    });
  });
}

/** Frames that are not envelopes, with the reason each is refused (maxMessageBytes 200). */
function badFrames() {
  return [
    ["hello", /^frame is not JSON$/],
    ["[1,2]", /an envelope must be an object/],
    ['{"type":"a:b","id":"1"}', /'type' must not contain ':'/],
    ['{"type":"a","id":"*"}', /'id' must not be '\*'/],
    [new Uint8Array([1, 2, 3]), /^binary frames are not envelopes \(3 bytes\)$/],
    [
      JSON.stringify({ type: "a", id: "1", payload: "x".repeat(200) }),
      /larger than maxMessageBytes \(200 bytes\)/,
    ],
  ];
}
