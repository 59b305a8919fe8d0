// Copyright 2026 the @alkdev/pubsub authors. MIT license.
// This module is browser compatible.

/**
 * The hub side: many WebSocket connections as one event target.
 * `dispatchEvent` fans an envelope out to every open spoke; listeners hear
 * what any spoke sends, with `source` naming the spoke's own target, through
 * which a reply reaches that spoke alone.
 *
 * The hub takes connected sockets, never a server: the caller does the HTTP
 * upgrade (Deno.serve, Node's `ws`, Bun.serve, Hono) and hands each socket
 * over, with {@linkcode WebSocketServerEventTarget.addConnection} for sockets
 * that fire events, or {@linkcode WebSocketServerEventTarget.addCallbackConnection}
 * for servers that deliver messages through callbacks.
 *
 * @module
 */

import { ABNORMAL_CLOSURE, NO_STATUS, type Transport } from "./_connection.ts";
import { Hub, type HubSpoke } from "./_hub.ts";
import { connectWebSocket, type WebSocketLike } from "./_websocket.ts";
import type { ConnectionEventTarget } from "./client.ts";
import type { AnyEnvelopeEvent, TypedEvent, TypedEventTarget } from "./envelope.ts";

/**
 * What every hub of this package is: a typed event target whose envelope and
 * error events carry `source`, the target of the spoke they came from.
 *
 * @typeParam TEvent The union of envelope events it carries.
 */
export interface HubEventTarget<TEvent extends TypedEvent = AnyEnvelopeEvent>
  extends TypedEventTarget<TEvent, { readonly source: ConnectionEventTarget<TEvent> }> {
  /** `open` until `close()`, then `closed`. */
  readonly state: "open" | "closed";
  /** The spokes connected now: a live, read-only view; its `size` is the count. */
  readonly connections: ReadonlySet<ConnectionEventTarget<TEvent>>;
  /**
   * Closes every connection (each gets `onDisconnection`), then fires `close`
   * on the hub; afterwards adding a connection or dispatching throws.
   *
   * @param code The close code every spoke gets.
   * @param reason The close reason every spoke gets.
   */
  close(code?: number, reason?: string): void;
}

/**
 * The socket shape of servers that deliver messages through callbacks, such
 * as Bun.serve's `websocket` handlers (`ServerWebSocket`) and Hono's
 * `WSContext`. Only `send` and `close` are required.
 *
 * `maxBufferedAmount` sees the bytes waiting for the spoke through
 * `getBufferedAmount()` or `bufferedAmount`, on the socket itself or, when it
 * has neither, on its `raw` socket. A socket with none of them counts as 0
 * bytes waiting, so the hub can never cut that spoke off.
 */
export interface CallbackSocket {
  /** Sends a text frame; Bun returns 0 when it dropped the message. */
  send(data: string): unknown;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
  /** 0 CONNECTING, 1 OPEN, 2 CLOSING, 3 CLOSED, where the socket tells. */
  readonly readyState?: number;
  /** Bytes waiting to be sent (Bun's `ServerWebSocket`). */
  getBufferedAmount?(): number;
  /** Bytes waiting to be sent, where the socket has it as a property. */
  readonly bufferedAmount?: number;
  /**
   * The runtime's socket under a framework's wrapper: Hono's `WSContext` has
   * no buffered amount of its own, so the hub reads its `raw` socket's (on
   * Deno a `WebSocket`, with `bufferedAmount`). Typed `unknown`, as Hono types
   * `raw` in a plain `WSContext`; a `raw` without a buffered amount is ignored.
   */
  readonly raw?: unknown;
}

/** What a socket reports as waiting to be sent, if it reports anything. */
interface Buffered {
  getBufferedAmount?(): number;
  readonly bufferedAmount?: number;
}

function waitingBytes(socket: Buffered | null | undefined): number | undefined {
  return socket?.getBufferedAmount?.() ?? socket?.bufferedAmount;
}

/**
 * A spoke added through callbacks: its target, and the two calls that feed it
 * what the server's callbacks receive.
 *
 * @typeParam TEvent The union of envelope events it carries.
 */
export interface CallbackConnection<TEvent extends TypedEvent = AnyEnvelopeEvent> {
  /** The spoke's own event target. */
  readonly target: ConnectionEventTarget<TEvent>;
  /**
   * Call from the server's message callback.
   *
   * @param data The message as the server gives it: text, or binary (refused).
   */
  message(data: unknown): void;
  /**
   * Call from the server's close callback.
   *
   * @param code The close code, if the server gives one.
   * @param reason The close reason, if the server gives one.
   */
  closed(code?: number, reason?: string): void;
}

/**
 * The WebSocket hub.
 *
 * @typeParam TEvent The union of envelope events it carries.
 */
export interface WebSocketServerEventTarget<TEvent extends TypedEvent = AnyEnvelopeEvent>
  extends HubEventTarget<TEvent> {
  /**
   * Adds a socket that fires events (`Deno.upgradeWebSocket`'s, the `ws`
   * package's, a browser's); one still connecting joins when it opens.
   *
   * @param ws The spoke's socket; the hub owns its listeners from now on.
   * @returns The spoke's own target: `dispatchEvent` on it reaches that spoke alone.
   * @throws {Error} When the hub is closed.
   */
  addConnection(ws: WebSocketLike): ConnectionEventTarget<TEvent>;
  /**
   * Adds an open socket of a server that delivers messages through callbacks
   * (Bun.serve, Hono): feed the returned `message` and `closed` from them.
   *
   * @param socket The socket the server's open callback gives.
   * @returns The spoke's target and the calls that feed it.
   * @throws {Error} When the hub is closed.
   */
  addCallbackConnection(socket: CallbackSocket): CallbackConnection<TEvent>;
}

/** Options for {@linkcode createWebSocketServerEventTarget}. */
export interface CreateWebSocketServerEventTargetOptions<
  TEvent extends TypedEvent = AnyEnvelopeEvent,
> {
  /** Called with the spoke's target when its connection is open. */
  onConnection?: (spoke: ConnectionEventTarget<TEvent>) => void;
  /** Called once with the spoke's target when a connected spoke's connection ends. */
  onDisconnection?: (spoke: ConnectionEventTarget<TEvent>) => void;
  /**
   * The largest incoming frame accepted from any spoke, in UTF-8 bytes.
   *
   * @default {1048576}
   */
  maxMessageBytes?: number;
  /**
   * The most bytes the hub holds for one spoke, counting the new message.
   * A spoke past it is disconnected with close code 1013 (Try Again Later),
   * and `onDisconnection` fires at once.
   *
   * @default {4194304}
   */
  maxBufferedAmount?: number;
  /**
   * Hands the hub's fan-out, serialised once, to a native broadcast (Bun's
   * `server.publish`) instead of a loop over the spokes. Backpressure on that
   * path is the server's own (Bun's `backpressureLimit`), not `maxBufferedAmount`.
   */
  broadcast?: (text: string) => void;
}

/**
 * Carries a spoke's frames over a callback server's socket: one object per
 * spoke rather than a closure per member, since a hub holds thousands.
 */
class CallbackTransport implements Transport {
  #socket: CallbackSocket;
  #ended = false;

  constructor(socket: CallbackSocket) {
    this.#socket = socket;
  }

  send(text: string): boolean {
    // Bun's send returns 0 when it dropped the message, -1 when it queued it.
    return this.#socket.send(text) !== 0;
  }

  bufferedAmount(): number {
    const socket = this.#socket;
    return waitingBytes(socket) ?? waitingBytes(socket.raw as Buffered | undefined) ?? 0;
  }

  closing(): boolean {
    return this.#ended || (this.#socket.readyState ?? 1) > 1;
  }

  close(code?: number, reason?: string): void {
    this.#socket.close(code, reason);
  }

  detach(): void {
    this.#ended = true;
  }
}

class WebSocketHub extends Hub {
  addConnection(ws: WebSocketLike): HubSpoke {
    return this.adopt((connect) => connectWebSocket(ws, connect));
  }

  addCallbackConnection(socket: CallbackSocket): CallbackConnection {
    const target = this.adopt((connect) => connect(new CallbackTransport(socket)));
    target.handleOpen(false);
    return {
      target: target as unknown as ConnectionEventTarget,
      message: (data) => target.handleFrame(data),
      closed: (code = NO_STATUS, reason = "") =>
        target.handleClose(code, reason, code !== ABNORMAL_CLOSURE),
    };
  }
}

/**
 * Creates a WebSocket hub. Hand it each spoke's socket after the upgrade.
 *
 * @typeParam TEvent The union of envelope events it carries (see `EnvelopeEvents`).
 * @param options Connection callbacks, byte limits and an optional native broadcast.
 * @returns The hub.
 * @throws {RangeError} When a limit is not a positive integer.
 *
 * @example A hub on Deno.serve that answers each spoke alone
 * ```ts ignore
 * import { createWebSocketServerEventTarget } from "@alkdev/pubsub/event-target-websocket-server";
 * import { createEnvelopeEvent } from "@alkdev/pubsub/envelope";
 *
 * const hub = createWebSocketServerEventTarget({
 *   onConnection: (spoke) => console.log("spokes:", hub.connections.size),
 * });
 * hub.addEventListener("job.run:*", (event) => {
 *   event.source.dispatchEvent(createEnvelopeEvent("job.done", event.detail.id, "ok"));
 * });
 * Deno.serve({ port: 8080 }, (request) => {
 *   // Authenticate and check the Origin header here, before upgrading.
 *   const { socket, response } = Deno.upgradeWebSocket(request);
 *   hub.addConnection(socket);
 *   return response;
 * });
 * ```
 *
 * @example A hub on Bun.serve, through callbacks
 * ```ts ignore
 * import { createWebSocketServerEventTarget } from "@alkdev/pubsub/event-target-websocket-server";
 * import type { CallbackConnection } from "@alkdev/pubsub/event-target-websocket-server";
 *
 * const hub = createWebSocketServerEventTarget();
 * Bun.serve<{ spoke?: CallbackConnection }>({
 *   fetch: (request, server) => server.upgrade(request, { data: {} }) ? undefined : new Response("upgrade", { status: 400 }),
 *   websocket: {
 *     open: (ws) => { ws.data.spoke = hub.addCallbackConnection(ws); },
 *     message: (ws, message) => ws.data.spoke?.message(message),
 *     close: (ws, code, reason) => ws.data.spoke?.closed(code, reason),
 *   },
 * });
 * ```
 *
 * @example A hub on Hono's upgradeWebSocket
 * ```ts ignore
 * import { Hono } from "hono";
 * import { upgradeWebSocket } from "hono/deno";
 * import { createWebSocketServerEventTarget } from "@alkdev/pubsub/event-target-websocket-server";
 * import type { CallbackConnection } from "@alkdev/pubsub/event-target-websocket-server";
 *
 * const hub = createWebSocketServerEventTarget();
 * const app = new Hono();
 * app.get("/ws", upgradeWebSocket(() => {
 *   let spoke: CallbackConnection | undefined;
 *   return {
 *     onOpen: (_event, ws) => { spoke = hub.addCallbackConnection(ws); },
 *     onMessage: (event) => spoke?.message(event.data),
 *     onClose: (event) => spoke?.closed(event.code, event.reason),
 *   };
 * }));
 * Deno.serve(app.fetch);
 * ```
 */
export function createWebSocketServerEventTarget<
  TEvent extends TypedEvent = AnyEnvelopeEvent,
>(
  options: CreateWebSocketServerEventTargetOptions<TEvent> = {},
): WebSocketServerEventTarget<TEvent> {
  return new WebSocketHub(options as never) as unknown as WebSocketServerEventTarget<TEvent>;
}
