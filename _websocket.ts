// Copyright 2026 the @alkdev/pubsub authors. MIT license.
// This module is browser compatible.

// Maps a standard-shaped WebSocket onto a `Connection`: the one place that
// knows WebSocket events, shared by the client and the hub's `addConnection`.

import {
  ABNORMAL_CLOSURE,
  type Connect,
  type Connection,
  NO_STATUS,
  type Transport,
} from "./_connection.ts";

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

const EVENTS = ["open", "message", "error", "close"];

/**
 * Carries a connection's frames over a standard WebSocket and hands the
 * socket's events to it: one object and one listener per socket, not one
 * closure per member, since a hub holds thousands of them.
 */
class WebSocketTransport implements Transport {
  #ws: WebSocketLike;
  #listener: (event: { type: string }) => void;

  constructor(ws: WebSocketLike, listener: (event: { type: string }) => void) {
    this.#ws = ws;
    this.#listener = listener;
  }

  send(text: string): boolean {
    this.#ws.send(text);
    return true;
  }

  bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  closing(): boolean {
    return this.#ws.readyState > OPEN;
  }

  close(code?: number, reason?: string): void {
    this.#ws.close(code, reason);
  }

  detach(): void {
    // Some sockets (ws) ignore `{ signal }`, so listeners are removed by hand.
    for (const name of EVENTS) this.#ws.removeEventListener(name, this.#listener);
  }
}

/** Wraps `ws` in the target `connect` makes and wires the socket's four events to it. */
export function connectWebSocket<TTarget extends Connection>(
  ws: WebSocketLike,
  connect: Connect<TTarget>,
): TTarget {
  // ws's events fail `instanceof`, so read the fields, not the class.
  const listener = (event: SocketEvent) => {
    switch (event.type) {
      case "message":
        return connection.handleFrame(event.data);
      case "open":
        return connection.handleOpen(true);
      case "error":
        return connection.handleTransportError(
          `transport error: ${event.error?.message ?? event.message ?? "WebSocket error"}`,
        );
      case "close": {
        // Deno reports code 0 for a socket closed before it opened: that is 1006 (abnormal).
        const { code, reason, wasClean } = event;
        return connection.handleClose(
          code || (wasClean ? NO_STATUS : ABNORMAL_CLOSURE),
          reason ?? "",
          !!wasClean,
        );
      }
    }
  };
  const connection = connect(new WebSocketTransport(ws, listener));
  if (ws.binaryType === "blob") ws.binaryType = "arraybuffer";
  for (const name of EVENTS) {
    // A socket that is open already never fires `open`: one listener fewer per spoke.
    if (name !== "open" || ws.readyState === CONNECTING) ws.addEventListener(name, listener);
  }
  if (ws.readyState === OPEN) connection.handleOpen(false);
  else if (ws.readyState !== CONNECTING) {
    // Already closing or closed: report it once listeners can be attached.
    queueMicrotask(() =>
      connection.handleClose(ABNORMAL_CLOSURE, "the socket was closed when given", false)
    );
  }
  return connection;
}

/** The fields of the four socket events that the listener reads. */
interface SocketEvent {
  type: string;
  data?: unknown;
  message?: string;
  error?: { message?: string };
  code?: number;
  reason?: string;
  wasClean?: boolean;
}
