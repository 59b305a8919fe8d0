// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// A hub from the installed npm package on the `ws` package's WebSocketServer,
// on 127.0.0.1 and a free port: the Node suites' and the browser suite's hub.

import { once } from "node:events";
import { WebSocketServer } from "ws";
import { createWebSocketServerEventTarget } from "@alkdev/pubsub/event-target-websocket-server";
import { within } from "./_helpers.mjs";

/**
 * Starts a hub; every upgraded socket is handed to `hub.addConnection`.
 *
 * @param {object} options The hub's options.
 * @returns {Promise<import("./_websocket_contract.mjs").TestHub>}
 */
export async function startNodeHub(options = {}) {
  const joined = [];
  const rawSockets = [];
  const hub = createWebSocketServerEventTarget({
    ...options,
    onConnection: (spoke) => {
      joined.push(spoke);
      options.onConnection?.(spoke);
    },
  });
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await within(once(wss, "listening"), "the ws server to listen");
  wss.on("connection", (ws) => {
    rawSockets.push(ws);
    hub.addConnection(ws);
  });
  const { port } = wss.address();
  return {
    hub,
    port,
    url: `ws://127.0.0.1:${port}`,
    joined,
    rawSockets,
    bufferedAmount: (raw) => raw.bufferedAmount,
    async close() {
      hub.close();
      for (const ws of wss.clients) ws.terminate();
      await within(new Promise((resolve) => wss.close(resolve)), "the ws server to close");
    },
  };
}
