// Copyright 2026 the @alkdev/pubsub authors. MIT license.
// This module is browser compatible.

/**
 * The hub side over iroh: many QUIC connections, accepted by the caller with
 * `@number0/iroh`, as one event target. It is the WebSocket hub's twin:
 * `dispatchEvent` fans an envelope out to every open spoke; listeners hear
 * what any spoke sends, with `source` naming the spoke's own target, through
 * which a reply reaches that spoke alone.
 *
 * The hub takes connections, never an endpoint: the caller binds the
 * endpoint with its ALPN, accepts, decides whom to keep (the remote endpoint
 * id is the peer's public key) and hands each connection to
 * {@linkcode IrohHubEventTarget.addConnection}.
 *
 * @module
 */

import { Hub, type HubSpoke } from "./_hub.ts";
import { type IrohConnectionLike, IrohStream, quicCode, readCloseTimeout } from "./_iroh.ts";
import type { ConnectionEventTarget } from "./client.ts";
import type { AnyEnvelopeEvent, TypedEvent } from "./envelope.ts";
import type { HubEventTarget } from "./server.ts";

export type { IrohConnectionLike };

/**
 * The iroh hub.
 *
 * @typeParam TEvent The union of envelope events it carries.
 */
export interface IrohHubEventTarget<TEvent extends TypedEvent = AnyEnvelopeEvent>
  extends HubEventTarget<TEvent> {
  /**
   * Adds an accepted connection. Its target is `connecting` until the spoke's
   * stream arrives; then it joins `connections` and `onConnection` runs.
   *
   * @param connection What `(await incoming.accept()).connect()` of `@number0/iroh` returned.
   * @returns The spoke's own target: `dispatchEvent` on it reaches that spoke alone.
   * @throws {Error} When the hub is closed.
   */
  addConnection(connection: IrohConnectionLike): ConnectionEventTarget<TEvent>;
  /**
   * Closes every connection (each gets `onDisconnection`), then fires `close`
   * on the hub; afterwards adding a connection or dispatching throws. Each
   * spoke's stream is finished first, so what was sent arrives.
   *
   * @param code The close code every spoke gets (default 1001, Going Away).
   * @param reason The close reason every spoke gets.
   * @returns A promise that settles once every connection has closed (each
   * within `closeTimeout`): await it before closing the endpoint, which
   * would drop what is still in flight.
   * @throws {RangeError} When `code` is not a non-negative integer.
   */
  close(code?: number, reason?: string): Promise<void>;
}

/** Options for {@linkcode createIrohHubEventTarget}. */
export interface CreateIrohHubEventTargetOptions<TEvent extends TypedEvent = AnyEnvelopeEvent> {
  /** Called with the spoke's target when its stream is open. */
  onConnection?: (spoke: ConnectionEventTarget<TEvent>) => void;
  /** Called once with the spoke's target when a connected spoke's connection ends. */
  onDisconnection?: (spoke: ConnectionEventTarget<TEvent>) => void;
  /**
   * The longest line accepted from any spoke, in UTF-8 bytes without its
   * `\n`; a longer one fires `error` and is skipped up to its newline.
   *
   * @default {1048576}
   */
  maxMessageBytes?: number;
  /**
   * The most bytes of envelopes the hub holds for one spoke, not yet written
   * to its stream, counting the new message. A spoke past it is disconnected
   * with close code 1013 (Try Again Later), and `onDisconnection` fires at
   * once. Writes are asynchronous, so one synchronous burst larger than this
   * trips it even for a fast peer.
   *
   * @default {4194304}
   */
  maxBufferedAmount?: number;
  /**
   * How long closing a spoke waits, in milliseconds, for it to receive what
   * was sent before the connection is closed anyway; also how long a spoke
   * that finished its stream has to close its connection.
   *
   * @default {5000}
   */
  closeTimeout?: number;
}

class IrohHub extends Hub {
  #closeTimeout: number;
  // One promise per connection not yet closed, for close() to wait on.
  #open = new Set<Promise<void>>();

  constructor(options: CreateIrohHubEventTargetOptions) {
    // No native broadcast to hand the fan-out to: every spoke is written by the hub.
    super({ ...options, broadcast: undefined } as never);
    this.#closeTimeout = readCloseTimeout(options);
  }

  addConnection(connection: IrohConnectionLike): HubSpoke {
    return this.adopt((connect, limits) => {
      const stream = new IrohStream(connection, "accept", limits, this.#closeTimeout, connect);
      const closed = stream.closed;
      this.#open.add(closed);
      closed.then(() => this.#open.delete(closed));
      return stream.target;
    });
  }

  override close(code?: number, reason?: string): Promise<void> {
    if (code !== undefined) quicCode(code);
    super.close(code, reason);
    return Promise.all(this.#open).then(() => {});
  }
}

/**
 * Creates an iroh hub. Hand it each connection the endpoint accepts.
 *
 * @typeParam TEvent The union of envelope events it carries (see `EnvelopeEvents`).
 * @param options Connection callbacks, byte limits and the close timeout.
 * @returns The hub.
 * @throws {RangeError} When an option is not a positive integer.
 *
 * @example A hub that answers each spoke alone
 * ```ts ignore
 * import iroh from "@number0/iroh";
 * import { createIrohHubEventTarget } from "@alkdev/pubsub/event-target-iroh-hub";
 * import { createEnvelopeEvent } from "@alkdev/pubsub/envelope";
 *
 * const ALPN = [...new TextEncoder().encode("my-app/pubsub/0")];
 * const endpoint = await iroh.Endpoint.bind({ alpns: [ALPN] });
 * console.log("ticket:", iroh.EndpointTicket.fromAddr(endpoint.addr()).toString());
 * const hub = createIrohHubEventTarget({
 *   onConnection: () => console.log("spokes:", hub.connections.size),
 * });
 * hub.addEventListener("ask:*", (event) => {
 *   event.source.dispatchEvent(createEnvelopeEvent("answer", event.detail.id, new Date().toISOString()));
 * });
 * for (let incoming; (incoming = await endpoint.acceptNext());) {
 *   // A failed handshake (a wrong ALPN) rejects: catch it per connection.
 *   incoming.accept().then((accepting) => accepting.connect()).then(
 *     (connection) => hub.addConnection(connection),
 *     (error) => console.error("refused:", error.message),
 *   );
 * }
 * ```
 */
export function createIrohHubEventTarget<TEvent extends TypedEvent = AnyEnvelopeEvent>(
  options: CreateIrohHubEventTargetOptions<TEvent> = {},
): IrohHubEventTarget<TEvent> {
  return new IrohHub(options as never) as unknown as IrohHubEventTarget<TEvent>;
}
