// Copyright 2026 the @alkdev/pubsub authors. MIT license.
// This module is browser compatible.

/**
 * A bus over Redis pub/sub, shared by every process that creates a Redis
 * target with the same prefix: `dispatchEvent` publishes, and every Redis
 * target with a listener for a matching name receives, in every process, the
 * publisher's own included. Several hubs joined this way serve spokes on any
 * of them as if they were one hub.
 *
 * The caller passes the two Redis connections it already uses, from `ioredis`
 * or `redis` (node-redis 4+): the package depends on neither. Redis pub/sub
 * delivers at most once: what is published while a subscriber is
 * disconnected is never delivered to it.
 *
 * @example Two processes, one bus
 * ```ts ignore
 * import { Redis } from "ioredis";
 * import { createRedisEventTarget } from "@alkdev/pubsub/event-target-redis";
 * import { createEnvelopeEvent } from "@alkdev/pubsub/envelope";
 *
 * const publisher = new Redis();
 * const bus = createRedisEventTarget({ publisher, subscriber: publisher.duplicate() });
 * bus.addEventListener("job.done:*", (event) => console.log(event.detail.payload));
 * bus.dispatchEvent(createEnvelopeEvent("job.done", "7", { ok: true })); // heard here too
 * ```
 *
 * @module
 */

import {
  CLEAN_CLOSE,
  closedError,
  describeError,
  dispatchClose,
  dispatchLocal,
  positiveInteger,
} from "./_connection.ts";
import {
  type AnyEnvelopeEvent,
  DEFAULT_MAX_MESSAGE_BYTES,
  dispatchError,
  encodeEnvelopeEvent,
  type EventEnvelope,
  parseFrame,
  SourcedEvent,
  topicOf,
  type TypedEvent,
  type TypedEventTarget,
} from "./envelope.ts";

/** Default for `prefix`: what every channel of the bus starts with. */
export const DEFAULT_REDIS_PREFIX = "alkdev:pubsub:";

/**
 * The publishing connection: any client with `publish(channel, message)`
 * returning a promise, as `ioredis` and node-redis clients have.
 */
export interface RedisPublisher {
  /** Publishes `message` on `channel`. */
  publish(channel: string, message: string): Promise<unknown>;
}

/** The part of an `ioredis` client (v5+) the target uses to subscribe. */
export interface IORedisSubscriber {
  /** Subscribes to channels. */
  subscribe(...channels: string[]): Promise<unknown>;
  /** Subscribes to glob patterns. */
  psubscribe(...patterns: string[]): Promise<unknown>;
  /** Unsubscribes from the channels named. */
  unsubscribe(...channels: string[]): Promise<unknown>;
  /** Unsubscribes from the patterns named. */
  punsubscribe(...patterns: string[]): Promise<unknown>;
  /** Adds a listener: the target uses `message`, `pmessage`, `ready` and `error`. */
  // deno-lint-ignore no-explicit-any
  on(event: string, listener: (...args: any[]) => void): unknown;
  /** Removes a listener added with `on`. */
  // deno-lint-ignore no-explicit-any
  off(event: string, listener: (...args: any[]) => void): unknown;
}

/** What node-redis calls a subscription's listener with. */
export type NodeRedisListener = (message: string, channel: string) => unknown;

/** The part of a node-redis client (`redis` v4+) the target uses to subscribe. */
export interface NodeRedisSubscriber {
  /** Subscribes `listener` to a channel. */
  subscribe(channel: string, listener: NodeRedisListener): Promise<unknown>;
  /** Subscribes `listener` to a glob pattern. */
  pSubscribe(pattern: string, listener: NodeRedisListener): Promise<unknown>;
  /** Unsubscribes `listener` from a channel. */
  unsubscribe(channel: string, listener: NodeRedisListener): Promise<unknown>;
  /** Unsubscribes `listener` from a pattern. */
  pUnsubscribe(pattern: string, listener: NodeRedisListener): Promise<unknown>;
  /** Adds a listener: the target uses `ready` and `error`. */
  // deno-lint-ignore no-explicit-any
  on(event: string, listener: (...args: any[]) => void): unknown;
  /** Removes a listener added with `on`. */
  // deno-lint-ignore no-explicit-any
  off(event: string, listener: (...args: any[]) => void): unknown;
}

/** The subscribing connection: an `ioredis` or a node-redis client. */
export type RedisSubscriber = IORedisSubscriber | NodeRedisSubscriber;

/** Options for {@linkcode createRedisEventTarget}. */
export interface CreateRedisEventTargetOptions {
  /**
   * The connection that publishes: an `ioredis` or node-redis client,
   * connected, owned by the caller.
   */
  publisher: RedisPublisher;
  /**
   * A second connection, used only to subscribe (a subscribed connection
   * cannot publish), and only by this target. The target adds its handlers
   * to it (and reports its `error` events as its own) until `close()`.
   */
  subscriber: RedisSubscriber;
  /**
   * Namespaces the channels: an envelope is published on
   * `<prefix><type>:<id>`. Targets hear each other only with the same prefix.
   *
   * @default {"alkdev:pubsub:"}
   */
  prefix?: string;
  /**
   * The largest message accepted from a channel, in UTF-8 bytes; a longer
   * one fires `error` and is not dispatched.
   *
   * @default {1048576}
   */
  maxMessageBytes?: number;
}

/**
 * A Redis target: a typed event target whose `dispatchEvent` publishes to
 * Redis and whose listeners hear what any target on the same prefix publishes.
 *
 * @typeParam TEvent The union of envelope events it carries.
 */
export interface RedisEventTarget<TEvent extends TypedEvent = AnyEnvelopeEvent>
  extends TypedEventTarget<TEvent, { readonly source: null }> {
  /** `open` until `close()`, then `closed`. */
  readonly state: "open" | "closed";
  /**
   * Unsubscribes everything this target subscribed, removes its handlers
   * from the subscriber, fires `close` once, and leaves both clients open;
   * afterwards `dispatchEvent` throws. The promise resolves when Redis has
   * answered the unsubscribes (or they failed); it never rejects.
   */
  close(): Promise<void>;
}

/** What an ioredis publisher also has: its connection state, and events. */
interface IORedisPublisherState {
  status: string;
  on(event: "ready", listener: () => void): unknown;
  off(event: "ready", listener: () => void): unknown;
}

/** One listener as the target counts it: what it was added as, and what runs it. */
interface Entry {
  listener: NonNullable<Parameters<EventTarget["addEventListener"]>[1]>;
  capture: boolean;
  run: (event: Event) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/** One name's subscription in Redis. */
interface Subscription {
  name: string;
  /** The channel, or the glob pattern. */
  redis: string;
  pattern: boolean;
  /** node-redis only: the listener it was subscribed with, needed to unsubscribe. */
  listener?: NodeRedisListener;
}

// Which subscription a Redis message came through: one PUBLISH reaches a target
// once through each of them that matches.
const CHANNEL = 1;
const TYPE_WILDCARD = 2;
const WILDCARD = 4;

/** The messages of one PUBLISH: Redis writes them to a connection one after another. */
interface Arrival {
  channel: string;
  message: string;
  /** The subscriptions it has come through so far. */
  seen: number;
  /** The envelope, or undefined when the message was refused. */
  envelope: EventEnvelope | undefined;
}

/** Escapes Redis's glob characters (`\ * ? [ ]`) so the text matches only itself. */
function escapeGlob(text: string): string {
  return text.replace(/[\\*?[\]]/g, "\\$&");
}

/** Whether a listener name selects envelopes: `*`, or a non-empty type and id around a `:`. */
function isEnvelopeName(name: string): boolean {
  const colon = name.indexOf(":");
  return name === "*" || (colon > 0 && colon < name.length - 1);
}

class RedisTarget extends EventTarget {
  #publisher: RedisPublisher;
  /** An ioredis publisher, whose state decides when a publish may go (see #publisherUp). */
  #ioPublisher: IORedisPublisherState | undefined;
  #io: IORedisSubscriber | undefined;
  #node: NodeRedisSubscriber | undefined;
  #prefix: string;
  #maxMessageBytes: number;
  #closed = false;
  /** The listeners of each envelope name; a name is subscribed in Redis while it has any. */
  #listeners = new Map<string, Entry[]>();
  #subscriptions = new Map<string, Subscription>();
  /** ioredis reports the channel or pattern, not the name: these map them back. */
  #channels = new Map<string, Subscription>();
  #patterns = new Map<string, Subscription>();
  /** Names whose SUBSCRIBE failed; asked again when the subscriber is ready. */
  #failed = new Set<string>();
  /** Subscribes asked and answered; a connection answers them in order. */
  #asked = 0;
  #answered = 0;
  /** Publishes waiting for the subscribes asked before them. */
  #outbox: { channel: string; text: string; after: number }[] = [];
  #arrival: Arrival | undefined;
  /** A `*` delivery held back until the `<type>:*` one of the same PUBLISH has fired. */
  #held: { envelope: EventEnvelope; arrival: Arrival } | undefined;
  #onMessage = (channel: string, message: string) => {
    const subscription = this.#channels.get(channel);
    if (subscription) this.#arrive(subscription, channel, message);
  };
  #onPatternMessage = (pattern: string, channel: string, message: string) => {
    const subscription = this.#patterns.get(pattern);
    if (subscription) this.#arrive(subscription, channel, message);
  };
  #onError = (cause: unknown) => {
    if (!this.#closed) this.#report(`subscriber: ${describeError(cause)}`);
  };
  #drain = () => {
    while (
      this.#outbox.length > 0 && this.#outbox[0].after <= this.#answered && this.#publisherUp()
    ) {
      const { channel, text } = this.#outbox.shift()!;
      this.#publish(channel, text);
    }
  };
  #onReady = () => {
    const failed = [...this.#failed];
    this.#failed.clear();
    for (const name of failed) {
      if (!this.#closed && this.#subscriptions.has(name)) this.#subscribe(name);
    }
  };

  constructor(options: CreateRedisEventTargetOptions) {
    super();
    const { publisher, subscriber } = options ?? {};
    if (typeof publisher?.publish !== "function") {
      throw new TypeError("'publisher' must be a Redis client (ioredis or node-redis)");
    }
    if (typeof (subscriber as NodeRedisSubscriber)?.pSubscribe === "function") {
      this.#node = subscriber as NodeRedisSubscriber;
    } else if (typeof (subscriber as IORedisSubscriber)?.psubscribe === "function") {
      this.#io = subscriber as IORedisSubscriber;
    } else {
      throw new TypeError("'subscriber' must be a Redis client (ioredis or node-redis)");
    }
    if (subscriber === (publisher as unknown)) {
      throw new TypeError(
        "'publisher' and 'subscriber' must be two connections: a subscribed connection cannot publish",
      );
    }
    const prefix = options.prefix ?? DEFAULT_REDIS_PREFIX;
    if (typeof prefix !== "string") {
      throw new TypeError(`'prefix' must be a string: got ${typeof prefix}`);
    }
    this.#publisher = publisher;
    if (typeof (publisher as Partial<IORedisPublisherState>).status === "string") {
      this.#ioPublisher = publisher as unknown as IORedisPublisherState;
      this.#ioPublisher.on("ready", this.#drain);
    }
    this.#prefix = prefix;
    this.#maxMessageBytes = positiveInteger(
      "maxMessageBytes",
      options.maxMessageBytes,
      DEFAULT_MAX_MESSAGE_BYTES,
    );
    if (this.#io) {
      this.#io.on("message", this.#onMessage);
      this.#io.on("pmessage", this.#onPatternMessage);
    }
    subscriber.on("error", this.#onError);
    subscriber.on("ready", this.#onReady);
  }

  get state(): "open" | "closed" {
    return this.#closed ? "closed" : "open";
  }

  override dispatchEvent(event: Event): boolean {
    const text = encodeEnvelopeEvent(event);
    if (this.#closed) throw closedError(event.type);
    const channel = this.#prefix + event.type;
    // Sent after the subscribes asked before it, so this target's own listeners hear it.
    if (this.#outbox.length === 0 && this.#answered >= this.#asked && this.#publisherUp()) {
      this.#publish(channel, text);
    } else this.#outbox.push({ channel, text, after: this.#asked });
    return true;
  }

  override addEventListener(
    type: string,
    listener: Parameters<EventTarget["addEventListener"]>[1],
    options?: Parameters<EventTarget["addEventListener"]>[2],
  ): void {
    const name = String(type);
    if (listener === null || listener === undefined || !isEnvelopeName(name)) {
      return super.addEventListener(type, listener, options);
    }
    const flags: { capture?: boolean; once?: boolean; signal?: AbortSignal } =
      typeof options === "object" && options !== null ? options : {};
    const capture = typeof options === "boolean" ? options : Boolean(flags.capture);
    const { signal } = flags;
    if (signal?.aborted) return;
    const entries = this.#listeners.get(name) ?? [];
    if (entries.some((e) => e.listener === listener && e.capture === capture)) return;
    // The target runs `once` and `signal` itself, so that it sees every removal and the count stays exact.
    const once = Boolean(flags.once);
    const entry: Entry = {
      listener,
      capture,
      signal,
      run: (event) => {
        if (once) this.#forget(name, entry);
        if (typeof listener === "function") listener.call(this, event);
        else listener.handleEvent(event);
      },
    };
    if (signal) {
      entry.onAbort = () => this.#forget(name, entry);
      signal.addEventListener("abort", entry.onAbort, { once: true });
    }
    entries.push(entry);
    this.#listeners.set(name, entries);
    super.addEventListener(name, entry.run, capture);
    if (entries.length === 1 && !this.#closed) this.#subscribe(name);
  }

  override removeEventListener(
    type: string,
    listener: Parameters<EventTarget["removeEventListener"]>[1],
    options?: Parameters<EventTarget["removeEventListener"]>[2],
  ): void {
    const name = String(type);
    const capture = typeof options === "boolean" ? options : Boolean(options?.capture);
    const entry = this.#listeners.get(name)?.find((e) =>
      e.listener === listener && e.capture === capture
    );
    if (entry) this.#forget(name, entry);
    else super.removeEventListener(type, listener, options);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#held = undefined;
    // Nothing here will hear them any more: what waited for this target's subscribes goes now.
    for (const { channel, text } of this.#outbox.splice(0)) this.#publish(channel, text);
    this.#ioPublisher?.off("ready", this.#drain);
    const subscriber = (this.#io ?? this.#node)!;
    subscriber.off("error", this.#onError);
    subscriber.off("ready", this.#onReady);
    this.#io?.off("message", this.#onMessage);
    this.#io?.off("pmessage", this.#onPatternMessage);
    // Listeners stay (as on any EventTarget), but the caller's signals need not hold on to this target.
    for (const entries of this.#listeners.values()) {
      for (const entry of entries) {
        if (entry.onAbort) entry.signal!.removeEventListener("abort", entry.onAbort);
      }
    }
    const answers = [...this.#subscriptions.values()].map((s) => this.#unsubscribeFrom(s));
    this.#subscriptions.clear();
    this.#failed.clear();
    dispatchClose(this, CLEAN_CLOSE);
    await Promise.allSettled(answers);
  }

  /** Removes one listener; the last one of a name unsubscribes it. */
  #forget(name: string, entry: Entry): void {
    const entries = this.#listeners.get(name);
    const index = entries?.indexOf(entry) ?? -1;
    if (!entries || index === -1) return;
    entries.splice(index, 1);
    super.removeEventListener(name, entry.run, entry.capture);
    if (entry.onAbort) entry.signal!.removeEventListener("abort", entry.onAbort);
    if (entries.length > 0) return;
    this.#listeners.delete(name);
    const subscription = this.#subscriptions.get(name);
    if (!subscription) return;
    this.#subscriptions.delete(name);
    this.#failed.delete(name);
    this.#unsubscribeFrom(subscription).catch((cause) => {
      if (!this.#closed) {
        this.#report(`unsubscribe from "${subscription.redis}" failed: ${describeError(cause)}`);
      }
    });
  }

  #subscribe(name: string): void {
    const subscription: Subscription = name === "*"
      ? { name, redis: `${escapeGlob(this.#prefix)}*`, pattern: true }
      : name.endsWith(":*") && name.indexOf(":") === name.length - 2
      ? { name, redis: `${escapeGlob(this.#prefix + name.slice(0, -1))}*`, pattern: true }
      : { name, redis: this.#prefix + name, pattern: false };
    this.#subscriptions.set(name, subscription);
    let asked: Promise<unknown>;
    if (this.#io) {
      (subscription.pattern ? this.#patterns : this.#channels).set(
        subscription.redis,
        subscription,
      );
      asked = subscription.pattern
        ? this.#io.psubscribe(subscription.redis)
        : this.#io.subscribe(subscription.redis);
    } else {
      const listener = (message: string, channel: string) =>
        this.#arrive(subscription, channel, message);
      subscription.listener = listener;
      asked = subscription.pattern
        ? this.#node!.pSubscribe(subscription.redis, listener)
        : this.#node!.subscribe(subscription.redis, listener);
    }
    this.#asked++;
    asked.catch((cause) => {
      if (this.#closed || this.#subscriptions.get(name) !== subscription) return;
      this.#failed.add(name);
      this.#report(`subscribe to "${subscription.redis}" failed: ${describeError(cause)}`);
    }).finally(() => this.#answer());
  }

  #unsubscribeFrom(subscription: Subscription): Promise<unknown> {
    const { redis, pattern, listener } = subscription;
    // Always with explicit names (and node-redis's listener): both clients have versions
    // that hang when asked to unsubscribe from everything.
    if (this.#io) {
      const map = pattern ? this.#patterns : this.#channels;
      if (map.get(redis) === subscription) map.delete(redis);
      return pattern ? this.#io.punsubscribe(redis) : this.#io.unsubscribe(redis);
    }
    return pattern
      ? this.#node!.pUnsubscribe(redis, listener!)
      : this.#node!.unsubscribe(redis, listener!);
  }

  /** A subscribe was answered: publishes that waited for it go out, in order. */
  #answer(): void {
    this.#answered++;
    this.#drain();
  }

  /**
   * Whether a publish handed to the client now keeps its order. Reconnecting,
   * ioredis writes commands that Redis allows while loading (PUBLISH is one)
   * before its ready check, ahead of the ones it queued while offline; so
   * while it is in that state, publishes wait here for its `ready`.
   */
  #publisherUp(): boolean {
    return this.#ioPublisher?.status !== "connect";
  }

  #publish(channel: string, text: string): void {
    this.#publisher.publish(channel, text).catch((cause) => {
      if (!this.#closed) {
        this.#report(`publish to "${channel}" failed: ${describeError(cause)}`, text);
      }
    });
  }

  /**
   * A message came through one subscription. One PUBLISH reaches this
   * connection once per matching subscription, one message after another:
   * it is parsed once, each name fires from its own subscription's message,
   * and a `*` message that comes before its `<type>:*` twin waits for it.
   */
  #arrive(subscription: Subscription, channel: string, message: string): void {
    if (this.#closed || this.#subscriptions.get(subscription.name) !== subscription) return;
    const { name } = subscription;
    const via = name === "*" ? WILDCARD : subscription.pattern ? TYPE_WILDCARD : CHANNEL;
    let arrival = this.#arrival;
    // A channel message comes first, and each subscription once: either starts another PUBLISH.
    if (
      via === CHANNEL || !arrival || (arrival.seen & via) !== 0 || arrival.channel !== channel ||
      arrival.message !== message
    ) {
      this.#release();
      arrival = this.#arrival = {
        channel,
        message,
        seen: 0,
        envelope: this.#parse(channel, message),
      };
    }
    arrival.seen |= via;
    const { envelope } = arrival;
    if (!envelope) return;
    if (via === WILDCARD && !(arrival.seen & TYPE_WILDCARD)) {
      const twin = this.#subscriptions.get(`${envelope.type}:*`);
      if (twin && !this.#failed.has(twin.name)) {
        this.#held = { envelope, arrival };
        // If the twin is split off into a later read, or never comes, `*` does not wait for it.
        queueMicrotask(() => {
          if (this.#held?.arrival === arrival) this.#release();
        });
        return;
      }
    }
    dispatchLocal(this, new SourcedEvent(name, envelope, null));
    if (via === TYPE_WILDCARD) this.#release();
  }

  /** Fires the held `*` delivery, if any. */
  #release(): void {
    const held = this.#held;
    if (!held) return;
    this.#held = undefined;
    dispatchLocal(this, new SourcedEvent("*", held.envelope, null));
  }

  /** The envelope a message holds, or undefined after firing `error` for it. */
  #parse(channel: string, message: string): EventEnvelope | undefined {
    const { envelope, refused } = parseFrame(message, this.#maxMessageBytes);
    if (refused) {
      dispatchError(this, {
        reason: `${refused.reason} (channel "${channel}")`,
        data: refused.data,
      }, null);
      return undefined;
    }
    const topic = topicOf(envelope.type, envelope.id);
    if (this.#prefix + topic !== channel) {
      this.#report(`envelope "${topic}" arrived on channel "${channel}", not its own`, message);
      return undefined;
    }
    return envelope;
  }

  #report(reason: string, data = ""): void {
    dispatchError(this, { reason, data }, null);
  }
}

/**
 * Creates a Redis target: a bus shared by every Redis target on the same
 * `prefix`, in any process. `dispatchEvent` publishes the envelope as JSON on
 * the channel `<prefix><type>:<id>`; every target with a listener for a
 * matching name hears it, the publisher's own included, under `<type>:<id>`,
 * `<type>:*` and `*`.
 *
 * The target subscribes in Redis only to the names it has listeners for (a
 * channel for `<type>:<id>`, a pattern for `<type>:*` and `*`), and
 * unsubscribes when the last listener of a name is removed. Each listener
 * hears each envelope once, in the order one publisher published them. A
 * dispatch is published once Redis has confirmed the subscriptions this
 * target asked for before it, so a listener added before `dispatchEvent`
 * hears it.
 *
 * Redis pub/sub delivers at most once: what is published while the
 * subscriber is disconnected is lost. Both clients reconnect and subscribe
 * again on their own; listeners hear what is published after that.
 *
 * @typeParam TEvent The union of envelope events it carries (see `EnvelopeEvents`).
 * @param options The two connections, the channel prefix and the message size limit.
 * @returns The target.
 * @throws {TypeError} When a client is missing or not a Redis client, or both are the same.
 * @throws {RangeError} When `maxMessageBytes` is not a positive integer.
 *
 * @example With ioredis
 * ```ts ignore
 * import { Redis } from "ioredis";
 * import { createRedisEventTarget } from "@alkdev/pubsub/event-target-redis";
 * import { createEnvelopeEvent } from "@alkdev/pubsub/envelope";
 *
 * const publisher = new Redis("redis://127.0.0.1:6379");
 * const bus = createRedisEventTarget({ publisher, subscriber: publisher.duplicate() });
 * bus.addEventListener("job.done:*", (event) => console.log(event.detail.id));
 * bus.addEventListener("error", (event) => console.warn(event.detail.reason));
 * bus.dispatchEvent(createEnvelopeEvent("job.done", "7", { ok: true }));
 * ```
 *
 * @example With node-redis, under pub/sub
 * ```ts ignore
 * import { createClient } from "redis";
 * import { createRedisEventTarget } from "@alkdev/pubsub/event-target-redis";
 * import { createPubSub } from "@alkdev/pubsub/pubsub";
 *
 * // node-redis needs an 'error' listener on every client, or a dropped connection crashes Node.
 * const publisher = createClient({ url: "redis://127.0.0.1:6379" }).on("error", console.warn);
 * const subscriber = publisher.duplicate().on("error", console.warn);
 * await Promise.all([publisher.connect(), subscriber.connect()]);
 * const pubsub = createPubSub<{ "job.done": { ok: boolean } }>({
 *   eventTarget: createRedisEventTarget({ publisher, subscriber }),
 * });
 * for await (const done of pubsub.subscribe("job.done")) console.log(done.id, done.payload.ok);
 * ```
 */
export function createRedisEventTarget<TEvent extends TypedEvent = AnyEnvelopeEvent>(
  options: CreateRedisEventTargetOptions,
): RedisEventTarget<TEvent> {
  return new RedisTarget(options) as unknown as RedisEventTarget<TEvent>;
}
