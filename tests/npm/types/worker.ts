// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// The worker target's types against Node's own ports (nodenext, no DOM) and
// the DOM's (bundler): a worker_threads MessagePort, parentPort, the global
// MessageChannel and BroadcastChannel fit `createWorkerEventTarget`, and typed
// listeners narrow `detail`.

import { MessageChannel as NodeMessageChannel, parentPort } from "node:worker_threads";
import { createEnvelopeEvent, type EnvelopeEvents } from "@alkdev/pubsub/envelope";
import {
  createWorkerEventTarget,
  type WorkerEventTarget,
} from "@alkdev/pubsub/event-target-worker";

type Jobs = EnvelopeEvents<{ "job.run": { n: number }; "job.done": { n: number } }>;

const { port1 } = new NodeMessageChannel();
const target: WorkerEventTarget<Jobs> = createWorkerEventTarget<Jobs>(port1, {
  maxMessageBytes: 1024,
});
target.addEventListener("job.done:*", (event) => {
  const n: number = event.detail.payload.n;
  console.log(n, event.source.state);
});
target.addEventListener("close", (event) => console.log(event.detail.code, event.detail.wasClean));
target.addEventListener("error", (event) => console.log(event.detail.reason));
target.dispatchEvent(createEnvelopeEvent("job.run", "1", { n: 1 }));
// @ts-expect-error: the payload of job.run is { n: number }
target.dispatchEvent(createEnvelopeEvent("job.run", "1", { n: "one" }));
// @ts-expect-error: not a topic, wildcard or lifecycle name
target.addEventListener("job.typo", () => {});
target.close(4000, "done");

if (parentPort) createWorkerEventTarget(parentPort).close();
createWorkerEventTarget(new MessageChannel().port2).close();
createWorkerEventTarget(new BroadcastChannel("jobs")).close();
