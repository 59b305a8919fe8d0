// Copyright 2026 the @alkdev/pubsub authors. MIT license.
// This module is browser compatible.

// The core that every connection-shaped target shares (WebSocket client, a
// hub's spokes, iroh, workers): the send queue, the byte limits, the parse of
// incoming frames and the close that fires once. Each adapter only maps its
// transport onto a `Transport` and calls the `handle*` methods.

import {
  type CloseDetail,
  DEFAULT_MAX_BUFFERED_AMOUNT,
  DEFAULT_MAX_MESSAGE_BYTES,
  dispatchError,
  encodeEnvelopeEvent,
  type ErrorDetail,
  type EventEnvelope,
  exceedsBytes,
  parseFrame,
  SourcedEvent,
  utf8ByteLength,
} from "./envelope.ts";

/** How a target hands frames to whatever carries them. */
export interface Transport {
  /**
   * Hands one frame over; `false` when the transport dropped it (the send
   * then throws, and a hub cuts that spoke off). May throw.
   * `bytes`, its UTF-8 length, is given where the caller counted it already.
   */
  send(text: string, bytes?: number): boolean;
  /** Bytes handed over but not yet sent. */
  bufferedAmount(): number;
  /** Whether the transport is closing or closed already. */
  closing(): boolean;
  /** Starts closing the transport. */
  close(code?: number, reason?: string): void;
  /**
   * Closes at once, dropping what waits to be sent: how a peer that cannot
   * keep up is cut off. Transports without it are closed with `close`.
   */
  abort?(code: number, reason: string): void;
  /** Stops listening to the transport, once the target has closed. */
  detach(): void;
}

/** Makes the target of a transport: a plain `Connection`, or a hub's spoke. */
export type Connect<TTarget extends Connection = Connection> = (transport: Transport) => TTarget;

/** The state of a connection target, as `state` reports it. */
export type ConnectionState = "connecting" | "open" | "closing" | "closed";

/** The limits every connection target takes. */
export interface ConnectionLimits {
  maxMessageBytes: number;
  maxBufferedAmount: number;
}

// The close codes the targets use, from the WebSocket registry (RFC 6455, 7.4.1),
// also reused as application codes on QUIC.
/** 1000, Normal Closure. */
export const NORMAL_CLOSURE = 1000;
/** 1001, Going Away: what a hub's `close()` sends by default. */
export const GOING_AWAY = 1001;
/** 1002, Protocol Error: a transport that broke mid-stream. */
export const PROTOCOL_ERROR = 1002;
/** 1005, No Status Received: a clean close that carried no code. */
export const NO_STATUS = 1005;
/** 1006, Abnormal Closure: the connection ended without a close. */
export const ABNORMAL_CLOSURE = 1006;
/** 1011, Internal Error: what a spoke whose send failed gets. */
export const INTERNAL_ERROR = 1011;
/** 1013, Try Again Later: what a spoke that cannot keep up gets. */
export const TRY_AGAIN_LATER = 1013;

/** The clean close of a target with no connection to end (in-process, Redis). */
// Marked pure so that bundlers drop it where it is unused (the client entry).
export const CLEAN_CLOSE: CloseDetail = /* @__PURE__ */ Object.freeze({
  code: NORMAL_CLOSURE,
  reason: "",
  wasClean: true,
  unsent: 0,
});

/** An error as one line of text: runtimes such as iroh's append backtraces below it. */
export function describeError(cause: unknown): string {
  return String((cause as Error)?.message ?? cause).split("\n", 1)[0];
}

const localDispatch = EventTarget.prototype.dispatchEvent;

/** Fires `event` on `target`'s own listeners, past an overridden `dispatchEvent`. */
export function dispatchLocal(target: EventTarget, event: Event): void {
  localDispatch.call(target, event);
}

/** Fires `close` on `target`'s own listeners. */
export function dispatchClose(target: EventTarget, detail: CloseDetail): void {
  localDispatch.call(target, new CustomEvent("close", { detail }));
}

/**
 * Reads a limit from options: the default when absent, else a positive
 * integer; anything else is a `RangeError` naming the option and the value.
 */
export function positiveInteger(
  name: string,
  value: number | undefined,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`'${name}' must be a positive integer: got ${value}`);
  }
  return value;
}

/** Reads both byte limits from options, with their defaults. */
export function readLimits(
  options: { maxMessageBytes?: number; maxBufferedAmount?: number },
): ConnectionLimits {
  return {
    maxMessageBytes: positiveInteger(
      "maxMessageBytes",
      options.maxMessageBytes,
      DEFAULT_MAX_MESSAGE_BYTES,
    ),
    maxBufferedAmount: positiveInteger(
      "maxBufferedAmount",
      options.maxBufferedAmount,
      DEFAULT_MAX_BUFFERED_AMOUNT,
    ),
  };
}

/** The error every send on a closed target throws. */
export function closedError(topic: string): Error {
  return new Error(`Cannot dispatch "${topic}": the connection is closed`);
}

// Past this many names (a fresh id per request, say) a target stops keeping them.
const MAX_LISTENED_NAMES = 64;

/**
 * An event target that remembers the names listeners were added for, so that
 * a received envelope is fired only under names someone may listen to: each
 * event costs an allocation and a dispatch (a microsecond on Bun), and a hub's
 * spoke targets often have no listener at all. A name is never forgotten (a
 * `once` or `signal` listener leaves without a word), so the check only ever
 * errs towards firing; past MAX_LISTENED_NAMES every name is fired.
 */
export class ListeningTarget extends EventTarget {
  #names: Set<string> | "all" | undefined;
  // The envelope types in those names, so that no `<type>:…` name is built for other types.
  #types: Set<string> | undefined;

  override addEventListener(
    type: string,
    listener: Parameters<EventTarget["addEventListener"]>[1],
    options?: Parameters<EventTarget["addEventListener"]>[2],
  ): void {
    const names = this.#names ??= new Set();
    if (names !== "all" && !names.has(type)) {
      if (names.size < MAX_LISTENED_NAMES) {
        names.add(type);
        const colon = type.indexOf(":");
        if (colon > 0) (this.#types ??= new Set()).add(type.slice(0, colon));
      } else this.#names = "all";
    }
    super.addEventListener(type, listener, options);
  }

  /**
   * Fires a received envelope on this target's own listeners as
   * `dispatchEnvelope` does, `<type>:<id>`, `<type>:*`, `*` in that order,
   * skipping the names nobody listens to.
   */
  protected dispatchReceived(envelope: EventEnvelope, source: EventTarget | null): void {
    if (this.#names === undefined) return;
    // Each name is checked just before it would fire: a listener may add another.
    const { type, id } = envelope;
    if (this.#names === "all" || this.#types?.has(type)) {
      const topic = `${type}:${id}`;
      if (this.#listens(topic)) dispatchLocal(this, new SourcedEvent(topic, envelope, source));
      const wildcard = `${type}:*`;
      if (this.#listens(wildcard)) {
        dispatchLocal(this, new SourcedEvent(wildcard, envelope, source));
      }
    }
    if (this.#listens("*")) dispatchLocal(this, new SourcedEvent("*", envelope, source));
  }

  #listens(name: string): boolean {
    const names = this.#names!;
    return names === "all" || names.has(name);
  }
}

/**
 * One connection as an event target: `dispatchEvent` sends to the peer, and
 * what the peer sends reaches this target's listeners. A hub's spokes extend
 * it (`HubSpoke` in _hub.ts) through the protected methods, so that a client
 * does not carry the hub's fan-out and cut-off code.
 */
export class Connection extends ListeningTarget {
  #transport: Transport;
  #limits: ConnectionLimits;
  #state: ConnectionState = "connecting";
  // Set by close(): a socket still connecting reports no closing state of its own.
  #closeRequested = false;
  // Sends made while connecting; most connections are given open and never need it.
  #queue: string[] | undefined;
  #queuedBytes = 0;

  /**
   * @param transport What carries the frames.
   * @param limits The byte limits.
   */
  constructor(transport: Transport, limits: ConnectionLimits) {
    super();
    this.#transport = transport;
    this.#limits = limits;
  }

  /** What carries the frames, for a hub's spoke to fan out and cut off on. */
  protected get transport(): Transport {
    return this.#transport;
  }

  /** The byte limits, likewise. */
  protected get limits(): ConnectionLimits {
    return this.#limits;
  }

  /** `connecting`, `open`, `closing` (after `close()`) or `closed`. */
  get state(): ConnectionState {
    if (this.#state === "closed") return "closed";
    if (this.#closeRequested || this.#transport.closing()) return "closing";
    return this.#state;
  }

  /**
   * Sends the event's envelope to the peer; queued while connecting.
   * Throws on an invalid event, a closed connection, or a full buffer.
   */
  override dispatchEvent(event: Event): boolean {
    const text = encodeEnvelopeEvent(event);
    const state = this.state;
    if (state === "closing" || state === "closed") throw closedError(event.type);
    const waiting = state === "connecting" ? this.#queuedBytes : this.#transport.bufferedAmount();
    const { maxBufferedAmount } = this.#limits;
    if (exceedsBytes(text, maxBufferedAmount - waiting)) {
      const error = new Error(
        `Cannot dispatch "${event.type}": ${waiting} bytes are waiting and ${
          utf8ByteLength(text)
        } more would pass maxBufferedAmount (${maxBufferedAmount})`,
      );
      this.sendRefused(`more than ${maxBufferedAmount} bytes waiting`);
      throw error;
    }
    if (state === "connecting") {
      (this.#queue ??= []).push(text);
      this.#queuedBytes += utf8ByteLength(text);
      return true;
    }
    if (!this.#transport.send(text)) {
      this.sendRefused("the server dropped a message");
      throw new Error(`Cannot dispatch "${event.type}": the server dropped it`);
    }
    return true;
  }

  /** Closes the connection; `close` fires when the transport has closed. */
  close(code?: number, reason?: string): void {
    if (this.state === "closing" || this.state === "closed") return;
    this.#transport.close(code, reason);
    this.#closeRequested = true;
  }

  /** The transport opened: queued sends go out in order, then `open` fires. */
  handleOpen(announce: boolean): void {
    if (this.#state !== "connecting") return;
    this.#state = "open";
    const queue = this.#queue ?? [];
    this.#queue = undefined;
    this.#queuedBytes = 0;
    for (const text of queue) this.#transport.send(text);
    this.opened();
    if (announce) dispatchLocal(this, new Event("open"));
  }

  /** A frame arrived: dispatched as an envelope, or refused with `error`. */
  handleFrame(data: unknown): void {
    if (this.#state === "closed") return;
    const { envelope, refused } = parseFrame(data, this.#limits.maxMessageBytes);
    if (refused) {
      dispatchError(this, refused, this);
      this.refused(refused);
      return;
    }
    this.dispatchReceived(envelope, this);
    this.received(envelope);
  }

  /** The transport reported an error; `close` follows if it ended. */
  handleTransportError(reason: string): void {
    if (this.#state === "closed") return;
    const detail = { reason, data: "" };
    dispatchError(this, detail, this);
    this.refused(detail);
  }

  /** The transport closed: `close` fires once, whatever called it first. */
  handleClose(code: number, reason: string, wasClean: boolean): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    const unsent = this.#queue?.length ?? 0;
    this.#queue = undefined;
    this.#queuedBytes = 0;
    this.#transport.detach();
    this.ended();
    dispatchClose(this, { code, reason, wasClean, unsent });
  }

  // What a hub's spoke adds; nothing here. Only a hub's transports drop sends.
  /** Opened, before `open` fires. */
  protected opened(): void {}
  /** Received an envelope, after this target's listeners heard it. */
  protected received(_envelope: EventEnvelope): void {}
  /** Refused a frame or heard of a transport error, after `error` fired here. */
  protected refused(_detail: ErrorDetail): void {}
  /** Closed, before `close` fires. */
  protected ended(): void {}
  /** A send would pass `maxBufferedAmount`, or the transport dropped it; it throws next. */
  protected sendRefused(_why: string): void {}
}
