// Copyright 2026 the @alkdev/pubsub authors. MIT license.
// This module is browser compatible.

// The fan-out core that every hub shares (WebSocket, iroh): the spokes it
// holds, the hooks they report to, fan-out encoded once, and close.

import {
  type Connection,
  type ConnectionHooks,
  type ConnectionLimits,
  dispatchClose,
  GOING_AWAY,
  ListeningTarget,
  readLimits,
} from "./_connection.ts";
import { dispatchError, encodeEnvelopeEvent, utf8ByteLength } from "./envelope.ts";

/** What every hub's options hold. */
export interface HubOptions<TSpoke> {
  onConnection?: (spoke: TSpoke) => void;
  onDisconnection?: (spoke: TSpoke) => void;
  maxMessageBytes?: number;
  maxBufferedAmount?: number;
  broadcast?: (text: string) => void;
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
  #spokes = new Set<Connection>();
  #connections = readOnlyView(this.#spokes);
  // Spokes still connecting are not in `connections`, but close() ends them too.
  #live = new Set<Connection>();
  #closed = false;
  #limits: ConnectionLimits;
  #broadcast: ((text: string) => void) | undefined;
  #hooks: ConnectionHooks;

  constructor(options: HubOptions<never>) {
    super();
    const { onConnection, onDisconnection, broadcast } = options as HubOptions<Connection>;
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
  get connections(): ReadonlySet<Connection> {
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
    wire: (limits: ConnectionLimits, hooks: ConnectionHooks) => Connection,
  ): Connection {
    this.#assertOpen("Cannot add a connection");
    const spoke = wire(this.#limits, this.#hooks);
    if (spoke.state !== "closed") this.#live.add(spoke);
    return spoke;
  }

  #assertOpen(what: string): void {
    if (this.#closed) throw new Error(`${what}: the hub is closed`);
  }
}
