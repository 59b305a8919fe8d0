// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// A TypeScript consumer of the installed package, compiled (never run) by
// `deno task test npm` with tsc --noEmit under moduleResolution "nodenext"
// (Node, no DOM) and "bundler" (with DOM): the package's .d.ts resolve, typed
// events narrow `detail`, wrong payloads and names do not compile, and the
// `ws` package's sockets fit the client and the hub.

import { WebSocket as WsWebSocket, WebSocketServer } from "ws";
import { createInProcessEventTarget } from "@alkdev/pubsub";
import { createEnvelopeEvent, type EnvelopeEvents } from "@alkdev/pubsub/envelope";
import {
  type ConnectionEventTarget,
  createWebSocketClientEventTarget,
} from "@alkdev/pubsub/event-target-websocket-client";
import { createWebSocketServerEventTarget } from "@alkdev/pubsub/event-target-websocket-server";

type Events = EnvelopeEvents<{
  "call.requested": { input: number };
  "call.responded": { output: number };
}>;

// The hub, with the ws package's server-side sockets.
const hub = createWebSocketServerEventTarget<Events>({
  onConnection: (spoke) => console.log(spoke.state, hub.connections.size),
});
new WebSocketServer({ port: 0 }).on("connection", (ws) => {
  const spoke: ConnectionEventTarget<Events> = hub.addConnection(ws);
  spoke.addEventListener("close", (event) => console.log(event.detail.code));
});
hub.addEventListener("call.requested:*", (event) => {
  const input: number = event.detail.payload.input;
  const replyTo: ConnectionEventTarget<Events> = event.source;
  replyTo.dispatchEvent(createEnvelopeEvent("call.responded", event.detail.id, { output: input }));
  // @ts-expect-error call.responded carries { output: number }
  replyTo.dispatchEvent(createEnvelopeEvent("call.responded", event.detail.id, { output: "2" }));
});
hub.addEventListener("error", (event) => console.log(event.detail.reason, event.source.state));

// A spoke on the ws package's client socket.
const spoke = createWebSocketClientEventTarget<Events>(new WsWebSocket("ws://127.0.0.1:8080"));
spoke.addEventListener("call.responded:7", (event) => {
  const output: number = event.detail.payload.output;
  // @ts-expect-error output is a number
  const wrong: string = event.detail.payload.output;
  console.log(output, wrong);
});
spoke.addEventListener("*", (event) => console.log(event.detail.type, event.detail.id));
spoke.addEventListener("open", (event) => console.log(event.type));
spoke.addEventListener("error", (event) => console.log(event.detail.reason, event.detail.data));
spoke.addEventListener("close", (event) => console.log(event.detail.wasClean, event.detail.unsent));
spoke.addEventListener("call.responded:7", { handleEvent: (event) => event.detail.payload.output });
spoke.addEventListener("close", () => {}, { once: true, signal: AbortSignal.timeout(1000) });
// @ts-expect-error no envelope type "call.unknown"
spoke.addEventListener("call.unknown:7", () => {});
spoke.dispatchEvent(createEnvelopeEvent("call.requested", "7", { input: 1 }));
// @ts-expect-error call.requested carries { input: number }
spoke.dispatchEvent(createEnvelopeEvent("call.requested", "7", { input: "1" }));
const limits = { maxBufferedAmount: "1" };
// @ts-expect-error a maxBufferedAmount is a number
createWebSocketClientEventTarget(new WsWebSocket("ws://127.0.0.1:8080"), limits);

// Node 22+'s (and the browser's) global WebSocket fits too.
createWebSocketClientEventTarget<Events>(new WebSocket("ws://127.0.0.1:8080")).close(1000, "bye");

// The root entry re-exports every target.
const local = createInProcessEventTarget<Events>();
local.dispatchEvent(createEnvelopeEvent("call.responded", "1", { output: 1 }));
