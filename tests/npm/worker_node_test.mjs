// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// The worker target from the installed npm package on Node: the global
// MessageChannel and BroadcastChannel, and a worker_threads Worker reached
// through a MessagePort transferred to it (a worker_threads Worker is an
// EventEmitter, not an EventTarget). Run by `deno task test node` on Node 20 and 24.

import { deepEqual, equal, match, throws } from "node:assert/strict";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import { createEnvelopeEvent } from "@alkdev/pubsub/envelope";
import { createWorkerEventTarget } from "@alkdev/pubsub/event-target-worker";
import { collect, nextEvent, settle, until } from "./_helpers.mjs";
import { LIMIT, workerContract } from "./_worker_contract.mjs";

const major = Number(process.versions.node.split(".")[0]);

workerContract({
  test,
  name: `Node ${major}`,
  worker: "a worker_threads Worker through a MessagePort",
  ownPort: true,
  async startPeer() {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(new URL("./_worker_peer.mjs", import.meta.url), {
      workerData: { port: port2 },
      transferList: [port2],
    });
    const target = createWorkerEventTarget(port1, { maxMessageBytes: LIMIT });
    await nextEvent(target, "ready:1");
    return {
      target,
      raw: (value) => port1.postMessage(value),
      rawPort: port1,
      terminate: () => worker.terminate(),
    };
  },
});

test(`Node ${major}: two BroadcastChannels of one name carry envelopes both ways with no echo, and a posted object fires error`, async () => {
  const name = `test-${crypto.randomUUID()}`;
  const [a, b] = [new BroadcastChannel(name), new BroadcastChannel(name)];
  const left = createWorkerEventTarget(a);
  const right = createWorkerEventTarget(b);
  const heardLeft = collect(left, "*");
  const heardRight = collect(right, "*");
  const errors = collect(right, "error");
  left.dispatchEvent(createEnvelopeEvent("a", "1", null));
  a.postMessage({ type: "a", id: "2" });
  right.dispatchEvent(createEnvelopeEvent("b", "1", null));
  await until(() => heardLeft.length === 1 && heardRight.length === 1, "one envelope each way");
  await settle(50);
  deepEqual(heardRight.map(({ type, id }) => `${type}:${id}`), ["a:1"]);
  deepEqual(heardLeft.map(({ type, id }) => `${type}:${id}`), ["b:1"]);
  equal(errors.length, 1);
  match(errors[0].reason, /message is not a string \(got Object\)/);
  left.close();
  right.close();
  throws(() => a.postMessage("x"), /closed/i);
  throws(() => right.dispatchEvent(createEnvelopeEvent("a", "1", null)), /connection is closed/);
});
