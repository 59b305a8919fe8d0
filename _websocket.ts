// Copyright 2026 the @alkdev/pubsub authors. MIT license.
// This module is browser compatible.

// Maps a standard-shaped WebSocket onto a `Connection`: the one place that
// knows WebSocket events, shared by the client and the hub's `addConnection`.

import { Connection, type ConnectionHooks, type ConnectionLimits } from "./_connection.ts";

/**
 * The standard WebSocket shape the targets need: browsers', Deno's, Bun's
 * client, Node 22+'s global `WebSocket` and the `ws` package's all have it.
 */
export interface WebSocketLike {
  /** 0 CONNECTING, 1 OPEN, 2 CLOSING, 3 CLOSED. */
  readonly readyState: number;
  /** Bytes queued by `send` and not yet handed to the network. */
  readonly bufferedAmount: number;
  /** How binary frames arrive; set to `arraybuffer` when it is `blob`. */
  binaryType?: string;
  /** Sends a text frame. */
  send(data: string): void;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
  /** Listens for `open`, `message`, `close` or `error`. */
  // deno-lint-ignore no-explicit-any
  addEventListener(type: string, listener: (event: any) => void): void;
  /** Stops a listener. */
  // deno-lint-ignore no-explicit-any
  removeEventListener(type: string, listener: (event: any) => void): void;
}

const CONNECTING = 0;
const OPEN = 1;

/** Wraps `ws` in a connection target and wires its four events to it. */
export function connectWebSocket(
  ws: WebSocketLike,
  limits: ConnectionLimits,
  hooks?: ConnectionHooks,
): Connection {
  const listeners = {
    open: () => connection.handleOpen(true),
    message: (event: { data: unknown }) => connection.handleFrame(event.data),
    // ws's events fail `instanceof`, so read the fields, not the class.
    error: (event: { message?: string; error?: { message?: string } }) =>
      connection.handleTransportError(
        `transport error: ${event.error?.message ?? event.message ?? "WebSocket error"}`,
      ),
    // Deno reports code 0 for a socket closed before it opened: that is 1006 (abnormal).
    close: ({ code, reason, wasClean }: { code?: number; reason?: string; wasClean?: boolean }) =>
      connection.handleClose(code || (wasClean ? 1005 : 1006), reason ?? "", wasClean ?? false),
  };
  const connection = new Connection(
    {
      send(text) {
        ws.send(text);
        return true;
      },
      bufferedAmount: () => ws.bufferedAmount,
      closing: () => ws.readyState > OPEN,
      close: (code, reason) => ws.close(code, reason),
      detach() {
        // Some sockets (ws) ignore `{ signal }`, so listeners are removed by hand.
        for (const [name, listener] of Object.entries(listeners)) {
          ws.removeEventListener(name, listener);
        }
      },
    },
    limits,
    hooks,
  );
  if (ws.binaryType === "blob") ws.binaryType = "arraybuffer";
  for (const [name, listener] of Object.entries(listeners)) {
    ws.addEventListener(name, listener);
  }
  if (ws.readyState === OPEN) connection.handleOpen(false);
  else if (ws.readyState !== CONNECTING) {
    // Already closing or closed: report it once listeners can be attached.
    queueMicrotask(() => connection.handleClose(1006, "the socket was closed when given", false));
  }
  return connection;
}
