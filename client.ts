// Copyright 2026 the @alkdev/pubsub authors. MIT license.
// This module is browser compatible.

/**
 * The spoke side: one WebSocket connection as an event target.
 * `dispatchEvent` sends an envelope to the peer; listeners hear what the peer
 * sends, by `<type>:<id>`, `<type>:*` or `*`, plus `open`, `close` and `error`.
 *
 * @module
 */

import { Connection, type ConnectionState, readLimits } from "./_connection.ts";
import { connectWebSocket, type WebSocketLike } from "./_websocket.ts";
import type { AnyEnvelopeEvent, TypedEvent, TypedEventTarget } from "./envelope.ts";

export type { ConnectionState, WebSocketLike };

/**
 * One connection as a typed event target: a WebSocket client, a hub's view of
 * one spoke, or any other transport of this package with a single peer.
 * Envelope and error events carry `source`: this target.
 *
 * @typeParam TEvent The union of envelope events it carries.
 */
export interface ConnectionEventTarget<TEvent extends TypedEvent = AnyEnvelopeEvent>
  extends TypedEventTarget<TEvent, { readonly source: ConnectionEventTarget<TEvent> }> {
  /** `connecting`, `open`, `closing` (after `close()`) or `closed`. */
  readonly state: ConnectionState;
  /**
   * Closes the connection; `close` fires once it has closed.
   *
   * @param code The close code (on a client-side WebSocket: 1000 or 3000–4999).
   * @param reason A short text, at most 123 UTF-8 bytes.
   */
  close(code?: number, reason?: string): void;
}

/** Options for {@linkcode createWebSocketClientEventTarget}. */
export interface CreateWebSocketClientEventTargetOptions {
  /**
   * The largest incoming frame accepted, in UTF-8 bytes; a frame of exactly
   * this size is accepted, a longer one fires `error`.
   *
   * @default {1048576}
   */
  maxMessageBytes?: number;
  /**
   * The most bytes that may wait to be sent (queued before open, or the
   * socket's `bufferedAmount`), counting the new message; past it
   * `dispatchEvent` throws instead of growing memory.
   *
   * @default {4194304}
   */
  maxBufferedAmount?: number;
}

/**
 * Wraps a WebSocket, open or still connecting, in an event target. Sends made
 * while it connects are queued and go out in order on `open`. Reconnecting is
 * the caller's: a new connection is a new target.
 *
 * @typeParam TEvent The union of envelope events it carries (see `EnvelopeEvents`).
 * @param ws Any standard-shaped WebSocket; the target owns its listeners from now on.
 * @param options Byte limits.
 * @returns The connection's event target.
 * @throws {RangeError} When a limit is not a positive integer.
 *
 * @example A spoke that answers requests
 * ```ts ignore
 * import { createWebSocketClientEventTarget } from "@alkdev/pubsub/event-target-websocket-client";
 * import { createEnvelopeEvent, type EnvelopeEvents } from "@alkdev/pubsub/envelope";
 *
 * type Events = EnvelopeEvents<{ "job.run": { n: number }; "job.done": { n: number } }>;
 * const spoke = createWebSocketClientEventTarget<Events>(new WebSocket("ws://127.0.0.1:8080"));
 * spoke.addEventListener("job.run:*", ({ detail }) => {
 *   spoke.dispatchEvent(createEnvelopeEvent("job.done", detail.id, { n: detail.payload.n * 2 }));
 * });
 * spoke.addEventListener("close", ({ detail }) => console.log("closed", detail.code));
 * ```
 */
export function createWebSocketClientEventTarget<
  TEvent extends TypedEvent = AnyEnvelopeEvent,
>(
  ws: WebSocketLike,
  options: CreateWebSocketClientEventTargetOptions = {},
): ConnectionEventTarget<TEvent> {
  const limits = readLimits(options);
  return connectWebSocket(
    ws,
    (transport) => new Connection(transport, limits),
  ) as unknown as ConnectionEventTarget<TEvent>;
}
