// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// The iroh spoke and hub, checked against the installed npm package on real
// iroh endpoints (@number0/iroh from .tools/node_modules) bound on 127.0.0.1
// with relays off: iroh_node_test.mjs runs it on Node 20 and 24,
// iroh_bun_test.mjs on Bun. Every case closes its endpoints: a pending native
// promise would keep `node --test`'s process alive for ever.

import { deepEqual, equal, match, throws } from "node:assert/strict";
import iroh from "@number0/iroh";
import { createEnvelopeEvent } from "@alkdev/pubsub/envelope";
import { createIrohHubEventTarget } from "@alkdev/pubsub/event-target-iroh-hub";
import { createIrohSpokeEventTarget } from "@alkdev/pubsub/event-target-iroh-spoke";
import { createPubSub } from "@alkdev/pubsub/pubsub";
import { collect, nextEvent, settle, until, within } from "./_helpers.mjs";

const ALPN = [...new TextEncoder().encode("alkdev/pubsub/test/0")];
const bytes = (text) => [...new TextEncoder().encode(text)];

/** An endpoint on 127.0.0.1, no relay, no discovery; `alpns` to accept. */
function bindEndpoint(alpns) {
  const builder = iroh.Endpoint.builder();
  iroh.presetMinimal(builder);
  builder.relayMode(iroh.RelayMode.disabled());
  if (alpns) builder.alpns(alpns);
  builder.bindAddr("127.0.0.1:0");
  return builder.bind();
}

/**
 * Runs `body` with a hub target on an endpoint that accepts every connection,
 * then closes the hub, every endpoint, and waits for the accept loop to end.
 */
async function withHub(options, body) {
  const joined = [];
  const hub = createIrohHubEventTarget({
    ...options,
    onConnection: (spoke) => {
      joined.push(spoke);
      options.onConnection?.(spoke);
    },
  });
  const endpoint = await bindEndpoint([ALPN]);
  const endpoints = [endpoint];
  const accepting = (async () => {
    for (let incoming; (incoming = await endpoint.acceptNext());) {
      incoming.accept().then((accepted) => accepted.connect()).then(
        (connection) => hub.state === "open" && hub.addConnection(connection),
        () => {},
      );
    }
  })();
  const dial = async () => {
    const local = await bindEndpoint();
    endpoints.push(local);
    return await within(local.connect(endpoint.addr(), ALPN), "the dial");
  };
  const joinedAfter = async (before) => {
    await until(() => joined.length > before, "the hub has the spoke");
    return joined[joined.length - 1];
  };
  const t = {
    hub,
    dial,
    async connect(spokeOptions) {
      const before = joined.length;
      const spoke = createIrohSpokeEventTarget(await dial(), spokeOptions);
      await nextEvent(spoke, "open");
      return { spoke, onHub: await joinedAfter(before) };
    },
    /** A peer that opens its stream and announces it, then reads only if the test does. */
    async connectRaw() {
      const before = joined.length;
      const connection = await dial();
      const stream = await connection.openBi();
      await stream.send.writeAll([10]);
      return { connection, stream, onHub: await joinedAfter(before) };
    },
  };
  try {
    await body(t);
  } finally {
    await within(hub.close(), "the hub to close").catch(() => {});
    for (const local of endpoints.reverse()) await local.close();
    await within(accepting, "the accept loop to end");
  }
}

/**
 * Defines the cases with the runtime's test function.
 *
 * @param {object} runtime
 * @param {(name: string, fn: () => Promise<void>) => void} runtime.test `node:test`'s or `bun:test`'s.
 * @param {string} runtime.name The runtime, for the test names.
 */
export function irohContract({ test, name }) {
  const title = (what) => `${name}, iroh: ${what}`;

  test(
    title("a spoke and the hub exchange envelopes on type:id, type:* then *, in order"),
    () =>
      withHub({}, async (t) => {
        const { spoke, onHub } = await t.connect();
        const atHub = collect(t.hub, "*");
        for (let i = 0; i < 100; i++) {
          spoke.dispatchEvent(createEnvelopeEvent("job.run", String(i), i));
        }
        await until(() => atHub.length === 100, "the hub has all 100");
        deepEqual(
          atHub.map((envelope) => envelope.payload),
          Array.from({ length: 100 }, (_, i) => i),
        );
        const order = [];
        for (const topic of ["job.done:7", "job.done:*", "*"]) {
          spoke.addEventListener(topic, (event) => order.push(`${topic} ${event.detail.payload}`));
        }
        onHub.dispatchEvent(createEnvelopeEvent("job.done", "7", "x"));
        await until(() => order.length === 3, "the spoke hears it");
        deepEqual(order, ["job.done:7 x", "job.done:* x", "* x"]);
      }),
  );

  test(
    title("fan-out reaches every spoke; a reply through event.source reaches the sender alone"),
    () =>
      withHub({}, async (t) => {
        const spokes = [await t.connect(), await t.connect(), await t.connect()];
        const seen = spokes.map(({ spoke }) => collect(spoke, "*"));
        t.hub.addEventListener("ask:*", (event) => {
          event.source.dispatchEvent(
            createEnvelopeEvent("answer", event.detail.id, event.detail.payload),
          );
        });
        spokes[1].spoke.dispatchEvent(createEnvelopeEvent("ask", "q", "for b"));
        await until(() => seen[1].length === 1, "the answer");
        for (let i = 0; i < 50; i++) t.hub.dispatchEvent(createEnvelopeEvent("tick", String(i), i));
        await until(
          () => seen.every((envelopes) => envelopes.filter((e) => e.type === "tick").length === 50),
          "the fan-out",
        );
        await settle();
        deepEqual(seen.map((envelopes) => envelopes.filter((e) => e.type === "answer").length), [
          0,
          1,
          0,
        ]);
        for (const envelopes of seen) {
          deepEqual(
            envelopes.filter((e) => e.type === "tick").map((e) => e.payload),
            Array.from({ length: 50 }, (_, i) => i),
          );
        }
      }),
  );

  test(
    title(
      "bad lines fire error on the hub with source, empty lines are ignored, and the next line arrives",
    ),
    () =>
      withHub({ maxMessageBytes: 200 }, async (t) => {
        const { stream, onHub } = await t.connectRaw();
        const errors = [];
        t.hub.addEventListener(
          "error",
          (event) => errors.push([event.detail.reason, event.source]),
        );
        const arrived = collect(t.hub, "*");
        const long = JSON.stringify({ type: "a", id: "1", payload: "x".repeat(5000) });
        await stream.send.writeAll(
          bytes(`hello\n\n{"type":"a"}\n${long}\n\n{"type":"ok","id":"1"}\n`),
        );
        await until(() => arrived.length === 1, "the valid line");
        deepEqual(errors, [
          ["frame is not JSON", onHub],
          ["invalid envelope: 'id' must be a string (got undefined)", onHub],
          ["frame is larger than maxMessageBytes (200 bytes)", onHub],
        ]);
        deepEqual(arrived, [{ type: "ok", id: "1", payload: undefined }]);
      }),
  );

  test(
    title("close from either side carries its code and reason; onDisconnection fires once each"),
    () => {
      const disconnected = [];
      return withHub({ onDisconnection: (spoke) => disconnected.push(spoke) }, async (t) => {
        const a = await t.connect();
        const b = await t.connect();
        const arrived = collect(a.onHub, "*");
        const aClosed = nextEvent(a.onHub, "close");
        for (let i = 0; i < 500; i++) {
          a.spoke.dispatchEvent(createEnvelopeEvent("n", String(i), "p".repeat(500)));
        }
        a.spoke.close(4000, "bye");
        deepEqual((await aClosed).detail, { code: 4000, reason: "bye", wasClean: true, unsent: 0 });
        equal(arrived.length, 500, "what was sent before close() arrived first");
        const bClosed = nextEvent(b.spoke, "close");
        b.onHub.close(4001, "go");
        deepEqual((await bClosed).detail, { code: 4001, reason: "go", wasClean: true, unsent: 0 });
        await until(() => disconnected.length === 2, "both onDisconnection");
        await settle();
        deepEqual(disconnected, [a.onHub, b.onHub]);
        equal(t.hub.connections.size, 0);
      });
    },
  );

  test(
    title(
      "a peer that never reads is cut off with 1013 while another spoke gets every envelope in order",
    ),
    () => {
      const disconnected = [];
      return withHub({
        maxBufferedAmount: 64 * 1024,
        onDisconnection: (spoke) => disconnected.push(spoke),
      }, async (t) => {
        const reader = await t.connect();
        let count = 0;
        let inOrder = true;
        reader.spoke.addEventListener("tick:*", (event) => {
          if (event.detail.id !== String(count)) inOrder = false;
          count++;
        });
        const slow = await t.connectRaw();
        const closes = collect(slow.onHub, "close");
        const total = 3000;
        for (let i = 0; i < total; i++) {
          if (i % 16 === 0) await until(() => count >= i - 16, "the reader to keep up");
          t.hub.dispatchEvent(createEnvelopeEvent("tick", String(i), "x".repeat(1024)));
        }
        await until(() => count === total, "the reader has every envelope", 20_000);
        equal(inOrder, true);
        deepEqual(disconnected, [slow.onHub]);
        deepEqual(closes.map(({ code, wasClean }) => [code, wasClean]), [[1013, false]]);
        equal(
          await within(slow.connection.closed(), "the slow peer's close"),
          "closed by peer: Try again later: more than 65536 bytes waiting (code 1013)",
        );
      });
    },
  );

  test(
    title("hub.close() delivers what was sent, then gives every spoke 1001, and refuses new work"),
    () =>
      withHub({}, async (t) => {
        const spokes = [await t.connect(), await t.connect()];
        const seen = spokes.map(({ spoke }) => collect(spoke, "*"));
        const closes = spokes.map(({ spoke }) => nextEvent(spoke, "close"));
        for (let i = 0; i < 200; i++) {
          t.hub.dispatchEvent(createEnvelopeEvent("last", String(i), "z".repeat(500)));
        }
        await within(t.hub.close(), "every connection to close");
        for (const [i, closed] of closes.entries()) {
          deepEqual((await closed).detail, { code: 1001, reason: "", wasClean: true, unsent: 0 });
          equal(seen[i].length, 200);
        }
        throws(() => t.hub.dispatchEvent(createEnvelopeEvent("a", "1", null)), /the hub is closed/);
      }),
  );

  test(
    title("one synchronous burst past maxBufferedAmount throws on a spoke, which stays open"),
    () =>
      withHub({}, async (t) => {
        const { spoke } = await t.connect({ maxBufferedAmount: 10_000 });
        const payload = "x".repeat(1000 - 34);
        let sent = 0;
        let thrown;
        try {
          for (; sent < 100; sent++) {
            spoke.dispatchEvent(createEnvelopeEvent("a", String(sent), payload));
          }
        } catch (error) {
          thrown = error;
        }
        equal(sent, 10);
        match(
          thrown.message,
          /10000 bytes are waiting and 1001 more would pass maxBufferedAmount \(10000\)/,
        );
        equal(spoke.state, "open");
      }),
  );

  test(
    title("createPubSub() publishes and subscribes over a spoke and the hub"),
    () =>
      withHub({}, async (t) => {
        const { spoke } = await t.connect();
        const hub = createPubSub({ eventTarget: t.hub });
        const client = createPubSub({ eventTarget: spoke });
        const requests = hub.subscribe("job.run");
        const replies = client.subscribe("job.done", "1");
        client.publish("job.run", "1", { n: 21 });
        const { value: request } = await within(requests.next(), "the request");
        hub.publish("job.done", request.id, { n: request.payload.n * 2 });
        const { value: reply } = await within(replies.next(), "the reply");
        deepEqual(reply, { type: "job.done", id: "1", payload: { n: 42 } });
        await requests.return();
        await replies.return();
      }),
  );
}
