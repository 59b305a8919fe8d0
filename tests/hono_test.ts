// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// The hub behind a real Hono app on Deno.serve, fed through
// addCallbackConnection from Hono's upgradeWebSocket callbacks, exactly as the
// Hono example in server.ts shows; the spokes are real WebSockets.

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { Hono } from "hono";
import { upgradeWebSocket } from "hono/deno";
import type { ConnectionEventTarget } from "../client.ts";
import {
  type CloseDetail,
  createEnvelopeEvent,
  type ErrorDetail,
  type EventEnvelope,
} from "../envelope.ts";
import type {
  CallbackConnection,
  CreateWebSocketServerEventTargetOptions,
  WebSocketServerEventTarget,
} from "../server.ts";
import { collect, nextEvent, settle, startHub, tally, until } from "./_helpers.ts";

type Spoke = ConnectionEventTarget;

/**
 * `startHub` with the hub served by a Hono app at `/ws`; `fed` holds what
 * addCallbackConnection returned for each spoke, in the order they opened.
 */
function startHonoHub(options: CreateWebSocketServerEventTargetOptions = {}) {
  const fed: CallbackConnection[] = [];
  const serve = (hub: WebSocketServerEventTarget) => {
    const app = new Hono();
    app.get(
      "/ws",
      upgradeWebSocket(() => {
        let spoke: CallbackConnection | undefined;
        return {
          onOpen: (_event, ws) => {
            spoke = hub.addCallbackConnection(ws);
            fed.push(spoke);
          },
          onMessage: (event) => spoke?.message(event.data),
          onClose: (event) => spoke?.closed(event.code, event.reason),
        };
      }),
    );
    return app.fetch;
  };
  return Object.assign(startHub(options, { serve, path: "/ws" }), { fed });
}

Deno.test("a hub on Hono's upgradeWebSocket fans out to every spoke in order", async () => {
  await using t = startHonoHub();
  const spokes = [];
  for (let i = 0; i < 3; i++) spokes.push((await t.connect()).spoke);
  equal(t.hub.connections.size, 3);
  const received = spokes.map((spoke) => collect<EventEnvelope>(spoke, "*"));
  for (let i = 0; i < 50; i++) t.hub.dispatchEvent(createEnvelopeEvent("tick", String(i), { i }));
  await until(() => received.every((seen) => seen.length === 50), "every spoke has all 50");
  const expected = Array.from(
    { length: 50 },
    (_, i) => ({ type: "tick", id: String(i), payload: { i } }),
  );
  for (const seen of received) deepEqual(seen, expected);
});

Deno.test("a hub on Hono's upgradeWebSocket hears every spoke, with source naming the target addCallbackConnection returned", async () => {
  const connected: Spoke[] = [];
  await using t = startHonoHub({ onConnection: (spoke) => connected.push(spoke) });
  const a = await t.connect();
  const b = await t.connect();
  deepEqual(connected, t.fed.map(({ target }) => target));
  deepEqual([a.onHub, b.onHub], [t.fed[0].target, t.fed[1].target]);
  const names = new Map<unknown, string>([[t.fed[0].target, "a"], [t.fed[1].target, "b"]]);
  const heard: string[] = [];
  for (const name of ["job.done:7", "job.done:*", "*"] as const) {
    t.hub.addEventListener(name, (event) => {
      heard.push(`${name} ${event.detail.payload} from ${names.get(event.source)}`);
    });
  }
  const own = collect<EventEnvelope>(t.fed[1].target, "*");

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
  deepEqual(own, [{ type: "job.done", id: "7", payload: "y" }], "the spoke's own target hears it");
});

Deno.test("a hub on Hono's upgradeWebSocket replies through event.source to that spoke alone and never relays between spokes", async () => {
  await using t = startHonoHub();
  const spokes = [await t.connect(), await t.connect(), await t.connect()];
  const seen = spokes.map(({ spoke }) => collect<EventEnvelope>(spoke, "*"));
  t.hub.addEventListener("ask:*", (event) => {
    event.source.dispatchEvent(
      createEnvelopeEvent("answer", event.detail.id, `for ${event.detail.payload}`),
    );
  });
  spokes.forEach(({ spoke }, i) => spoke.dispatchEvent(createEnvelopeEvent("ask", `q${i}`, i)));
  await until(() => seen.every((envelopes) => envelopes.length === 1), "each spoke's answer");
  await settle();
  seen.forEach((envelopes, i) => {
    deepEqual(envelopes, [{ type: "answer", id: `q${i}`, payload: `for ${i}` }]);
  });
});

Deno.test("a hub on Hono's upgradeWebSocket reports bad input on the spoke's target and on the hub, and the next envelope arrives", async () => {
  await using t = startHonoHub();
  const { ws, onHub } = await t.connectRaw();
  const bystander = collect((await t.connect()).spoke, "*");
  const hubErrors: { detail: ErrorDetail; source: unknown }[] = [];
  t.hub.addEventListener(
    "error",
    (event) => hubErrors.push({ detail: event.detail, source: event.source }),
  );
  const spokeErrors = collect<ErrorDetail>(onHub, "error");
  const arrived = collect<EventEnvelope>(t.hub, "*");
  const cases: [string | Uint8Array, RegExp, string][] = [
    ["hello", /^frame is not JSON$/, "hello"],
    [new Uint8Array([1, 2, 3]), /^binary frames are not envelopes \(3 bytes\)$/, "\x01\x02\x03"],
  ];
  for (const [i, [frame, reason, data]] of cases.entries()) {
    ws.send(frame);
    ws.send(JSON.stringify({ type: "ok", id: String(i) }));
    await until(() => arrived.length === i + 1, "the next valid envelope");
    equal(hubErrors.length, i + 1);
    equal(spokeErrors.length, i + 1);
    match(hubErrors[i].detail.reason, reason);
    match(spokeErrors[i].reason, reason);
    equal(hubErrors[i].detail.data, data);
    equal(spokeErrors[i].data, data);
    equal(hubErrors[i].source, onHub);
  }
  deepEqual(arrived.map(({ id }) => id), ["0", "1"]);
  equal(onHub.state, "open");
  equal(t.hub.connections.has(onHub), true);
  await settle();
  equal(bystander.length, 0, "nothing from the bad spoke reaches another spoke");
});

Deno.test("a hub on Hono's upgradeWebSocket fires onDisconnection once when a spoke closes, leaving connections empty", async () => {
  const disconnected: Spoke[] = [];
  await using t = startHonoHub({ onDisconnection: (spoke) => disconnected.push(spoke) });
  const { spoke, onHub } = await t.connect();
  const closed = nextEvent<CustomEvent<CloseDetail>>(onHub, "close");
  spoke.close(1000, "done");
  const { detail } = await closed;
  deepEqual([detail.code, detail.reason, detail.wasClean], [1000, "done", true]);
  deepEqual(disconnected, [onHub]);
  equal(t.hub.connections.size, 0);
  await settle();
  equal(disconnected.length, 1, "exactly once");
});

Deno.test("a hub on Hono's upgradeWebSocket sends close() to every spoke with 1001", async () => {
  const disconnected: Spoke[] = [];
  await using t = startHonoHub({ onDisconnection: (spoke) => disconnected.push(spoke) });
  const spokes = [await t.connect(), await t.connect(), await t.connect()];
  const closes = spokes.map(({ spoke }) => nextEvent<CustomEvent<CloseDetail>>(spoke, "close"));
  t.hub.close();
  for (const closed of closes) equal((await closed).detail.code, 1001);
  deepEqual(disconnected, spokes.map(({ onHub }) => onHub));
  equal(t.hub.connections.size, 0);
});

Deno.test("a hub on Hono's upgradeWebSocket cuts off a spoke that never reads with 1013, through WSContext.raw, while a reader gets every message in order", async () => {
  const limit = 64 * 1024;
  const disconnected: Spoke[] = [];
  let sending = -1;
  const cutAt: number[] = [];
  await using t = startHonoHub({
    maxBufferedAmount: limit,
    onDisconnection: (spoke) => {
      disconnected.push(spoke);
      cutAt.push(sending);
    },
  });
  const reader = tally((await t.connect()).spoke, "tick");
  const slow = await t.connectTcp();
  const closes = collect<CloseDetail>(slow.onHub, "close");

  // Enough to fill the slow peer's TCP buffers many times over.
  const total = 32_000;
  const payload = "x".repeat(1024);
  for (sending = 0; sending < total; sending++) {
    // At the reader's pace: at most 32 messages (34 KB) in flight, under the limit even while
    // Deno's socket still counts what the reader has read. The slow spoke is never waited for.
    if (sending % 16 === 0) await reader.reached(sending - 16);
    t.hub.dispatchEvent(createEnvelopeEvent("tick", String(sending), payload));
  }
  await reader.reached(total);

  // Cut off during the fan-out, while its TCP connection was still open.
  deepEqual(disconnected, [slow.onHub]);
  ok(cutAt[0] >= 0 && cutAt[0] < total, `cut off while sending (at ${cutAt[0]})`);
  deepEqual(closes.map(({ code, wasClean }) => [code, wasClean]), [[1013, false]]);
  match(closes[0].reason, /^Try again later: more than 65536 bytes waiting$/);
  equal(t.hub.connections.size, 1);
  equal(reader.count, total);
  equal(reader.inOrder, true);
  await settle();
  equal(disconnected.length, 1, "onDisconnection once, also after the TCP connection ends");
});
