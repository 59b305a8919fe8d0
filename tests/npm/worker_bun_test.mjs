// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// The worker target from the installed npm package on Bun: MessageChannel,
// and a web Worker whose script wraps its own `self`. Run by `deno task test bun`.

import { test } from "bun:test";
import { createWorkerEventTarget } from "@alkdev/pubsub/event-target-worker";
import { nextEvent } from "./_helpers.mjs";
import { LIMIT, workerContract } from "./_worker_contract.mjs";

workerContract({
  test,
  name: "Bun",
  worker: "a Worker whose script wraps self",
  ownPort: false,
  async startPeer() {
    const worker = new Worker(new URL("./_worker_peer.mjs", import.meta.url).href);
    const target = createWorkerEventTarget(worker, { maxMessageBytes: LIMIT });
    await nextEvent(target, "ready:1");
    return {
      target,
      raw: (value) => worker.postMessage(value),
      rawPort: worker,
      terminate: () => worker.terminate(),
    };
  },
});
