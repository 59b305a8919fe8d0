// Copyright 2026 the @alkdev/pubsub authors. MIT license.
// This module is browser compatible.

/**
 * The spoke side over iroh: one QUIC connection, dialled by the caller with
 * `@number0/iroh`, as an event target. It is the WebSocket client's twin:
 * `dispatchEvent` sends an envelope to the peer, and listeners hear what the
 * peer sends, by `<type>:<id>`, `<type>:*` or `*`, plus `open`, `close` and
 * `error`.
 *
 * On the wire the spoke opens one bidirectional stream, and each envelope is
 * one line of JSON text in UTF-8 ending in `\n`; empty lines are ignored.
 * `@number0/iroh` is the caller's (a native addon for Node, Deno and Bun; no
 * browsers): the target only types the few members it calls.
 *
 * @module
 */

import { Connection, readLimits, type Transport } from "./_connection.ts";
import {
  DEFAULT_CLOSE_TIMEOUT,
  type IrohBiStreamLike,
  type IrohConnectionLike,
  type IrohRecvStreamLike,
  type IrohSendStreamLike,
  IrohStream,
  readCloseTimeout,
} from "./_iroh.ts";
import type { ConnectionEventTarget } from "./client.ts";
import type { AnyEnvelopeEvent, TypedEvent } from "./envelope.ts";

export {
  DEFAULT_CLOSE_TIMEOUT,
  type IrohBiStreamLike,
  type IrohConnectionLike,
  type IrohRecvStreamLike,
  type IrohSendStreamLike,
};

/** Options for {@linkcode createIrohSpokeEventTarget}. */
export interface CreateIrohSpokeEventTargetOptions {
  /**
   * The longest incoming line accepted, in UTF-8 bytes without its `\n`; a
   * line of exactly this size is accepted, a longer one fires `error` and is
   * skipped up to its newline.
   *
   * @default {1048576}
   */
  maxMessageBytes?: number;
  /**
   * The most bytes of envelopes not yet written to the stream, counting the
   * new message; past it `dispatchEvent` throws instead of growing memory.
   * Writes are asynchronous, so one synchronous burst larger than this throws
   * even toward a fast peer.
   *
   * @default {4194304}
   */
  maxBufferedAmount?: number;
  /**
   * How long `close()` waits, in milliseconds, for the peer to receive what
   * was sent before it closes the connection anyway; also how long the target
   * waits for the peer's close after the peer finished its stream.
   *
   * @default {5000}
   */
  closeTimeout?: number;
}

/**
 * Wraps an established iroh connection in an event target: it opens the one
 * stream at once (`state` is `connecting` until then and sends are queued),
 * then fires `open`. `close(code?, reason?)` finishes the stream, waits for
 * the peer to receive what was sent (at most `closeTimeout`), then closes the
 * connection with QUIC's application close; `close` fires once, with the
 * code and reason of whichever side closed. Reconnecting is the caller's: a
 * new connection is a new target.
 *
 * @typeParam TEvent The union of envelope events it carries (see `EnvelopeEvents`).
 * @param connection What `endpoint.connect(addr, alpn)` of `@number0/iroh` returned.
 * @param options Byte limits and the close timeout.
 * @returns The connection's event target.
 * @throws {RangeError} When an option is not a positive integer.
 *
 * @example A spoke that dials a hub by its ticket and asks it something
 * ```ts ignore
 * import iroh from "@number0/iroh";
 * import { createIrohSpokeEventTarget } from "@alkdev/pubsub/event-target-iroh-spoke";
 * import { createEnvelopeEvent } from "@alkdev/pubsub/envelope";
 *
 * const ALPN = [...new TextEncoder().encode("my-app/pubsub/0")];
 * const endpoint = await iroh.Endpoint.bind();
 * const ticket = iroh.EndpointTicket.fromString(Deno.args[0]);
 * const spoke = createIrohSpokeEventTarget(await endpoint.connect(ticket.endpointAddr(), ALPN));
 * spoke.addEventListener("answer:*", ({ detail }) => console.log(detail.payload));
 * spoke.dispatchEvent(createEnvelopeEvent("ask", crypto.randomUUID(), "time?"));
 * spoke.addEventListener("close", () => endpoint.close());
 * ```
 */
export function createIrohSpokeEventTarget<TEvent extends TypedEvent = AnyEnvelopeEvent>(
  connection: IrohConnectionLike,
  options: CreateIrohSpokeEventTargetOptions = {},
): ConnectionEventTarget<TEvent> {
  const limits = readLimits(options);
  const connect = (transport: Transport) => new Connection(transport, limits);
  return new IrohStream(connection, "open", limits, readCloseTimeout(options), connect)
    .target as unknown as ConnectionEventTarget<TEvent>;
}
