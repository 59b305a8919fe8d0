// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// The Redis target's types against the real client libraries from
// .tools/node_modules: ioredis and node-redis clients (and their duplicates)
// fit `createRedisEventTarget`, typed listeners narrow `detail`, and what is no
// Redis client does not compile.

import { Redis } from "ioredis";
import { createClient } from "redis";
import { createEnvelopeEvent, type EnvelopeEvents } from "@alkdev/pubsub/envelope";
import {
  createRedisEventTarget,
  type NodeRedisSubscriber,
  type RedisEventTarget,
} from "@alkdev/pubsub/event-target-redis";
import { createPubSub } from "@alkdev/pubsub/pubsub";

type Map = { "job.run": { n: number }; "job.done": { n: number } };
type Jobs = EnvelopeEvents<Map>;

const io = new Redis("redis://127.0.0.1:6379");
const viaIo: RedisEventTarget<Jobs> = createRedisEventTarget<Jobs>({
  publisher: io,
  subscriber: io.duplicate(),
  prefix: "app:",
  maxMessageBytes: 1024,
});
const node = createClient({ url: "redis://127.0.0.1:6379" });
const viaNode = createRedisEventTarget<Jobs>({ publisher: node, subscriber: node.duplicate() });

viaIo.addEventListener("job.done:*", (event) => {
  const n: number = event.detail.payload.n;
  const source: null = event.source;
  console.log(n, source);
});
viaNode.addEventListener("error", (event) => console.log(event.detail.reason, event.detail.data));
viaNode.addEventListener("close", (event) => console.log(event.detail.code));
viaIo.dispatchEvent(createEnvelopeEvent("job.run", "1", { n: 1 }));
// @ts-expect-error: the payload of job.run is { n: number }
viaIo.dispatchEvent(createEnvelopeEvent("job.run", "1", { n: "one" }));
const closed: Promise<void> = viaNode.close();
console.log(closed, viaIo.state);

createPubSub<Map>({ eventTarget: viaIo }).publish("job.run", "2", { n: 2 });

// @ts-expect-error: no Redis client
createRedisEventTarget({ publisher: {}, subscriber: io });
// @ts-expect-error: an ioredis client is not a node-redis subscriber
const wrong: NodeRedisSubscriber = io;
console.log(wrong);
