// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// The main thread publishes jobs to a Worker with createPubSub over a worker
// target; the worker (examples/worker/worker.ts) answers each one. Both sides
// use the same pub/sub code they would use over a WebSocket.
//
//   deno run --allow-read examples/worker/main.ts

import type { EnvelopeEvents } from "@alkdev/pubsub/envelope";
import { createPubSub } from "@alkdev/pubsub/pubsub";
import { createWorkerEventTarget } from "@alkdev/pubsub/event-target-worker";
import type { Jobs } from "./jobs.ts";

// The example ends by itself in well under a second; if it hangs, fail instead.
const deadline = setTimeout(() => {
  console.error("worker example: timed out");
  Deno.exit(1);
}, 5_000);

const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
const target = createWorkerEventTarget<EnvelopeEvents<Jobs>>(worker);
target.addEventListener("close", ({ detail }) => console.log(`main: closed (${detail.code})`));
const pubsub = createPubSub<Jobs>({ eventTarget: target });

// Subscribe before publishing, so no answer can be missed.
const done = pubsub.subscribe("job.done");
const jobs: [string, number][] = [["a", 3], ["b", 12], ["c", 99]];
for (const [id, n] of jobs) {
  console.log(`main: job.run ${id} n=${n}`);
  pubsub.publish("job.run", id, { n });
}
let left = jobs.length;
for await (const { id, payload } of done) {
  console.log(
    `main: job.done ${id} ${payload.n}² = ${payload.squared} (from the ${payload.thread})`,
  );
  if (--left === 0) break;
}

// close() stops the target; ending the worker is the caller's.
target.close();
worker.terminate();
clearTimeout(deadline);
