// Copyright 2026 the @alkdev/pubsub authors. MIT license.
// This module is browser compatible.

/**
 * The envelope that every target of this package sends and receives, the
 * names listeners use, and the helpers that build, check and encode it.
 *
 * An envelope is the JSON object `{ type, id, payload }`. A listener picks
 * envelopes by name: `<type>:<id>` for one id, `<type>:*` for every id of a
 * type, `*` for all of them. `open`, `close` and `error` name the connection's
 * lifecycle and never collide with envelope names, which always hold a `:`.
 *
 * @example Build an event and read its topic
 * ```ts
 * import { createEnvelopeEvent } from "@alkdev/pubsub/envelope";
 * import { equal } from "node:assert/strict";
 *
 * const event = createEnvelopeEvent("job.done", "7", { ok: true });
 * equal(event.type, "job.done:7");
 * equal(event.detail.payload.ok, true);
 * ```
 *
 * @module
 */

/** A message on the wire: what `type`, which `id`, and any JSON `payload`. */
export interface EventEnvelope<TType extends string = string, TPayload = unknown> {
  /** What kind of message this is; non-empty and without `:`. */
  type: TType;
  /** Which conversation or entity it is about; non-empty and not `*`. */
  id: string;
  /** Any JSON value, or `undefined` when absent. */
  payload: TPayload;
}

/**
 * A `CustomEvent` whose `type` and `detail` are narrowed: the event type of a
 * typed target. `TType` is usually a topic template such as
 * `` `call.responded:${string}` `` and `TDetail` an {@linkcode EventEnvelope}.
 */
export type TypedEvent<TType extends string = string, TDetail = unknown> =
  & Omit<CustomEvent<TDetail>, "type" | "detail">
  & { readonly type: TType; readonly detail: TDetail };

/**
 * Turns a map of envelope types to payload types into the union of events a
 * target carries, so nobody writes the topic templates by hand.
 *
 * @typeParam TMap Envelope `type` to the `payload` type it carries.
 *
 * @example Type a target from an event map
 * ```ts
 * import {
 *   createEnvelopeEvent,
 *   type EnvelopeEvents,
 * } from "@alkdev/pubsub/envelope";
 * import { createInProcessEventTarget } from "@alkdev/pubsub/event-target-in-process";
 * import { equal } from "node:assert/strict";
 *
 * type Events = EnvelopeEvents<{ "call.responded": { output: number } }>;
 * const target = createInProcessEventTarget<Events>();
 * let output = 0;
 * target.addEventListener("call.responded:1", (event) => {
 *   output = event.detail.payload.output; // typed as number
 * });
 * target.dispatchEvent(createEnvelopeEvent("call.responded", "1", { output: 42 }));
 * equal(output, 42);
 * ```
 */
export type EnvelopeEvents<TMap extends object> = {
  // A key holding ':' can never be an envelope type, so it yields no event.
  [K in keyof TMap & string]: K extends `${string}:${string}` ? never
    : TypedEvent<`${K}:${string}`, EventEnvelope<K, TMap[K]>>;
}[keyof TMap & string];

/** The event every untyped target carries: any envelope under any topic. */
export type AnyEnvelopeEvent = TypedEvent<string, EventEnvelope>;

/** What a `close` event's `detail` holds. */
export interface CloseDetail {
  /** The close code: a WebSocket code (1005 when the peer gave none), or a QUIC application code on iroh. */
  code: number;
  /** The close reason the peer or this side gave, or `""`. */
  reason: string;
  /** Whether the connection closed with a completed closing handshake. */
  wasClean: boolean;
  /** How many queued sends were never sent (0 in the normal case). */
  unsent: number;
}

/** What an `error` event's `detail` holds. */
export interface ErrorDetail {
  /** Why the input was refused, or what went wrong in the transport. */
  reason: string;
  /** The start of the offending frame (at most a few hundred characters). */
  data: string;
}

/** A listener as a function or as an object with `handleEvent`. */
export type TypedEventListener<TEvent> =
  | ((event: TEvent) => void)
  | { handleEvent(event: TEvent): void };

/** The envelope types a union of typed events carries. */
export type EnvelopeTypeOf<TEvent> = TEvent extends { detail: { type: infer T extends string } } ? T
  : never;

/** The members of `TEvent` whose topic template admits the name `K`. */
export type EventsNamed<TEvent, K extends string> = TEvent extends { type: infer T extends string }
  ? K extends T ? TEvent : never
  : never;

/**
 * Every name a listener may use on a target carrying `TEvent`: its topics,
 * `<type>:*` for each type, `*`, and the lifecycle names.
 */
export type ListenerName<TEvent> =
  | (TEvent extends { type: infer T extends string } ? T : never)
  | `${EnvelopeTypeOf<TEvent>}:*`
  | "*"
  | "open"
  | "close"
  | "error";

/**
 * The event a listener for `K` receives on a target carrying `TEvent`, with
 * `TExtra` (for example a hub's `source`) on envelope and error events.
 */
export type ListenerEvent<TEvent, K extends string, TExtra = unknown> = K extends "open" ? Event
  : K extends "close" ? CustomEvent<CloseDetail>
  : K extends "error" ? CustomEvent<ErrorDetail> & TExtra
  : K extends "*" ? TEvent & TExtra
  : EventsNamed<TEvent, K> & TExtra;

/**
 * An `EventTarget` whose listeners are typed by name: a listener for a known
 * topic sees a typed `detail`, and a name that is no topic, wildcard or
 * lifecycle name does not compile.
 *
 * @typeParam TEvent The union of envelope events the target carries.
 * @typeParam TExtra What envelope and error events carry besides (a hub's `source`).
 */
export interface TypedEventTarget<
  TEvent extends TypedEvent = AnyEnvelopeEvent,
  TExtra = unknown,
> extends EventTarget {
  /** Listens for `type`: a topic, `<type>:*`, `*`, `open`, `close` or `error`. */
  addEventListener<K extends ListenerName<TEvent>>(
    type: K,
    listener: TypedEventListener<ListenerEvent<TEvent, K, TExtra>> | null,
    // Not `AddEventListenerOptions`: @types/node has no such global, only the DOM lib does.
    options?: Parameters<EventTarget["addEventListener"]>[2],
  ): void;
  /** Stops a listener added with {@linkcode TypedEventTarget.addEventListener}. */
  removeEventListener<K extends ListenerName<TEvent>>(
    type: K,
    listener: TypedEventListener<ListenerEvent<TEvent, K, TExtra>> | null,
    options?: boolean | EventListenerOptions,
  ): void;
  /** Sends an envelope event; see each target for where it goes. */
  dispatchEvent(event: TEvent): boolean;
}

/** Default for `maxMessageBytes`: the largest incoming frame, 1 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
/** Default for `maxBufferedAmount`: bytes waiting to be sent, 4 MiB. */
export const DEFAULT_MAX_BUFFERED_AMOUNT = 4 * 1024 * 1024;
/** How many characters of a refused frame an `error` event's `data` keeps. */
export const ERROR_DATA_PREVIEW_CHARS = 256;

/**
 * The topic of an envelope: `<type>:<id>`.
 *
 * @param type The envelope type.
 * @param id The envelope id (or `*` for the wildcard name).
 * @returns The event name listeners use.
 *
 * @example Usage
 * ```ts
 * import { topicOf } from "@alkdev/pubsub/envelope";
 * import { equal } from "node:assert/strict";
 *
 * equal(topicOf("job.done", "7"), "job.done:7");
 * ```
 */
export function topicOf<TType extends string>(
  type: TType,
  id: string,
): `${TType}:${string}` {
  return `${type}:${id}`;
}

function quote(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(
      value.length > 40 ? `${value.slice(0, 40)}…` : value,
    );
  }
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `${typeof value} ${String(value)}`;
}

/**
 * Why `value` is not a valid envelope, or `undefined` when it is one.
 *
 * @param value Anything, typically parsed JSON.
 * @returns A sentence naming the field and the value, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { envelopeProblem } from "@alkdev/pubsub/envelope";
 * import { equal } from "node:assert/strict";
 *
 * equal(envelopeProblem({ type: "a", id: "1" }), undefined);
 * equal(envelopeProblem({ type: "a:b", id: "1" }), `'type' must not contain ':' (got "a:b")`);
 * ```
 */
export function envelopeProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return `an envelope must be an object (got ${quote(value)})`;
  }
  const { type, id } = value as Record<string, unknown>;
  if (typeof type !== "string") return `'type' must be a string (got ${quote(type)})`;
  if (type === "") return "'type' must not be empty";
  if (type.includes(":")) return `'type' must not contain ':' (got ${quote(type)})`;
  if (typeof id !== "string") return `'id' must be a string (got ${quote(id)})`;
  if (id === "") return "'id' must not be empty";
  if (id === "*") return "'id' must not be '*', which names every id";
  return undefined;
}

/**
 * Checks that `value` is an envelope and returns a copy holding only `type`,
 * `id` and `payload`.
 *
 * @param value Anything, typically parsed JSON.
 * @returns The envelope, without any other field of `value`.
 * @throws {TypeError} When `value` is not a valid envelope; the message names the field.
 *
 * @example Usage
 * ```ts
 * import { validateEnvelope } from "@alkdev/pubsub/envelope";
 * import { deepEqual, throws } from "node:assert/strict";
 *
 * deepEqual(validateEnvelope({ type: "a", id: "1", payload: 2, extra: 3 }), {
 *   type: "a",
 *   id: "1",
 *   payload: 2,
 * });
 * throws(() => validateEnvelope({ type: "a", id: "*" }), TypeError);
 * ```
 */
export function validateEnvelope(value: unknown): EventEnvelope {
  const problem = envelopeProblem(value);
  if (problem !== undefined) throw new TypeError(`Invalid envelope: ${problem}`);
  const { type, id, payload } = value as EventEnvelope;
  return { type, id, payload };
}

/**
 * Builds the event that sends an envelope: its `type` is the topic
 * `<type>:<id>` and its `detail` the envelope.
 *
 * @param type The envelope type; non-empty, no `:`.
 * @param id The envelope id; non-empty, not `*`.
 * @param payload Any JSON-encodable value.
 * @returns The event to pass to any target's `dispatchEvent`.
 * @throws {TypeError} When `type` or `id` is invalid.
 *
 * @example Send a reply to one spoke
 * ```ts
 * import { createEnvelopeEvent } from "@alkdev/pubsub/envelope";
 * import { createInProcessEventTarget } from "@alkdev/pubsub/event-target-in-process";
 * import { deepEqual } from "node:assert/strict";
 *
 * const target = createInProcessEventTarget();
 * const seen: unknown[] = [];
 * target.addEventListener("job.done:*", (event) => seen.push(event.detail));
 * target.dispatchEvent(createEnvelopeEvent("job.done", "7", { ok: true }));
 * deepEqual(seen, [{ type: "job.done", id: "7", payload: { ok: true } }]);
 * ```
 */
export function createEnvelopeEvent<TType extends string, TPayload>(
  type: TType,
  id: string,
  payload: TPayload,
): TypedEvent<`${TType}:${string}`, EventEnvelope<TType, TPayload>> {
  const envelope = validateEnvelope({ type, id, payload }) as EventEnvelope<
    TType,
    TPayload
  >;
  return new CustomEvent(topicOf(type, id), { detail: envelope }) as TypedEvent<
    `${TType}:${string}`,
    EventEnvelope<TType, TPayload>
  >;
}

/**
 * Checks an event given to `dispatchEvent` and encodes its envelope as the
 * JSON text that goes on the wire (only `type`, `id` and `payload`).
 *
 * @param event The event to send.
 * @returns The JSON text of the envelope.
 * @throws {TypeError} When the detail is no valid envelope, `event.type` is not
 * its topic, or JSON cannot encode the payload (a BigInt, a cycle).
 *
 * @example Usage
 * ```ts
 * import { createEnvelopeEvent, encodeEnvelopeEvent } from "@alkdev/pubsub/envelope";
 * import { equal } from "node:assert/strict";
 *
 * const text = encodeEnvelopeEvent(createEnvelopeEvent("a", "1", [NaN]));
 * equal(text, '{"type":"a","id":"1","payload":[null]}');
 * ```
 */
export function encodeEnvelopeEvent(event: Event): string {
  const detail = (event as Partial<CustomEvent>).detail;
  const problem = envelopeProblem(detail);
  if (problem !== undefined) {
    throw new TypeError(
      `Cannot dispatch "${event.type}": invalid envelope in 'detail': ${problem}`,
    );
  }
  const { type, id, payload } = detail as EventEnvelope;
  const topic = topicOf(type, id);
  if (event.type !== topic) {
    throw new TypeError(
      `Cannot dispatch "${event.type}": 'event.type' must be the envelope's topic "${topic}"`,
    );
  }
  try {
    return JSON.stringify({ type, id, payload });
  } catch (cause) {
    throw new TypeError(
      `Cannot dispatch "${topic}": JSON cannot encode the payload (${(cause as Error).message})`,
      { cause },
    );
  }
}

/**
 * The UTF-8 byte length of a string, without allocating.
 *
 * @param text Any string.
 * @returns How many bytes its UTF-8 encoding takes.
 *
 * @example Usage
 * ```ts
 * import { utf8ByteLength } from "@alkdev/pubsub/envelope";
 * import { equal } from "node:assert/strict";
 *
 * equal(utf8ByteLength("héllo €"), 10);
 * ```
 */
export function utf8ByteLength(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) {
      bytes += 1;
      continue;
    }
    bytes += 2;
    // A surrogate pair is 2 UTF-16 units and 4 UTF-8 bytes; a lone one becomes U+FFFD, 3 bytes.
    const next = text.charCodeAt(i + 1);
    if (code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
  }
  return bytes;
}

/**
 * Whether `text` takes more than `limit` bytes in UTF-8, counting the bytes
 * only when the string's length leaves it in doubt.
 *
 * @param text Any string.
 * @param limit The most bytes allowed.
 * @returns `true` when the UTF-8 encoding of `text` is longer than `limit`.
 *
 * @example Usage
 * ```ts
 * import { exceedsBytes } from "@alkdev/pubsub/envelope";
 * import { equal } from "node:assert/strict";
 *
 * equal(exceedsBytes("€", 3), false);
 * equal(exceedsBytes("€", 2), true);
 * ```
 */
export function exceedsBytes(text: string, limit: number): boolean {
  // A UTF-16 unit takes 1 to 3 UTF-8 bytes, so most strings need no count.
  if (text.length > limit) return true;
  if (text.length * 3 <= limit) return false;
  return utf8ByteLength(text) > limit;
}

/** A frame that was refused: why, and the start of what it held. */
export interface RefusedFrame {
  /** Why the frame is not an envelope. */
  reason: string;
  /** The start of the frame's text. */
  data: string;
}

function preview(text: string): string {
  return text.length > ERROR_DATA_PREVIEW_CHARS ? text.slice(0, ERROR_DATA_PREVIEW_CHARS) : text;
}

/**
 * Parses one incoming frame into an envelope, or says why it is refused:
 * binary, over `maxBytes`, not JSON, or not a valid envelope. Never throws.
 *
 * @param data The frame as the transport delivered it (text, or anything
 * else for a binary frame).
 * @param maxBytes The largest frame accepted, in UTF-8 bytes.
 * @returns The envelope (only `type`, `id`, `payload`) or a {@linkcode RefusedFrame}.
 *
 * @example Usage
 * ```ts
 * import { parseFrame } from "@alkdev/pubsub/envelope";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(parseFrame('{"type":"a","id":"1","payload":2}', 1024), {
 *   envelope: { type: "a", id: "1", payload: 2 },
 * });
 * deepEqual(parseFrame("nope", 1024), {
 *   refused: { reason: "frame is not JSON", data: "nope" },
 * });
 * ```
 */
export function parseFrame(
  data: unknown,
  maxBytes: number,
): { envelope: EventEnvelope; refused?: undefined } | {
  envelope?: undefined;
  refused: RefusedFrame;
} {
  if (typeof data !== "string") return { refused: describeBinary(data) };
  if (exceedsBytes(data, maxBytes)) {
    return {
      refused: {
        reason: `frame is larger than maxMessageBytes (${maxBytes} bytes)`,
        data: preview(data),
      },
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return { refused: { reason: "frame is not JSON", data: preview(data) } };
  }
  const problem = envelopeProblem(value);
  if (problem !== undefined) {
    return {
      refused: { reason: `invalid envelope: ${problem}`, data: preview(data) },
    };
  }
  const { type, id, payload } = value as EventEnvelope;
  return { envelope: { type, id, payload } };
}

function describeBinary(data: unknown): RefusedFrame {
  let bytes: Uint8Array | undefined;
  if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
  else if (ArrayBuffer.isView(data)) {
    bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  const size = bytes?.byteLength ?? (data as Blob | undefined)?.size;
  return {
    reason: `binary frames are not envelopes${size === undefined ? "" : ` (${size} bytes)`}`,
    data: bytes ? new TextDecoder().decode(bytes.subarray(0, ERROR_DATA_PREVIEW_CHARS)) : "",
  };
}

/**
 * The event that a target's listeners receive for an incoming envelope or
 * refused input: a `CustomEvent` that also names the connection it came from.
 *
 * @typeParam TDetail The envelope (or the error detail).
 * @typeParam TSource The target of the connection it arrived on.
 *
 * @example Reply to whoever sent a request
 * ```ts
 * import { createEnvelopeEvent, SourcedEvent } from "@alkdev/pubsub/envelope";
 * import { equal } from "node:assert/strict";
 *
 * const event = new SourcedEvent("job.done:7", { type: "job.done", id: "7", payload: 1 }, null);
 * equal(event.source, null);
 * equal(event.detail.id, "7");
 * ```
 */
export class SourcedEvent<TDetail = unknown, TSource = EventTarget | null>
  extends CustomEvent<TDetail> {
  /** The target of the connection the event came from, if any. */
  readonly source: TSource;

  /**
   * Creates the event.
   *
   * @param type The event name.
   * @param detail The envelope or error detail.
   * @param source The target of the connection it came from.
   */
  constructor(type: string, detail: TDetail, source: TSource) {
    super(type, { detail });
    this.source = source;
  }
}

const localDispatch = EventTarget.prototype.dispatchEvent;

/**
 * Fires an incoming envelope on `target`'s own listeners under its three
 * names, in order: `<type>:<id>`, `<type>:*`, `*`. A target's own
 * `dispatchEvent` sends instead, so this is how received envelopes reach
 * listeners.
 *
 * @param target The target whose listeners hear the envelope.
 * @param envelope A valid envelope.
 * @param source The target of the connection it arrived on, or `null`.
 *
 * @example Usage
 * ```ts
 * import { dispatchEnvelope } from "@alkdev/pubsub/envelope";
 * import { deepEqual } from "node:assert/strict";
 *
 * const target = new EventTarget();
 * const names: string[] = [];
 * for (const name of ["a:1", "a:*", "*"]) {
 *   target.addEventListener(name, (event) => names.push(event.type));
 * }
 * dispatchEnvelope(target, { type: "a", id: "1", payload: null }, null);
 * deepEqual(names, ["a:1", "a:*", "*"]);
 * ```
 */
export function dispatchEnvelope(
  target: EventTarget,
  envelope: EventEnvelope,
  source: EventTarget | null,
): void {
  const { type, id } = envelope;
  localDispatch.call(target, new SourcedEvent(`${type}:${id}`, envelope, source));
  localDispatch.call(target, new SourcedEvent(`${type}:*`, envelope, source));
  localDispatch.call(target, new SourcedEvent("*", envelope, source));
}

/**
 * Fires `error` on `target`'s own listeners with `{ reason, data }`, keeping
 * only the first {@linkcode ERROR_DATA_PREVIEW_CHARS} characters of `data`.
 *
 * @param target The target whose listeners hear it.
 * @param detail Why, and the offending input.
 * @param source The target of the connection it arrived on, or `null`.
 *
 * @example Usage
 * ```ts
 * import { dispatchError } from "@alkdev/pubsub/envelope";
 * import { equal } from "node:assert/strict";
 *
 * const target = new EventTarget();
 * let reason = "";
 * target.addEventListener("error", (event) => {
 *   reason = (event as CustomEvent<{ reason: string }>).detail.reason;
 * });
 * dispatchError(target, { reason: "frame is not JSON", data: "x" }, null);
 * equal(reason, "frame is not JSON");
 * ```
 */
export function dispatchError(
  target: EventTarget,
  detail: ErrorDetail,
  source: EventTarget | null,
): void {
  const { reason, data } = detail;
  localDispatch.call(target, new SourcedEvent("error", { reason, data: preview(data) }, source));
}
