// Copyright 2026 the @alkdev/pubsub authors. MIT license.
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />

// The spoke of examples/worker/main.ts, in a Worker: it answers each `job.run`
// with a `job.done`, over a worker target wrapped around its own `self`.

import type { EnvelopeEvents } from "@alkdev/pubsub/envelope";
import { createPubSub } from "@alkdev/pubsub/pubsub";
import { createWorkerEventTarget } from "@alkdev/pubsub/event-target-worker";
import type { Jobs } from "./jobs.ts";

const target = createWorkerEventTarget<EnvelopeEvents<Jobs>>(self);
const pubsub = createPubSub<Jobs>({ eventTarget: target });
console.log("worker: ready for jobs");
for await (const { id, payload: { n } } of pubsub.subscribe("job.run")) {
  pubsub.publish("job.done", id, { n, squared: n * n, thread: "worker" });
}
