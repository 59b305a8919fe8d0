// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// The worker of the cluster example: a process with no spokes that answers
// every `job.run` on Redis with a `job.done` of the same id. It does not know
// which hub or spoke asked; the hub holding that spoke passes the answer on.
//
//   deno run -A examples/cluster/worker.ts <redis url>

import { createPubSub } from "@alkdev/pubsub/pubsub";
import { createEnvelopeEvent } from "@alkdev/pubsub/envelope";
import { type Jobs, joinBus, show } from "./events.ts";

const [redisUrl] = Deno.args;
const { bus, leave } = joinBus(redisUrl, "worker");
const pubsub = createPubSub<Jobs>({ eventTarget: bus });
const jobs = pubsub.subscribe("job.run");
Deno.addSignalListener("SIGTERM", async () => {
  await leave(); // closing the bus ends the subscription below
  Deno.exit(0);
});

bus.addEventListener("up:worker", () => console.log("worker: answering job.run"), { once: true });
bus.dispatchEvent(createEnvelopeEvent("up", "worker", null));

for await (const { id, payload: { n } } of jobs) {
  const answer = { n, squared: n * n, worker: Deno.pid };
  console.log(`worker: job.run ${id} ${show({ n })} -> job.done ${show(answer)}`);
  pubsub.publish("job.done", id, answer);
}
