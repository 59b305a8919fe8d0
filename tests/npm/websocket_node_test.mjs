// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// The WebSocket hub and client from the installed npm package on Node: a hub on
// the `ws` package's WebSocketServer, spokes with the `ws` client and, on Node
// 22+, the global WebSocket. Run by `deno task test node` on Node 20 and 24.

import { equal } from "node:assert/strict";
import { test } from "node:test";
import { WebSocket as WsWebSocket } from "ws";
import { startNodeHub } from "./_node_hub.mjs";
import { websocketContract } from "./_websocket_contract.mjs";

const major = Number(process.versions.node.split(".")[0]);
const expected = process.env.EXPECT_NODE_MAJOR;
if (expected) {
  test(`runs on Node ${expected}`, () => equal(major, Number(expected)));
}

const clients = [["ws", (url) => new WsWebSocket(url)]];
// Node 22 made WebSocket global; from there on it must work as a spoke too.
if (major >= 22) clients.push(["global WebSocket", (url) => new WebSocket(url)]);

websocketContract({ test, server: `Node ${major} ws`, clients, startHub: startNodeHub });
