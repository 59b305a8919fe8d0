// Copyright 2026 the @alkdev/pubsub authors. MIT license.
// This module is browser compatible.

/**
 * Publish and subscribe by envelope type, on any target of this package:
 * `publish(type, id, payload)` sends an envelope, and `subscribe(type, id?)`
 * is an async iterable of the envelopes that arrive, typed from an event map.
 *
 * @example Request and reply in process
 * ```ts
 * import { createPubSub } from "@alkdev/pubsub/pubsub";
 * import { deepEqual } from "node:assert/strict";
 *
 * const pubsub = createPubSub<{ "job.done": { n: number } }>();
 * const done = pubsub.subscribe("job.done", "7");
 * pubsub.publish("job.done", "7", { n: 42 });
 * deepEqual((await done.next()).value, { type: "job.done", id: "7", payload: { n: 42 } });
 * await done.return();
 * ```
 *
 * @module
 */

import { positiveInteger } from "./_connection.ts";
import {
  createEnvelopeEvent,
  type EnvelopeEvents,
  envelopeProblem,
  type EventEnvelope,
  topicOf,
  type TypedEventTarget,
} from "./envelope.ts";
import { createInProcessEventTarget } from "./in_process.ts";

/** Default for `maxQueued`: envelopes a subscription holds for a busy consumer. */
export const DEFAULT_MAX_QUEUED = 1024;

/**
 * The payload argument of {@linkcode PubSub.publish} for a payload type `T`:
 * required, or optional when `T` admits `undefined` (an envelope without a
 * payload).
 *
 * @typeParam T The payload type the event map gives the envelope type.
 */
export type PublishPayload<T> = undefined extends T ? [payload?: T] : [payload: T];

/** Options for {@linkcode createPubSub}. */
export interface CreatePubSubOptions<TMap extends object> {
  /**
   * The target envelopes go through: any target of this package (a WebSocket
   * client or hub, one spoke's target on a hub, an in-process target…).
   * `publish` dispatches on it and `subscribe` listens on it, so on a hub
   * `publish` reaches every spoke and on a spoke's target that spoke alone.
   *
   * @default {createInProcessEventTarget()}
   */
  eventTarget?: TypedEventTarget<EnvelopeEvents<TMap>>;
}

/** Options for {@linkcode PubSub.subscribe}. */
export interface SubscribeOptions {
  /** Ends the subscription at once when it aborts, as `return()` does. */
  signal?: AbortSignal;
  /**
   * The most envelopes held while the consumer is busy. One more ends the
   * subscription: the envelopes already held are delivered, then `next()`
   * rejects with an error that says so. Nothing is dropped in silence.
   *
   * @default {1024}
   */
  maxQueued?: number;
}

/**
 * The envelopes of one subscription, in the order they arrived. Iterate with
 * `for await`; `break` or `return()` ends it and removes its listeners.
 *
 * @typeParam T The envelope type.
 */
export interface Subscription<T> extends AsyncIterableIterator<T> {
  /** The next envelope, waiting for it if none is held; `done` once the subscription has ended. */
  next(): Promise<IteratorResult<T, undefined>>;
  /** Ends the subscription at once: held envelopes are dropped and a pending `next()` is done. */
  return(): Promise<IteratorReturnResult<undefined>>;
  /** The subscription itself, so `for await` can iterate it. */
  [Symbol.asyncIterator](): Subscription<T>;
}

/**
 * Publish and subscribe on one target, typed by an event map.
 *
 * @typeParam TMap Envelope `type` to the `payload` type it carries.
 */
export interface PubSub<TMap extends object> {
  /**
   * Sends the envelope `{ type, id, payload }` through the target. What the
   * target refuses (an invalid `type` or `id`, a payload JSON cannot encode,
   * a closed connection, a full send buffer) is thrown here.
   *
   * @param type The envelope type: a key of the event map.
   * @param id The envelope id: non-empty, not `*`.
   * @param payload The payload the event map gives `type`.
   * @throws {TypeError} When `type` or `id` is invalid or JSON cannot encode the payload.
   * @throws {Error} When the target is closed or its send buffer is full.
   *
   * @example Publish to every subscriber of a type
   * ```ts
   * import { createPubSub } from "@alkdev/pubsub/pubsub";
   * import { equal } from "node:assert/strict";
   *
   * const pubsub = createPubSub<{ "job.run": { n: number } }>();
   * const runs = pubsub.subscribe("job.run");
   * pubsub.publish("job.run", "a", { n: 1 });
   * pubsub.publish("job.run", "b", { n: 2 });
   * equal((await runs.next()).value?.id, "a");
   * equal((await runs.next()).value?.id, "b");
   * await runs.return();
   * ```
   */
  publish<K extends keyof TMap & string>(
    type: K,
    id: string,
    ...payload: PublishPayload<TMap[K]>
  ): void;
  /**
   * Listens, from this call on, for the envelopes of `type` with `id`, or of
   * every id when `id` is left out. The subscription ends on `break` or
   * `return()` and when `options.signal` aborts (at once), and when the
   * target fires `close` (after the envelopes already held); each time it
   * removes its listeners.
   *
   * @param type The envelope type: a key of the event map.
   * @param id One id, or `undefined` for every id of `type`.
   * @param options An abort signal and the queue bound.
   * @returns The envelopes, as an async iterable.
   * @throws {TypeError} When `type` or `id` is invalid.
   * @throws {RangeError} When `maxQueued` is not a positive integer.
   *
   * @example Stop with an AbortSignal
   * ```ts
   * import { createPubSub } from "@alkdev/pubsub/pubsub";
   * import { deepEqual } from "node:assert/strict";
   *
   * const pubsub = createPubSub<{ tick: number }>();
   * const controller = new AbortController();
   * const ticks = pubsub.subscribe("tick", "clock", { signal: controller.signal });
   * pubsub.publish("tick", "clock", 1);
   * pubsub.publish("tick", "clock", 2);
   * const seen: number[] = [];
   * for await (const { payload } of ticks) {
   *   seen.push(payload);
   *   if (payload === 2) controller.abort();
   * }
   * deepEqual(seen, [1, 2]);
   * ```
   */
  subscribe<K extends keyof TMap & string>(
    type: K,
    id?: string,
    options?: SubscribeOptions,
  ): Subscription<EventEnvelope<K, TMap[K]>>;
}

/** One subscription's queue and the listeners that feed it. */
class EnvelopeQueue<T> implements Subscription<T> {
  #held: T[] = [];
  #waiting: ((result: IteratorResult<T, undefined>) => void)[] = [];
  #failure: Error | undefined;
  #ended = false;
  #detach: () => void = () => {};

  constructor(target: EventTarget, name: string, maxQueued: number, signal?: AbortSignal) {
    // Nothing can arrive after an abort, nor on a connection closed already (no `close` to come).
    if (signal?.aborted || (target as { state?: unknown }).state === "closed") {
      this.#ended = true;
      return;
    }
    const onEnvelope = (event: Event) => {
      const envelope = (event as CustomEvent<T>).detail;
      const waiter = this.#waiting.shift();
      if (waiter) waiter({ value: envelope, done: false });
      else if (this.#held.length < maxQueued) this.#held.push(envelope);
      else {
        this.#end();
        this.#failure = new Error(
          `Subscription to "${name}" ended: more than ${maxQueued} envelopes (maxQueued) ` +
            "arrived while the consumer was busy",
        );
      }
    };
    const onClose = () => this.#end();
    const onAbort = () => this.#stop();
    // Removed one by one, not through a signal: targets such as Redis's count listeners.
    target.addEventListener(name, onEnvelope);
    target.addEventListener("close", onClose);
    signal?.addEventListener("abort", onAbort);
    this.#detach = () => {
      target.removeEventListener(name, onEnvelope);
      target.removeEventListener("close", onClose);
      signal?.removeEventListener("abort", onAbort);
    };
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.#held.length > 0) {
      return Promise.resolve({ value: this.#held.shift() as T, done: false });
    }
    const failure = this.#failure;
    if (failure) {
      this.#failure = undefined;
      return Promise.reject(failure);
    }
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  return(): Promise<IteratorReturnResult<undefined>> {
    this.#stop();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): Subscription<T> {
    return this;
  }

  /** No more envelopes will arrive; what is held is still delivered. */
  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#detach();
    // Waiters exist only while nothing is held, so they are done.
    for (const waiter of this.#waiting.splice(0)) waiter({ value: undefined, done: true });
  }

  /** Ends at once, dropping what is held. */
  #stop(): void {
    this.#end();
    this.#held = [];
    this.#failure = undefined;
  }
}

/**
 * Creates a pub/sub over a target of this package. Subscriptions listen on
 * `<type>:<id>` or `<type>:*`, so what they see is what the target's
 * listeners see: on a WebSocket client, what the hub sends; on a hub, what
 * every spoke sends; on the default in-process target, what this pub/sub
 * publishes. Payloads go through JSON as on the wire (a `Date` arrives as a
 * string), so give the event map JSON types.
 *
 * To end every subscription at once, create the target yourself and close it:
 * each subscription delivers what it holds, then ends.
 *
 * @typeParam TMap Envelope `type` to the `payload` type it carries, such as
 * `{ "job.run": { n: number } }`.
 * @param options The target to use (default: a new in-process target).
 * @returns The pub/sub.
 *
 * @example Every id of a type, ended by closing the target
 * ```ts
 * import { createPubSub } from "@alkdev/pubsub/pubsub";
 * import { createInProcessEventTarget } from "@alkdev/pubsub/event-target-in-process";
 * import type { EnvelopeEvents } from "@alkdev/pubsub/envelope";
 * import { deepEqual } from "node:assert/strict";
 *
 * type Events = { "job.run": { n: number } };
 * const target = createInProcessEventTarget<EnvelopeEvents<Events>>();
 * const pubsub = createPubSub<Events>({ eventTarget: target });
 * const runs = pubsub.subscribe("job.run");
 * pubsub.publish("job.run", "a", { n: 1 });
 * pubsub.publish("job.run", "b", { n: 2 });
 * target.close();
 * const seen: string[] = [];
 * for await (const run of runs) seen.push(`${run.id}=${run.payload.n}`);
 * deepEqual(seen, ["a=1", "b=2"]);
 * ```
 *
 * @example A hub that answers each spoke alone
 * ```ts ignore
 * import { createPubSub } from "@alkdev/pubsub/pubsub";
 * import { createWebSocketServerEventTarget } from "@alkdev/pubsub/event-target-websocket-server";
 * import type { EnvelopeEvents } from "@alkdev/pubsub/envelope";
 *
 * type Events = { "job.run": { n: number }; "job.done": { n: number } };
 * const hub = createWebSocketServerEventTarget<EnvelopeEvents<Events>>();
 * hub.addEventListener("job.run:*", ({ detail, source }) => {
 *   createPubSub<Events>({ eventTarget: source }).publish("job.done", detail.id, {
 *     n: detail.payload.n * 2,
 *   });
 * });
 * Deno.serve({ port: 8080 }, (request) => {
 *   const { socket, response } = Deno.upgradeWebSocket(request);
 *   hub.addConnection(socket);
 *   return response;
 * });
 * ```
 */
export function createPubSub<TMap extends object = Record<string, unknown>>(
  // The map comes from the type argument, never from the target's events.
  options: CreatePubSubOptions<NoInfer<TMap>> = {},
): PubSub<TMap> {
  const target: EventTarget = options.eventTarget ?? createInProcessEventTarget();
  return {
    publish(type, id, ...[payload]) {
      target.dispatchEvent(createEnvelopeEvent(type, id, payload));
    },
    subscribe(type, id, { signal, maxQueued } = {}) {
      // With every id wanted, only `type` is in question: any valid id stands in.
      const problem = envelopeProblem({ type, id: id ?? "any" });
      if (problem !== undefined) throw new TypeError(`Cannot subscribe: ${problem}`);
      return new EnvelopeQueue(
        target,
        topicOf(type, id ?? "*"),
        positiveInteger("maxQueued", maxQueued, DEFAULT_MAX_QUEUED),
        signal,
      );
    },
  };
}
