// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// The peer that the worker suites run in a worker, from the installed npm
// package: in a Node `worker_threads` Worker it serves the MessagePort given in
// `workerData.port`; in a web Worker (Bun) it serves `self`. It answers
// `job.run` with `job.done` (n * 2) through createPubSub, runs `do.*` commands
// (see _worker_contract.mjs), and, below the library, answers the raw text
// "status" with what its target heard, even after that target closed.

import { workerData } from "node:worker_threads";
import { createEnvelopeEvent } from "@alkdev/pubsub/envelope";
import { createPubSub } from "@alkdev/pubsub/pubsub";
import { createWorkerEventTarget } from "@alkdev/pubsub/event-target-worker";

const port = workerData?.port ?? globalThis;
const target = createWorkerEventTarget(port, { maxMessageBytes: 4096 });

const heard = [];
const errors = [];
const closes = [];
target.addEventListener("*", ({ detail }) => heard.push(`${detail.type}:${detail.id}`));
target.addEventListener("error", ({ detail }) => errors.push(detail));
target.addEventListener("close", ({ detail }) => closes.push(detail));
const order = [];
for (const name of ["order:1", "order:*", "*"]) {
  target.addEventListener(name, ({ detail }) => {
    if (detail.type === "order") order.push(name);
  });
}

const jobs = createPubSub({ eventTarget: target });
(async () => {
  for await (const run of jobs.subscribe("job.run")) {
    jobs.publish("job.done", run.id, { n: run.payload.n * 2 });
  }
})();

const commands = {
  publish: ({ type, id, payload }) => target.dispatchEvent(createEnvelopeEvent(type, id, payload)),
  // A long text comes trimmed, with how many spaces to pad it back to: the command must fit the limit.
  raw: ({ value, pad }) => port.postMessage(pad ? value + " ".repeat(pad) : value),
  report: () => ({ heard, errors, closes, order }),
  close: () => target.close(),
};
for (const [name, run] of Object.entries(commands)) {
  target.addEventListener(`do.${name}:*`, ({ detail }) => {
    const result = run(detail.payload) ?? null;
    if (name !== "close") {
      target.dispatchEvent(createEnvelopeEvent(`did.${name}`, detail.id, result));
    }
  });
}

port.addEventListener("message", ({ data }) => {
  if (data === "status") {
    port.postMessage(
      JSON.stringify({ type: "status", id: "1", payload: { heard, errors, closes } }),
    );
  }
});

target.dispatchEvent(createEnvelopeEvent("ready", "1", null));
