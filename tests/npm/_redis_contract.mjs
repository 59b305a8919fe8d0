// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// The Redis target from the installed npm package on a real redis-server,
// with ioredis and node-redis clients from .tools/node_modules: every case
// runs once per client library. redis_node_test.mjs runs it on Node 20 and
// 24, redis_bun_test.mjs on Bun. Each case starts its own redis-server on
// 127.0.0.1 and a free port, without persistence, and stops it at the end.

import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { connect, createServer } from "node:net";
import * as ioredis from "ioredis";
import { createClient } from "redis";
import { createEnvelopeEvent } from "@alkdev/pubsub/envelope";
import { createRedisEventTarget } from "@alkdev/pubsub/event-target-redis";
import { createPubSub } from "@alkdev/pubsub/pubsub";
import { collect, nextEvent, settle, until, WAIT_MS, within } from "./_helpers.mjs";

const Redis = ioredis.Redis ?? ioredis.default;
const P = "alkdev:pubsub:";

/** A port nobody listens on right now. */
async function freePort() {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Whether something accepts connections on 127.0.0.1:`port`. */
function accepts(port) {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

/** Starts redis-server on `port` and waits until it accepts connections. */
async function spawnRedis(port) {
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: "ignore" },
  );
  const exited = once(child, "exit");
  const deadline = Date.now() + WAIT_MS;
  while (!await accepts(port)) {
    if (Date.now() > deadline) throw new Error(`redis-server did not start on ${port}`);
    await settle(20);
  }
  return { kill: async () => (child.kill("SIGKILL"), await exited) };
}

/** Two connected clients of `kind`, and how to close them. */
async function connectPair(kind, port, options = {}) {
  if (kind === "ioredis") {
    const clients = [0, 1].map(() => new Redis({ host: "127.0.0.1", port, ...options }));
    for (const client of clients) client.on("error", () => {});
    await within(Promise.all(clients.map((client) => client.ping())), "ioredis to connect");
    return {
      publisher: clients[0],
      subscriber: clients[1],
      close: () => clients.forEach((client) => client.disconnect()),
    };
  }
  const clients = [0, 1].map(() => createClient({ socket: { host: "127.0.0.1", port } }));
  // node-redis stops reconnecting (and crashes Node) without an 'error' listener.
  for (const client of clients) client.on("error", () => {});
  await within(Promise.all(clients.map((client) => client.connect())), "node-redis to connect");
  return {
    publisher: clients[0],
    subscriber: clients[1],
    close: () => clients.forEach((client) => client.isOpen && client.destroy()),
  };
}

/** Runs `body` with a redis-server of its own; then closes every client and stops it. */
async function withRedis(body) {
  const port = await freePort();
  let server = await spawnRedis(port);
  const probe = new Redis({ host: "127.0.0.1", port });
  probe.on("error", () => {});
  const pairs = [];
  const redis = {
    port,
    async pair(kind, options) {
      const pair = await connectPair(kind, port, options);
      pairs.push(pair);
      return pair;
    },
    publish: (channel, message) => probe.publish(channel, message),
    async counts(channel) {
      const [, subscribers] = await probe.call("PUBSUB", "NUMSUB", channel);
      return [Number(subscribers), Number(await probe.call("PUBSUB", "NUMPAT"))];
    },
    kill: () => server.kill(),
    restart: async () => (server = await spawnRedis(port)),
  };
  try {
    await body(redis);
  } finally {
    for (const pair of pairs) pair.close();
    probe.disconnect();
    await server.kill();
  }
}

/** Resolves once every subscription `target` asked for is live: it hears its own ping. */
async function live(target) {
  const id = String(Math.random());
  const heard = nextEvent(target, `live:${id}`);
  target.dispatchEvent(createEnvelopeEvent("live", id, null));
  await heard;
}

/** The envelopes `target` hears on `name`, without the pings of `live`. */
function heardOn(target, name) {
  const seen = [];
  target.addEventListener(name, ({ detail }) => detail.type !== "live" && seen.push(detail));
  return seen;
}

/** Waits until Redis counts [NUMSUB channel, NUMPAT] = `expected`. */
async function subscriptions(redis, channel, expected) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const counts = await redis.counts(channel);
    if (JSON.stringify(counts) === JSON.stringify(expected)) return;
    if (Date.now() > deadline) deepEqual(counts, expected, `Redis's counts for ${channel}`);
    await settle(10);
  }
}

/**
 * Defines the cases with the runtime's test function.
 *
 * @param {object} runtime
 * @param {(name: string, fn: () => Promise<void>) => void} runtime.test `node:test`'s or `bun:test`'s.
 * @param {string} runtime.name The runtime, for the test names.
 */
export function redisContract({ test, name: runtime }) {
  for (const kind of ["ioredis", "node-redis"]) {
    const name = (what) => `${runtime}, Redis target with ${kind}: ${what}`;

    test(
      name("every target hears each envelope once on type:id, type:*, then *, in order"),
      () =>
        withRedis(async (redis) => {
          const publisher = createRedisEventTarget(await redis.pair(kind));
          const other = createRedisEventTarget(await redis.pair(kind));
          const logs = [publisher, other].map((target) => {
            const log = [];
            for (const topic of ["job:7", "job:*", "*"]) {
              target.addEventListener(topic, ({ detail }) => {
                if (detail.type !== "live") log.push(`${topic} ${detail.type}:${detail.id}`);
              });
            }
            return log;
          });
          await live(other);
          const sent = [["job", "7"], ["job", "8"], ["other", "7"], ["job", "7"]];
          for (const [type, id] of sent) publisher.dispatchEvent(createEnvelopeEvent(type, id, 0));
          const expected = sent.flatMap(([type, id]) =>
            (type === "job" ? (id === "7" ? ["job:7", "job:*", "*"] : ["job:*", "*"]) : ["*"])
              .map((topic) => `${topic} ${type}:${id}`)
          );
          await until(() => logs.every((log) => log.length >= expected.length), "both hear all");
          await settle();
          deepEqual(logs, [expected, expected]);
        }),
    );

    test(
      name("subscribes on a name's first listener and unsubscribes after its last"),
      () =>
        withRedis(async (redis) => {
          const target = createRedisEventTarget(await redis.pair(kind));
          const channel = `${P}job:7`;
          const f = () => {};
          target.addEventListener("job:7", f);
          target.addEventListener("job:7", f);
          target.addEventListener("job:7", { handleEvent() {} }, { once: true });
          await subscriptions(redis, channel, [1, 0]);
          target.removeEventListener("job:7", f);
          target.dispatchEvent(createEnvelopeEvent("job", "7", null)); // ends the `once` listener
          await subscriptions(redis, channel, [0, 0]);
          const controller = new AbortController();
          target.addEventListener("*", f, { signal: controller.signal });
          target.addEventListener("job:*", f, { signal: AbortSignal.abort() });
          await subscriptions(redis, channel, [0, 1]);
          controller.abort();
          await subscriptions(redis, channel, [0, 0]);
        }),
    );

    test(
      name("a prefix keeps applications apart, and glob characters in a type match only it"),
      () =>
        withRedis(async (redis) => {
          const app1 = createRedisEventTarget({ ...await redis.pair(kind), prefix: "app[1]:" });
          const app2 = createRedisEventTarget({ ...await redis.pair(kind), prefix: "app1:" });
          const all = [heardOn(app1, "*"), heardOn(app2, "*")];
          const globbed = heardOn(app1, "a*b:*");
          await live(app1);
          await live(app2);
          for (const type of ["a*b", "axb", "ab"]) {
            app1.dispatchEvent(createEnvelopeEvent(type, "1", type));
          }
          app2.dispatchEvent(createEnvelopeEvent("a*b", "1", "app2"));
          await until(() => all[0].length === 3 && all[1].length === 1, "the envelopes");
          await settle();
          deepEqual(all.map((seen) => seen.map(({ payload }) => payload)), [
            ["a*b", "axb", "ab"],
            ["app2"],
          ]);
          deepEqual(globbed.map(({ payload }) => payload), ["a*b"]);
        }),
    );

    test(
      name("junk and oversize messages fire error once each; the next envelope arrives"),
      () =>
        withRedis(async (redis) => {
          const target = createRedisEventTarget({ ...await redis.pair(kind), maxMessageBytes: 80 });
          const errors = collect(target, "error");
          const heard = ["job:1", "job:*", "*"].map((topic) => heardOn(target, topic));
          await live(target);
          await redis.publish(`${P}job:1`, "not json");
          await redis.publish(`${P}job:1`, JSON.stringify({ type: "job", id: "2" }));
          await redis.publish(
            `${P}job:1`,
            JSON.stringify({ type: "job", id: "1", p: "x".repeat(80) }),
          );
          target.dispatchEvent(createEnvelopeEvent("job", "1", "after"));
          await until(() => heard.every((seen) => seen.length === 1), "the envelope after");
          await settle();
          deepEqual(errors.map(({ reason }) => reason.replace(/ \(channel .*\)$/, "")), [
            "frame is not JSON",
            `envelope "job:2" arrived on channel "${P}job:1", not its own`,
            "frame is larger than maxMessageBytes (80 bytes)",
          ]);
        }),
    );

    test(
      name("close() unsubscribes everything, fires close once, leaves the clients open"),
      () =>
        withRedis(async (redis) => {
          const pair = await redis.pair(kind);
          const target = createRedisEventTarget(pair);
          for (const topic of ["job:1", "job:*", "*"]) target.addEventListener(topic, () => {});
          await live(target);
          await subscriptions(redis, `${P}job:1`, [1, 2]);
          const closes = collect(target, "close");
          await within(target.close(), "close()");
          await target.close();
          deepEqual(closes, [{ code: 1000, reason: "", wasClean: true, unsent: 0 }]);
          deepEqual(await redis.counts(`${P}job:1`), [0, 0]);
          throws(
            () => target.dispatchEvent(createEnvelopeEvent("job", "1", null)),
            /Cannot dispatch "job:1": the connection is closed/,
          );
          const again = createRedisEventTarget(pair);
          const heard = heardOn(again, "job:*");
          await live(again);
          again.dispatchEvent(createEnvelopeEvent("job", "1", "again"));
          await until(() => heard.length === 1, "a new target on the same clients hears");
          await again.close();
        }),
    );

    test(
      name("createPubSub() over Redis targets: a request and its reply"),
      () =>
        withRedis(async (redis) => {
          const client = createPubSub({
            eventTarget: createRedisEventTarget(await redis.pair(kind)),
          });
          const workerTarget = createRedisEventTarget(await redis.pair(kind));
          const worker = createPubSub({ eventTarget: workerTarget });
          const runs = worker.subscribe("job.run");
          const working = (async () => {
            for await (const run of runs) worker.publish("job.done", run.id, run.payload * 2);
          })();
          await live(workerTarget);
          const done = client.subscribe("job.done", "42");
          client.publish("job.run", "42", 21);
          deepEqual((await within(done.next(), "the reply")).value, {
            type: "job.done",
            id: "42",
            payload: 42,
          });
          await done.return();
          await runs.return();
          await working;
        }),
    );

    test(
      name("redis-server killed and restarted: the target recovers, listeners hear again"),
      () =>
        withRedis(async (redis) => {
          const publisher = createRedisEventTarget(await redis.pair(kind));
          const target = createRedisEventTarget(
            await redis.pair(kind, { maxRetriesPerRequest: 1 }),
          );
          const heard = heardOn(target, "tick:*");
          const errors = collect(target, "error");
          await live(target);
          publisher.dispatchEvent(createEnvelopeEvent("tick", "before", null));
          await until(() => heard.length === 1, "the tick before");
          await redis.kill();
          await settle(300);
          const late = heardOn(target, "late:1"); // subscribed while Redis is down
          await settle(500);
          await redis.restart();
          await subscriptions(redis, `${P}late:1`, [1, 1]);
          publisher.dispatchEvent(createEnvelopeEvent("tick", "after", null));
          publisher.dispatchEvent(createEnvelopeEvent("late", "1", null));
          await until(() => heard.length === 2 && late.length === 1, "ticks after the restart");
          deepEqual(heard.map(({ id }) => id), ["before", "after"]);
          ok(
            errors.some(({ reason }) => reason.startsWith("subscriber: ")),
            "the drop is reported",
          );
          if (kind === "ioredis") {
            ok(errors.some(({ reason }) => reason.startsWith(`subscribe to "${P}late:1" failed`)));
          }
        }),
    );

    test(
      name("a publish that fails fires error with the envelope"),
      () =>
        withRedis(async (redis) => {
          const pair = await redis.pair(kind);
          const target = createRedisEventTarget(pair);
          const failed = nextEvent(target, "error");
          if (kind === "ioredis") pair.publisher.disconnect();
          else pair.publisher.destroy();
          equal(target.dispatchEvent(createEnvelopeEvent("job", "1", "lost")), true);
          const { detail } = await failed;
          match(detail.reason, /^publish to "alkdev:pubsub:job:1" failed: /);
          equal(detail.data, '{"type":"job","id":"1","payload":"lost"}');
        }),
    );
  }
}
