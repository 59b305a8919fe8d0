// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// What the processes of the cluster example share: the envelopes, and how a
// process joins the Redis bus.

import { Redis } from "ioredis";
import type { EnvelopeEvents } from "@alkdev/pubsub/envelope";
import { createRedisEventTarget, type RedisEventTarget } from "@alkdev/pubsub/event-target-redis";

/** Chat goes to every spoke on every hub; a job goes to the worker and its answer to one spoke. */
export type Jobs = {
  chat: { from: string; text: string };
  "job.run": { n: number };
  "job.done": { n: number; squared: number; worker: number };
  /** A process hears its own `up` once its subscriptions are live. */
  up: null;
};
export type Events = EnvelopeEvents<Jobs>;

/**
 * Joins the bus: a Redis target on two new connections to `url` (a
 * subscribed connection cannot publish). `leave()` closes the target, then
 * the connections, which are this process's own.
 */
export function joinBus(url: string, who: string): {
  bus: RedisEventTarget<Events>;
  leave(): Promise<void>;
} {
  const publisher = new Redis(url);
  const subscriber = publisher.duplicate();
  const bus = createRedisEventTarget<Events>({ publisher, subscriber });
  // Connection drops and refused messages arrive here; the clients reconnect by themselves.
  bus.addEventListener("error", ({ detail }) => console.log(`${who}: redis: ${detail.reason}`));
  return {
    bus,
    async leave() {
      await bus.close();
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}

/** `{"n":6}` as `{n:6}`, for a log that reads easily. */
export function show(payload: unknown): string {
  return JSON.stringify(payload).replace(/"(\w+)":/g, "$1:");
}
