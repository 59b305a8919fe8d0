// Copyright 2026 the @alkdev/pubsub authors. MIT license.
// This module is browser compatible.

/**
 * Pub/sub event targets on the web-standard `EventTarget`: a hub and its
 * spokes exchange JSON envelopes `{ type, id, payload }`, and a listener
 * subscribes to the topic `type:id`, `type:*` or `*`.
 *
 * @example In process
 * ```ts
 * import { createEnvelopeEvent, createInProcessEventTarget } from "@alkdev/pubsub";
 * import { equal } from "node:assert/strict";
 *
 * const target = createInProcessEventTarget();
 * let got = 0;
 * target.addEventListener("job.done:*", (event) => (got = event.detail.payload as number));
 * target.dispatchEvent(createEnvelopeEvent("job.done", "7", 42));
 * equal(got, 42);
 * ```
 *
 * @module
 */

export * from "./envelope.ts";
export * from "./client.ts";
export * from "./server.ts";
export * from "./in_process.ts";
export * from "./pubsub.ts";
export * from "./worker.ts";
export * from "./iroh_spoke.ts";
export * from "./iroh_hub.ts";
export * from "./redis.ts";
