// Copyright 2026 the @alkdev/pubsub authors. MIT license.
// This module is browser compatible.

// The fan-out core that every hub shares (WebSocket, iroh): the spokes it
// holds, the hooks they report to, fan-out encoded once, and close.

import {
  type Connect,
  Connection,
  type ConnectionLimits,
  describeError,
  dispatchClose,
  GOING_AWAY,
  INTERNAL_ERROR,
  ListeningTarget,
  NORMAL_CLOSURE,
  readLimits,
  type Transport,
  TRY_AGAIN_LATER,
} from "./_connection.ts";
import {
  dispatchError,
  encodeEnvelopeEvent,
  type ErrorDetail,
  type EventEnvelope,
  utf8ByteLength,
} from "./envelope.ts";

/** What every hub's options hold. */
export interface HubOptions<TSpoke> {
  onConnection?: (spoke: TSpoke) => void;
  onDisconnection?: (spoke: TSpoke) => void;
  maxMessageBytes?: number;
  maxBufferedAmount?: number;
  broadcast?: (text: string) => void;
}

/** What a hub hears from each of its spokes. */
export interface SpokeHooks {
  opened(spoke: HubSpoke): void;
  received(envelope: EventEnvelope, spoke: HubSpoke): void;
  refused(detail: ErrorDetail, spoke: HubSpoke): void;
  ended(spoke: HubSpoke): void;
}

/**
 * A hub's view of one spoke: a connection that reports to the hub's hooks,
 * takes the hub's fan-out, and is cut off with 1013, not just refused, when a
 * send would pass `maxBufferedAmount` or its transport drops one.
 */
export class HubSpoke extends Connection {
  #hooks: SpokeHooks;

  constructor(transport: Transport, limits: ConnectionLimits, hooks: SpokeHooks) {
    super(transport, limits);
    this.#hooks = hooks;
  }

  /**
   * Sends a frame that a hub fans out: never throws. A spoke that cannot take
   * it without passing `maxBufferedAmount`, or whose transport drops it, is cut
   * off; a closing one is passed over, since its `close` is on the way.
   */
  deliver(text: string, bytes: number): void {
    if (this.state !== "open") return;
    const { maxBufferedAmount } = this.limits;
    if (this.transport.bufferedAmount() + bytes > maxBufferedAmount) {
      this.#cutOff(`more than ${maxBufferedAmount} bytes waiting`);
      return;
    }
    try {
      if (!this.transport.send(text, bytes)) this.#cutOff("the server dropped a message");
    } catch (cause) {
      // A spoke that missed a message must not go on as if it had not: it is cut off.
      const why = `send failed: ${describeError(cause)}`;
      this.handleTransportError(why);
      this.closeNow(INTERNAL_ERROR, why, true);
    }
  }

  /**
   * Closes now, without waiting for the transport's closing handshake;
   * `abort` also drops what waits to be sent, where the transport can.
   */
  closeNow(code: number, reason: string, abort = false): void {
    if (this.state === "closed") return;
    // Close the target first: Bun's ServerWebSocket reports its close from
    // inside close(), and that report must not pass for a clean close.
    this.handleClose(code, reason, false);
    try {
      if (abort && this.transport.abort) this.transport.abort(code, reason);
      else this.transport.close(code, reason);
    } catch {
      // Client-side sockets refuse codes other than 1000 and 3000-4999: the peer
      // must still be told, so close with one they take.
      try {
        this.transport.close(NORMAL_CLOSURE, reason);
      } catch {
        // The transport is already gone; the target has closed all the same.
      }
    }
  }

  protected override opened(): void {
    this.#hooks.opened(this);
  }

  protected override received(envelope: EventEnvelope): void {
    this.#hooks.received(envelope, this);
  }

  protected override refused(detail: ErrorDetail): void {
    this.#hooks.refused(detail, this);
  }

  protected override ended(): void {
    this.#hooks.ended(this);
  }

  protected override sendRefused(why: string): void {
    this.#cutOff(why);
  }

  #cutOff(why: string): void {
    this.closeNow(TRY_AGAIN_LATER, `Try again later: ${why}`, true);
  }
}

/**
 * Runs a user's callback so that its exception is reported as a listener's
 * would be, without breaking the fan-out, close or teardown that called it.
 */
function callBack<T>(callback: ((arg: T) => void) | undefined, arg: T): void {
  try {
    callback?.(arg);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

/** Mutators of `connections`, refused: the hub alone adds and removes spokes. */
const MUTATORS = new Set<PropertyKey>(["add", "delete", "clear"]);

/** A live view of `spokes` that refuses changes. */
function readOnlyView<T>(spokes: Set<T>): ReadonlySet<T> {
  return new Proxy(spokes, {
    get(set, key) {
      if (MUTATORS.has(key)) {
        return () => {
          throw new TypeError("'connections' is read-only: the hub adds and removes spokes");
        };
      }
      const value = Reflect.get(set, key, set);
      // Set's methods work only on the Set itself, not on the proxy.
      return typeof value === "function" ? value.bind(set) : value;
    },
  });
}

/** A hub: `dispatchEvent` fans out to every open spoke. */
export class Hub extends ListeningTarget {
  #spokes = new Set<HubSpoke>();
  #connections = readOnlyView(this.#spokes);
  // Spokes still connecting are not in `connections`, but close() ends them too.
  #live = new Set<HubSpoke>();
  #closed = false;
  #limits: ConnectionLimits;
  #broadcast: ((text: string) => void) | undefined;
  #hooks: SpokeHooks;

  constructor(options: HubOptions<never>) {
    super();
    const { onConnection, onDisconnection, broadcast } = options as HubOptions<HubSpoke>;
    this.#limits = readLimits(options);
    this.#broadcast = broadcast;
    this.#hooks = {
      opened: (spoke) => {
        // A socket given open opens inside adopt(): track it before user code runs.
        this.#live.add(spoke);
        if (this.#closed) return spoke.closeNow(GOING_AWAY, "");
        this.#spokes.add(spoke);
        callBack(onConnection, spoke);
      },
      received: (envelope, spoke) => this.dispatchReceived(envelope, spoke),
      refused: (detail, spoke) => dispatchError(this, detail, spoke),
      ended: (spoke) => {
        this.#live.delete(spoke);
        if (this.#spokes.delete(spoke)) callBack(onDisconnection, spoke);
      },
    };
  }

  /** `open` until `close()`, then `closed`. */
  get state(): "open" | "closed" {
    return this.#closed ? "closed" : "open";
  }

  /** The spokes connected now: a live view, not a copy. */
  get connections(): ReadonlySet<HubSpoke> {
    return this.#connections;
  }

  /** Sends the event's envelope to every open spoke, encoded once. */
  override dispatchEvent(event: Event): boolean {
    const text = encodeEnvelopeEvent(event);
    this.#assertOpen(`Cannot dispatch "${event.type}"`);
    if (this.#broadcast) this.#broadcast(text);
    else {
      // Counted once here, not once per spoke: a large message to many spokes adds up.
      const bytes = utf8ByteLength(text);
      for (const spoke of this.#spokes) spoke.deliver(text, bytes);
    }
    return true;
  }

  /** Closes every connection (each gets `onDisconnection`), then fires `close`. */
  close(code: number = GOING_AWAY, reason = ""): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const spoke of this.#live) spoke.closeNow(code, reason);
    dispatchClose(this, { code, reason, wasClean: true, unsent: 0 });
  }

  /** Makes a spoke of a transport; the adapter wires the transport to it. */
  protected adopt(
    wire: (connect: Connect<HubSpoke>, limits: ConnectionLimits) => HubSpoke,
  ): HubSpoke {
    this.#assertOpen("Cannot add a connection");
    const spoke = wire(
      (transport) => new HubSpoke(transport, this.#limits, this.#hooks),
      this.#limits,
    );
    if (spoke.state !== "closed") this.#live.add(spoke);
    return spoke;
  }

  #assertOpen(what: string): void {
    if (this.#closed) throw new Error(`${what}: the hub is closed`);
  }
}
