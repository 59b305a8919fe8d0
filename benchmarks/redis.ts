// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// `deno run -A benchmarks/redis.ts [--quick]`: what scaling out through Redis
// costs, in the same run, on a redis-server of its own (or REDIS_URL):
//
// - fan-out: envelopes per second from one publisher to 20 WebSocket spokes,
//   on one hub with no Redis (the hub's dispatchEvent) against two hubs of 10
//   spokes each joined through Redis (the publisher's Redis target, each hub's
//   Redis target fanning out to its spokes), with ioredis and with node-redis;
// - request and reply: the round trip of a spoke's request answered by its hub
//   directly, against the same request going through Redis to a worker's
//   Redis target and the reply back through Redis to the hub and that spoke.
//
// Hubs, spokes and worker share this process (redis-server has its own), so
// the numbers compare paths, not machines. Prints Markdown on stdout,
// progress on stderr; --quick takes about 10 seconds.

import { createEnvelopeEvent } from "../envelope.ts";
import { type ConnectionEventTarget, createWebSocketClientEventTarget } from "../client.ts";
import { createRedisEventTarget, type RedisEventTarget } from "../redis.ts";
import { createWebSocketServerEventTarget, type WebSocketServerEventTarget } from "../server.ts";
import { type ClientKind, connectPair, freePort, spawnRedis } from "../tests/_redis.ts";

const quick = Deno.args.includes("--quick");
const ROUNDS = quick ? 1 : 3;
const ENVELOPES = quick ? 4_000 : 30_000;
const REQUESTS = quick ? 300 : 2_000;
const SPOKES = 20;
const PAYLOAD = { text: "x".repeat(48), n: 0 }; // envelopes of about 100 bytes
const WAIT_MS = 60_000;

const log = (text: string) => console.error(text);

/** Waits until `condition()` holds, or throws after WAIT_MS. */
async function until(condition: () => boolean, what: string | (() => string)): Promise<void> {
  const end = Date.now() + WAIT_MS;
  while (!condition()) {
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${typeof what === "string" ? what : what()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

// --- Redis -------------------------------------------------------------------

let redisPort: number;
let redisServer: Deno.ChildProcess | undefined;
const fromEnv = Deno.env.get("REDIS_URL");
if (fromEnv) {
  const url = new URL(fromEnv);
  if (url.hostname !== "127.0.0.1" && url.hostname !== "localhost") {
    throw new Error("REDIS_URL must be a local Redis: the benchmark connects to 127.0.0.1");
  }
  redisPort = Number(url.port || 6379);
} else {
  redisPort = freePort();
  redisServer = await spawnRedis(redisPort);
}
const closers: (() => Promise<void> | void)[] = [];

/**
 * A Redis target on a new client pair of `kind`, closed at the end of the run.
 * Each setup has a prefix of its own: another's traffic must not reach its hubs.
 */
async function redisTarget(kind: ClientKind, prefix: string): Promise<RedisEventTarget> {
  const pair = await connectPair(kind, redisPort);
  const target = createRedisEventTarget({ ...pair, prefix });
  closers.push(async () => {
    await target.close();
    await pair.close();
  });
  return target;
}

/** Resolves once every subscription `target` asked for is live: it hears its own ping. */
async function live(target: RedisEventTarget): Promise<void> {
  const id = crypto.randomUUID();
  const heard = new Promise((resolve) => target.addEventListener(`live:${id}`, resolve));
  target.dispatchEvent(createEnvelopeEvent("live", id, null));
  await heard;
}

// --- Hubs and spokes -----------------------------------------------------------

interface Hub {
  hub: WebSocketServerEventTarget;
  spokes: ConnectionEventTarget[];
}

// A burst is published faster than spokes in this process read it: room for all of it, so that
// no spoke is cut off for backpressure (this measures throughput, not the limit).
const ROOM = { maxBufferedAmount: 64 * 1024 * 1024 };

/** A hub on Deno.serve with `count` spokes connected to it from this process. */
async function startHub(count: number): Promise<Hub> {
  const hub = createWebSocketServerEventTarget(ROOM);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    hub.addConnection(socket);
    return response;
  });
  const url = `ws://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
  const spokes: ConnectionEventTarget[] = [];
  for (let i = 0; i < count; i++) {
    const spoke = createWebSocketClientEventTarget(new WebSocket(url), ROOM);
    await new Promise((resolve) => spoke.addEventListener("open", resolve, { once: true }));
    spokes.push(spoke);
  }
  await until(() => hub.connections.size === count, "the spokes");
  closers.push(async () => {
    for (const spoke of spokes) spoke.close();
    hub.close();
    await server.shutdown();
  });
  return { hub, spokes };
}

/** Relays what comes from Redis on `type:*` to the hub's spokes: the scale-out recipe. */
function relay(from: RedisEventTarget, to: Hub, type: string): void {
  from.addEventListener(`${type}:*`, ({ detail }) => {
    to.hub.dispatchEvent(createEnvelopeEvent(detail.type, detail.id, detail.payload));
  });
}

// --- Fan-out -------------------------------------------------------------------

/** A setup to publish through, and the spokes that must all hear each envelope. */
interface FanOut {
  name: string;
  publish(n: number): void;
  spokes: ConnectionEventTarget[];
}

async function oneHub(): Promise<FanOut> {
  const one = await startHub(SPOKES);
  return {
    name: `one hub, ${SPOKES} spokes, no Redis`,
    publish: (n) => one.hub.dispatchEvent(createEnvelopeEvent("bench", String(n), PAYLOAD)),
    spokes: one.spokes,
  };
}

async function twoHubsOverRedis(kind: ClientKind): Promise<FanOut> {
  const prefix = `fan-out:${kind}:`;
  const publisher = await redisTarget(kind, prefix);
  const hubs = [await startHub(SPOKES / 2), await startHub(SPOKES / 2)];
  for (const hub of hubs) {
    const target = await redisTarget(kind, prefix);
    relay(target, hub, "bench");
    await live(target);
  }
  return {
    name: `two hubs of ${SPOKES / 2} spokes over Redis, ${kind}`,
    publish: (n) => publisher.dispatchEvent(createEnvelopeEvent("bench", String(n), PAYLOAD)),
    spokes: hubs.flatMap((hub) => hub.spokes),
  };
}

/** Envelopes per second from the first publish until every spoke has heard all `n`. */
async function fanOut(setup: FanOut, n: number): Promise<number> {
  const counts = setup.spokes.map(() => 0);
  const listeners = setup.spokes.map((spoke, i) => {
    const listener = () => counts[i]++;
    spoke.addEventListener("bench:*", listener);
    return listener;
  });
  const started = performance.now();
  for (let i = 0; i < n; i++) setup.publish(i);
  await until(
    () => counts.every((count) => count === n),
    () =>
      `${setup.name}: every spoke to hear ${n} (they heard ${counts.join(", ")}; ` +
      `${setup.spokes.filter((spoke) => spoke.state !== "open").length} closed)`,
  );
  const seconds = (performance.now() - started) / 1000;
  setup.spokes.forEach((spoke, i) => spoke.removeEventListener("bench:*", listeners[i]));
  return n / seconds;
}

// --- Request and reply -----------------------------------------------------------

/** A spoke that asks, and how its request is answered. */
interface RoundTrip {
  name: string;
  spoke: ConnectionEventTarget;
}

async function answeredByHub(): Promise<RoundTrip> {
  const { hub, spokes } = await startHub(1);
  hub.addEventListener("job.run:*", ({ detail, source }) => {
    source.dispatchEvent(createEnvelopeEvent("job.done", detail.id, detail.payload));
  });
  return { name: "the hub answers", spoke: spokes[0] };
}

async function answeredThroughRedis(kind: ClientKind): Promise<RoundTrip> {
  const { hub, spokes } = await startHub(1);
  const hubBus = await redisTarget(kind, `round-trip:${kind}:`);
  const worker = await redisTarget(kind, `round-trip:${kind}:`);
  const asked = new Map<string, ConnectionEventTarget>();
  hub.addEventListener("job.run:*", ({ detail, source }) => {
    asked.set(detail.id, source);
    hubBus.dispatchEvent(createEnvelopeEvent("job.run", detail.id, detail.payload));
  });
  hubBus.addEventListener("job.done:*", ({ detail }) => {
    const spoke = asked.get(detail.id);
    asked.delete(detail.id);
    spoke?.dispatchEvent(createEnvelopeEvent("job.done", detail.id, detail.payload));
  });
  worker.addEventListener("job.run:*", ({ detail }) => {
    worker.dispatchEvent(createEnvelopeEvent("job.done", detail.id, detail.payload));
  });
  await live(hubBus);
  await live(worker);
  return { name: `through Redis to a worker and back, ${kind}`, spoke: spokes[0] };
}

/** Milliseconds of each of `n` requests made one after another. */
async function roundTrips(setup: RoundTrip, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const id = String(i);
    const done = new Promise((resolve) => {
      setup.spoke.addEventListener(`job.done:${id}`, resolve, { once: true });
    });
    const started = performance.now();
    setup.spoke.dispatchEvent(createEnvelopeEvent("job.run", id, PAYLOAD));
    await done;
    times.push(performance.now() - started);
  }
  return times;
}

// --- Run ---------------------------------------------------------------------------

function median(list: number[]): number {
  const sorted = [...list].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function percentile(list: number[], p: number): number {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const rate = (value: number) => Math.round(value).toLocaleString("en-US");
const ms = (value: number) => value.toFixed(2);

try {
  const kinds: ClientKind[] = ["ioredis", "node-redis"];
  const fanOuts = [await oneHub(), ...await Promise.all(kinds.map(twoHubsOverRedis))];
  const rates = new Map<FanOut, number[]>(fanOuts.map((setup) => [setup, []]));
  for (const setup of fanOuts) await fanOut(setup, 500); // warm-up
  for (let round = 1; round <= ROUNDS; round++) {
    for (const setup of fanOuts) {
      const value = await fanOut(setup, ENVELOPES);
      rates.get(setup)!.push(value);
      log(`fan-out round ${round}/${ROUNDS}: ${setup.name}: ${rate(value)} envelopes/s`);
    }
  }

  const trips = [await answeredByHub(), ...await Promise.all(kinds.map(answeredThroughRedis))];
  const times = new Map<RoundTrip, number[]>(trips.map((setup) => [setup, []]));
  for (const setup of trips) await roundTrips(setup, 50); // warm-up
  for (let round = 1; round <= ROUNDS; round++) {
    for (const setup of trips) {
      const list = await roundTrips(setup, REQUESTS);
      times.get(setup)!.push(...list);
      log(`request/reply round ${round}/${ROUNDS}: ${setup.name}: p50 ${ms(median(list))} ms`);
    }
  }

  const baseline = median(rates.get(fanOuts[0])!);
  console.log("### Scaling out through Redis\n");
  console.log(
    `Fan-out: ${ENVELOPES.toLocaleString("en-US")} envelopes of about 100 bytes from one ` +
      `publisher to ${SPOKES} WebSocket spokes (median of ${ROUNDS} round${
        ROUNDS > 1 ? "s" : ""
      }).\n`,
  );
  console.log("| path | envelopes/s | deliveries/s | vs one hub |");
  console.log("|---|---:|---:|---:|");
  for (const setup of fanOuts) {
    const value = median(rates.get(setup)!);
    console.log(
      `| ${setup.name} | ${rate(value)} | ${rate(value * SPOKES)} | ${
        (value / baseline).toFixed(2)
      }× |`,
    );
  }
  const direct = times.get(trips[0])!;
  console.log(
    `\nRequest and reply: ${REQUESTS.toLocaleString("en-US")} requests one after another ` +
      `per round, from a spoke to its hub and back.\n`,
  );
  console.log("| path | p50 ms | p99 ms | p50 added by Redis |");
  console.log("|---|---:|---:|---:|");
  for (const setup of trips) {
    const list = times.get(setup)!;
    const added = setup === trips[0] ? "—" : `${ms(median(list) - median(direct))} ms`;
    console.log(
      `| ${setup.name} | ${ms(median(list))} | ${ms(percentile(list, 99))} | ${added} |`,
    );
  }
  console.log(
    "\nHubs, spokes, publisher and worker run in this one process and redis-server in its own, " +
      "so Redis's cost shows against the same work without it. Through Redis a request " +
      "crosses Redis twice (to the worker and back), each time as a PUBLISH on one " +
      "connection and a message on another.",
  );
} finally {
  for (const close of closers.reverse()) await close();
  if (redisServer) {
    redisServer.kill("SIGKILL");
    await redisServer.status;
  }
}
