// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// The WebSocket hub and client from the installed npm package on Bun: a hub on
// Bun.serve through the callback way in (addCallbackConnection, kept in
// ws.data), spokes with Bun's WebSocket. Run by `deno task test bun`.

import { deepEqual, equal } from "node:assert/strict";
import { test } from "bun:test";
import { createEnvelopeEvent } from "@alkdev/pubsub/envelope";
import { createWebSocketClientEventTarget } from "@alkdev/pubsub/event-target-websocket-client";
import { createWebSocketServerEventTarget } from "@alkdev/pubsub/event-target-websocket-server";
import { websocketContract } from "./_websocket_contract.mjs";
import { collect, nextEvent, settle, until } from "./_helpers.mjs";

/**
 * A hub on Bun.serve. With `publish`, every spoke subscribes to one topic in
 * `open` and the hub's fan-out goes through `server.publish`.
 */
function startHub(options = {}, { publish = false } = {}) {
  const joined = [];
  const rawSockets = [];
  const hub = createWebSocketServerEventTarget({
    ...options,
    onConnection: (spoke) => {
      joined.push(spoke);
      options.onConnection?.(spoke);
    },
    // `server` is declared below; the hub calls this only once spokes are connected.
    ...(publish ? { broadcast: (text) => server.publish("hub", text) } : {}),
  });
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request, server) {
      if (server.upgrade(request, { data: {} })) return undefined;
      return new Response("WebSocket only", { status: 426 });
    },
    websocket: {
      open(ws) {
        rawSockets.push(ws);
        if (publish) ws.subscribe("hub");
        ws.data.spoke = hub.addCallbackConnection(ws);
      },
      message: (ws, message) => ws.data.spoke?.message(message),
      close: (ws, code, reason) => ws.data.spoke?.closed(code, reason),
    },
  });
  return {
    hub,
    port: server.port,
    url: `ws://127.0.0.1:${server.port}`,
    joined,
    rawSockets,
    bufferedAmount: (raw) => raw.getBufferedAmount(),
    close: () => server.stop(true),
  };
}

test(`runs on Bun`, () => equal(typeof Bun.version, "string"));

websocketContract({
  test,
  server: `Bun ${Bun.version} Bun.serve`,
  clients: [["Bun WebSocket", (url) => new WebSocket(url)]],
  startHub: (options) => Promise.resolve(startHub(options)),
});

test("Bun.serve hub with the broadcast option: server.publish delivers the fan-out to every spoke", async () => {
  const t = startHub({}, { publish: true });
  const spokes = [];
  try {
    for (let i = 0; i < 3; i++) {
      const spoke = createWebSocketClientEventTarget(new WebSocket(t.url));
      spokes.push(spoke);
      await nextEvent(spoke, "open");
    }
    await until(() => t.hub.connections.size === 3, "the hub has three spokes");
    const heard = spokes.map((spoke) => collect(spoke, "news:*"));
    for (let i = 0; i < 5; i++) t.hub.dispatchEvent(createEnvelopeEvent("news", String(i), { i }));
    await until(() => heard.every((got) => got.length === 5), "every spoke hears five envelopes");
    await settle(50);
    for (const got of heard) deepEqual(got.map((envelope) => envelope.payload.i), [0, 1, 2, 3, 4]);
    // Direct sends still go to one spoke alone.
    t.hub.addEventListener("ping:*", (event) => {
      event.source.dispatchEvent(createEnvelopeEvent("pong", event.detail.id, null));
    });
    const pongs = spokes.map((spoke) => collect(spoke, "pong:*"));
    spokes[1].dispatchEvent(createEnvelopeEvent("ping", "1", null));
    await until(() => pongs[1].length === 1, "the pong reaches the sender");
    await settle();
    deepEqual(pongs.map((got) => got.length), [0, 1, 0]);
  } finally {
    t.hub.close();
    await t.close();
  }
});
