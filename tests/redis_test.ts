// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// The Redis target on a real redis-server (tests/_redis.ts starts one per
// test), each case run with ioredis and with node-redis clients, and three
// hub processes joined through Redis (tests/fixtures/redis_hub.ts).

import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import { createWebSocketClientEventTarget } from "../client.ts";
import type { ConnectionEventTarget } from "../client.ts";
import {
  createEnvelopeEvent,
  type EnvelopeEvents,
  type ErrorDetail,
  type EventEnvelope,
} from "../envelope.ts";
import { createPubSub } from "../pubsub.ts";
import { createRedisEventTarget, DEFAULT_REDIS_PREFIX, type RedisEventTarget } from "../redis.ts";
import { collect, nextEvent, settle, until, WAIT_MS, within } from "./_helpers.ts";
import {
  CLIENT_KINDS,
  type ClientKind,
  endClient,
  type RedisServer,
  startRedis,
} from "./_redis.ts";

const P = DEFAULT_REDIS_PREFIX;

/**
 * Resolves once every subscription `target` has asked for is live: the target
 * hears its own ping, which it publishes only after Redis answered them.
 */
async function live(target: RedisEventTarget): Promise<void> {
  const id = crypto.randomUUID();
  const heard = nextEvent(target, `live:${id}`);
  target.dispatchEvent(createEnvelopeEvent("live", id, null));
  await heard;
}

/** The envelopes `target` hears on `name`, without the pings of {@linkcode live}. */
function heardOn(target: EventTarget, name: string): EventEnvelope[] {
  const seen: EventEnvelope[] = [];
  target.addEventListener(name, (event) => {
    const envelope = (event as CustomEvent<EventEnvelope>).detail;
    if (envelope.type !== "live") seen.push(envelope);
  });
  return seen;
}

/** Retries `check` until it passes, failing with its last error after `ms`. */
async function eventually(check: () => Promise<void>, what: string, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${ms} ms waiting until ${what}`, { cause: error });
      }
    }
    await settle(10);
  }
}

/** Redis's own count of subscribers of `channel` and of patterns, once it equals `expected`. */
function subscriptions(redis: RedisServer, channel: string, expected: [number, number]) {
  return eventually(async () => {
    deepEqual([...await redis.numsub(channel), await redis.numpat()], expected);
  }, `Redis has [NUMSUB ${channel}, NUMPAT] = ${JSON.stringify(expected)}`);
}

function test(kind: ClientKind, name: string, fn: () => Promise<void>) {
  Deno.test(`createRedisEventTarget() with ${kind}: ${name}`, fn);
}

for (const kind of CLIENT_KINDS) {
  test(
    kind,
    "every target hears each envelope once on type:id, type:*, then *, in publish order, the publisher's own included",
    async () => {
      await using redis = await startRedis();
      const publisher = createRedisEventTarget(await redis.pair(kind));
      const other = createRedisEventTarget(await redis.pair(kind));
      const logs = [publisher, other].map((target) => {
        const log: string[] = [];
        for (const name of ["job:7", "job:*", "*"] as const) {
          target.addEventListener(name, ({ detail }) => {
            if (detail.type !== "live") {
              log.push(`${name} ${detail.type}:${detail.id}=${detail.payload}`);
            }
          });
        }
        return log;
      });
      await live(other);
      // No wait for the publisher's own listeners: its publishes follow its subscribes.
      const sent = [["job", "7"], ["job", "8"], ["other", "7"], ["job", "7"], ["job", "7"]];
      sent.forEach(([type, id], n) => publisher.dispatchEvent(createEnvelopeEvent(type, id, n)));
      const expected = sent.flatMap(([type, id], n) => {
        const names = type === "job"
          ? (id === "7" ? ["job:7", "job:*", "*"] : ["job:*", "*"])
          : ["*"];
        return names.map((name) => `${name} ${type}:${id}=${n}`);
      });
      await until(
        () => logs.every((log) => log.length >= expected.length),
        "both targets hear all",
      );
      await settle();
      deepEqual(logs, [expected, expected]);
    },
  );

  test(
    kind,
    "a listener added right before dispatchEvent hears it, even while the subscriber connects",
    async () => {
      await using redis = await startRedis();
      const target = createRedisEventTarget(
        await redis.pair(kind, { subscriberConnecting: true }),
      );
      const heard = collect<EventEnvelope>(target, "job:1");
      // The publisher is connected; the publish waits until Redis has answered the subscribe.
      target.dispatchEvent(createEnvelopeEvent("job", "1", "first"));
      await until(() => heard.length === 1, "the listener hears it");
      equal(heard[0].payload, "first");
    },
  );

  test(kind, "publishes each envelope on <prefix><type>:<id> as its JSON text", async () => {
    await using redis = await startRedis();
    const target = createRedisEventTarget(await redis.pair(kind));
    const raw = await redis.listen(`${P}job.done:7`);
    const event = createEnvelopeEvent("job.done", "7", { at: new Date(0), nan: NaN });
    (event.detail as unknown as Record<string, unknown>).extra = "not sent";
    equal(target.dispatchEvent(event), true);
    await until(() => raw.length === 1, "the message arrives");
    equal(
      raw[0],
      '{"type":"job.done","id":"7","payload":{"at":"1970-01-01T00:00:00.000Z","nan":null}}',
    );
  });

  test(
    kind,
    "subscribes in Redis on a name's first listener and unsubscribes after its last",
    async () => {
      await using redis = await startRedis();
      const target = createRedisEventTarget(await redis.pair(kind));
      const channel = `${P}job:7`;
      const f = () => {};
      const g = () => {};
      const object = { handleEvent: () => {} };
      // Lifecycle names are no topics: nothing to subscribe.
      target.addEventListener("error", f);
      target.addEventListener("close", f);
      await subscriptions(redis, channel, [0, 0]);

      target.addEventListener("job:7", f);
      target.addEventListener("job:7", f); // the same listener again: counted once
      target.addEventListener("job:7", g, true); // with capture: another listener
      target.addEventListener("job:7", object);
      await subscriptions(redis, channel, [1, 0]);
      target.removeEventListener("job:7", f);
      target.removeEventListener("job:7", g); // not the one added with capture
      target.removeEventListener("job:7", object);
      await settle();
      await subscriptions(redis, channel, [1, 0]);
      target.removeEventListener("job:7", g, { capture: true });
      await subscriptions(redis, channel, [0, 0]);

      // Removed and added again at once: the subscribe follows the unsubscribe.
      target.addEventListener("job:7", f);
      target.removeEventListener("job:7", f);
      target.addEventListener("job:7", f);
      await subscriptions(redis, channel, [1, 0]);
      target.removeEventListener("job:7", f);

      // `once`: gone after the first envelope, and heard only once.
      let onceCalls = 0;
      target.addEventListener("job:*", () => onceCalls++, { once: true });
      await subscriptions(redis, channel, [0, 1]);
      target.dispatchEvent(createEnvelopeEvent("job", "1", null));
      await subscriptions(redis, channel, [0, 0]);
      target.dispatchEvent(createEnvelopeEvent("job", "2", null));
      await settle();
      equal(onceCalls, 1);

      // `signal`: gone when it aborts; an aborted one adds nothing.
      const controller = new AbortController();
      target.addEventListener("*", f, { signal: controller.signal });
      target.addEventListener("job:*", g, { signal: AbortSignal.abort() });
      await subscriptions(redis, channel, [0, 1]);
      controller.abort();
      await subscriptions(redis, channel, [0, 0]);

      // A signal ends only the listener it was given with, not the same function added later.
      const later = new AbortController();
      target.addEventListener("job:7", f, { signal: later.signal });
      target.removeEventListener("job:7", f);
      target.addEventListener("job:7", f);
      later.abort();
      await settle();
      await subscriptions(redis, channel, [1, 0]);
      target.removeEventListener("job:7", f);
      await subscriptions(redis, channel, [0, 0]);
    },
  );

  test(kind, "a prefix keeps two applications on one Redis apart", async () => {
    await using redis = await startRedis();
    const targets = [
      createRedisEventTarget({ ...await redis.pair(kind), prefix: "app1:" }),
      createRedisEventTarget({ ...await redis.pair(kind), prefix: "app2:" }),
      createRedisEventTarget(await redis.pair(kind)),
    ];
    const heard = targets.map((target) => heardOn(target, "*"));
    for (const target of targets) await live(target);
    const raw = await redis.listen("app1:job:1");
    targets.forEach((target, n) => target.dispatchEvent(createEnvelopeEvent("job", "1", n)));
    await until(() => heard.every((seen) => seen.length === 1), "each hears its own");
    await settle();
    deepEqual(heard.map((seen) => seen.map((envelope) => envelope.payload)), [[0], [1], [2]]);
    deepEqual(raw, ['{"type":"job","id":"1","payload":0}']);
  });

  test(kind, "a type or prefix with glob characters matches only itself", async () => {
    await using redis = await startRedis();
    const target = createRedisEventTarget(await redis.pair(kind));
    const types = ["a*b", "a?b", "a[b]"];
    const heard = types.map((type) => collect<EventEnvelope>(target, `${type}:*`));
    // A prefix with glob characters: its `*` must not hear "pX:".
    const globbed = createRedisEventTarget({ ...await redis.pair(kind), prefix: "p*:" });
    const plain = createRedisEventTarget({ ...await redis.pair(kind), prefix: "pX:" });
    const globbedHeard = heardOn(globbed, "*");
    await live(globbed);
    const sent = ["a*b", "axb", "ab", "a?b", "aXb", "a[b]", "b", "a\\b", "a*b"];
    for (const type of sent) target.dispatchEvent(createEnvelopeEvent(type, "1", type));
    plain.dispatchEvent(createEnvelopeEvent("job", "1", "pX"));
    globbed.dispatchEvent(createEnvelopeEvent("job", "1", "p*"));
    await until(() => heard[0].length === 2 && globbedHeard.length === 1, "the envelopes arrive");
    await settle();
    deepEqual(heard.map((seen) => seen.map((envelope) => envelope.payload)), [
      ["a*b", "a*b"],
      ["a?b"],
      ["a[b]"],
    ]);
    deepEqual(globbedHeard.map((envelope) => envelope.payload), ["p*"]);
  });

  test(
    kind,
    "junk and oversize messages under the prefix fire error once each, and the next envelope arrives",
    async () => {
      await using redis = await startRedis();
      const target = createRedisEventTarget({ ...await redis.pair(kind), maxMessageBytes: 100 });
      const errors = collect<ErrorDetail>(target, "error");
      // Three names: every message under job:1 reaches the target three times.
      const heard = ["job:1", "job:*", "*"].map((name) => heardOn(target, name));
      await live(target);
      const envelopeOf = (length: number) => {
        const text = JSON.stringify({ type: "job", id: "1", payload: "" });
        return JSON.stringify({ type: "job", id: "1", payload: "x".repeat(length - text.length) });
      };
      await redis.publish(`${P}job:1`, "not json");
      await redis.publish(`${P}job:1`, '{"type":"job","id":"*"}');
      await redis.publish(`${P}job:1`, '{"type":"job","id":"2"}');
      await redis.publish(`${P}job:1`, envelopeOf(101));
      await redis.publish(`${P}junk`, "[]");
      await redis.publish(`${P}job:1`, envelopeOf(100));
      target.dispatchEvent(createEnvelopeEvent("job", "1", "after"));
      await until(() => heard.every((seen) => seen.length === 2), "the good envelopes arrive");
      await settle();
      for (const seen of heard) {
        deepEqual(seen.map((envelope) => envelope.payload), [
          JSON.parse(envelopeOf(100)).payload,
          "after",
        ]);
      }
      deepEqual(errors.map((error) => error.reason), [
        `frame is not JSON (channel "${P}job:1")`,
        `invalid envelope: 'id' must not be '*', which names every id (channel "${P}job:1")`,
        `envelope "job:2" arrived on channel "${P}job:1", not its own`,
        `frame is larger than maxMessageBytes (100 bytes) (channel "${P}job:1")`,
        `invalid envelope: an envelope must be an object (got an array) (channel "${P}junk")`,
      ]);
      equal(errors[0].data, "not json");
      equal(errors[3].data, envelopeOf(101));
    },
  );

  test(kind, "a publish that fails fires error with the envelope; nothing is thrown", async () => {
    await using redis = await startRedis();
    const pair = await redis.pair(kind);
    const target = createRedisEventTarget(pair);
    const failed = nextEvent<CustomEvent<ErrorDetail>>(target, "error");
    endClient(pair.publisher);
    equal(target.dispatchEvent(createEnvelopeEvent("job", "1", "lost")), true);
    const { detail } = await failed;
    match(detail.reason, new RegExp(`^publish to "${P}job:1" failed: .+`));
    equal(detail.data, '{"type":"job","id":"1","payload":"lost"}');
  });

  test(
    kind,
    "checks like every target, and close() unsubscribes everything, fires close once and leaves the clients open",
    async () => {
      await using redis = await startRedis();
      const pair = await redis.pair(kind);
      throws(() => createRedisEventTarget({ ...pair, publisher: {} as never }), TypeError);
      throws(() => createRedisEventTarget({ ...pair, subscriber: {} as never }), TypeError);
      throws(
        () =>
          createRedisEventTarget({
            publisher: pair.publisher,
            subscriber: pair.publisher as never,
          }),
        /must be two connections/,
      );
      throws(() => createRedisEventTarget({ ...pair, maxMessageBytes: 0 }), RangeError);

      const target = createRedisEventTarget(pair);
      equal(target.state, "open");
      throws(
        () =>
          target.dispatchEvent(
            new CustomEvent("job:*", { detail: { type: "job", id: "*" } }) as never,
          ),
        TypeError,
      );
      throws(() => target.dispatchEvent(createEnvelopeEvent("job", "1", 1n)), TypeError);
      let calls = 0;
      for (const name of ["job:1", "job:*", "*"]) target.addEventListener(name, () => calls++);
      await live(target);
      calls = 0;
      await subscriptions(redis, `${P}job:1`, [1, 2]);

      const closes = collect(target, "close");
      const closing = target.close();
      equal(target.state, "closed");
      deepEqual(closes, [{ code: 1000, reason: "", wasClean: true, unsent: 0 }]);
      await within(closing, "close() to resolve");
      deepEqual([...await redis.numsub(`${P}job:1`), await redis.numpat()], [0, 0]);
      await target.close();
      equal(closes.length, 1);
      throws(
        () => target.dispatchEvent(createEnvelopeEvent("job", "1", null)),
        (error: Error) =>
          error.constructor === Error &&
          error.message === 'Cannot dispatch "job:1": the connection is closed',
      );
      // Validation still comes first.
      throws(() => target.dispatchEvent(new CustomEvent("x", { detail: {} }) as never), TypeError);

      // Both clients are still the caller's, open: a new target on them works, and the old one hears nothing.
      const again = createRedisEventTarget(pair);
      const heard = collect<EventEnvelope>(again, "job:*");
      await live(again);
      again.dispatchEvent(createEnvelopeEvent("job", "1", "again"));
      await until(() => heard.length === 1, "the new target hears it");
      await settle();
      equal(calls, 0);
      await again.close();
    },
  );

  test(kind, "createPubSub() over Redis targets: a request and its reply", async () => {
    type Jobs = { "job.run": { n: number }; "job.done": { n: number } };
    await using redis = await startRedis();
    const client = createPubSub<Jobs>({
      eventTarget: createRedisEventTarget<EnvelopeEvents<Jobs>>(await redis.pair(kind)),
    });
    const workerTarget = createRedisEventTarget<EnvelopeEvents<Jobs>>(await redis.pair(kind));
    const worker = createPubSub<Jobs>({ eventTarget: workerTarget });
    const runs = worker.subscribe("job.run");
    const working = (async () => {
      for await (const run of runs) worker.publish("job.done", run.id, { n: run.payload.n * 2 });
    })();
    await live(workerTarget);
    // Subscribed right before publishing: the publish waits for the subscription.
    const done = client.subscribe("job.done", "42");
    client.publish("job.run", "42", { n: 21 });
    deepEqual((await within(done.next(), "the reply")).value, {
      type: "job.done",
      id: "42",
      payload: { n: 42 },
    });
    await done.return();
    await runs.return();
    await working;
    await subscriptions(redis, `${P}job.done:42`, [0, 0]);
  });

  test(
    kind,
    "redis-server killed and restarted: the target recovers; only what was published while the subscriber was down is lost",
    async () => {
      await using redis = await startRedis();
      const publisher = createRedisEventTarget(await redis.pair(kind));
      // ioredis fails a command issued while offline after one retry: a subscribe too, which the target retries.
      const target = createRedisEventTarget(await redis.pair(kind, { maxRetriesPerRequest: 1 }));
      const heard: number[] = [];
      target.addEventListener("tick:*", ({ detail }) => heard.push(detail.payload as number));
      const errors = collect<ErrorDetail>(target, "error");
      await live(target);
      let seq = 0;
      const tick = () => publisher.dispatchEvent(createEnvelopeEvent("tick", String(seq), seq++));
      while (seq < 10) tick();
      await until(() => heard.length === 10, "the first ten ticks");
      const timer = setInterval(tick, 10);
      const late: unknown[] = [];
      let recoveredAt = 0;
      try {
        await redis.kill();
        await settle(300);
        // Added while Redis is down: subscribed once the client is back.
        target.addEventListener("late:1", ({ detail }) => late.push(detail.payload));
        await settle(700);
        await redis.restart();
        await subscriptions(redis, `${P}late:1`, [1, 1]);
        recoveredAt = seq;
        await until(() => heard.includes(recoveredAt + 20), "ticks after the subscriber is back");
      } finally {
        clearInterval(timer);
      }
      publisher.dispatchEvent(createEnvelopeEvent("late", "1", "heard"));
      await until(() => late.length === 1, "the listener added during the outage hears");
      // Once each, in order; the first ten and everything published since the subscriber came back.
      deepEqual(heard, [...new Set(heard)].sort((a, b) => a - b));
      deepEqual(heard.slice(0, 10), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      for (let n = recoveredAt; n <= recoveredAt + 20; n++) {
        ok(heard.includes(n), `tick ${n} arrived`);
      }
      const lost = recoveredAt - heard.filter((n) => n < recoveredAt).length;
      console.log(`${kind}: ${lost} of ${recoveredAt} ticks published before recovery were lost`);
      ok(errors.some((error) => error.reason.startsWith("subscriber: ")), "the drop is reported");
      if (kind === "ioredis") {
        ok(errors.some((error) => error.reason.startsWith(`subscribe to "${P}late:1" failed`)));
      }
    },
  );

  test(
    kind,
    "three hub processes on one Redis: every spoke hears every envelope in order, and a reply reaches one spoke",
    async () => {
      await using redis = await startRedis();
      await using nodes = await startNodes(kind, redis.port, ["hub", "hub", "hub", "worker"]);
      const spokes: { name: string; spoke: ConnectionEventTarget }[] = [];
      for (const [h, port] of nodes.ports.slice(0, 3).entries()) {
        for (let s = 0; s < 2; s++) {
          const spoke = createWebSocketClientEventTarget(new WebSocket(`ws://127.0.0.1:${port}`));
          await nextEvent(spoke, "open");
          spokes.push({ name: `hub${h}-spoke${s}`, spoke });
        }
      }
      try {
        const chats = spokes.map(({ spoke }) => collect<EventEnvelope>(spoke, "chat:*"));
        const replies = spokes.map(({ spoke }) => collect<EventEnvelope>(spoke, "job.done:*"));
        const perSpoke = 10;
        for (let seq = 0; seq < perSpoke; seq++) {
          for (const { name, spoke } of spokes) {
            spoke.dispatchEvent(createEnvelopeEvent("chat", `${name}-${seq}`, { from: name, seq }));
          }
        }
        const total = perSpoke * spokes.length;
        await until(
          () => chats.every((got) => got.length >= total),
          "every spoke hears every chat",
        );
        for (const got of chats) {
          equal(got.length, total);
          for (const { name } of spokes) {
            const seqs = got.filter((e) => (e.payload as { from: string }).from === name)
              .map((e) => (e.payload as { seq: number }).seq);
            deepEqual(seqs, [...Array(perSpoke).keys()]);
          }
        }
        // Two requests from spokes on two hubs; the worker process answers each.
        spokes[1].spoke.dispatchEvent(createEnvelopeEvent("job.run", "r1", { n: 21 }));
        spokes[4].spoke.dispatchEvent(createEnvelopeEvent("job.run", "r2", { n: 5 }));
        await until(() => replies[1].length === 1 && replies[4].length === 1, "both replies");
        await settle(200);
        deepEqual(
          replies.map((got) => got.map((e) => `${e.id}=${(e.payload as { n: number }).n}`)),
          [
            [],
            ["r1=42"],
            [],
            [],
            ["r2=10"],
            [],
          ],
        );
      } finally {
        for (const { spoke } of spokes) {
          const closed = nextEvent(spoke, "close");
          spoke.close();
          await closed.catch(() => {});
        }
      }
    },
  );
}

/** Processes running tests/fixtures/redis_hub.ts, each once its subscriptions are live. */
async function startNodes(kind: ClientKind, redisPort: number, roles: string[]) {
  const fixture = new URL("./fixtures/redis_hub.ts", import.meta.url).pathname;
  const children = roles.map((role) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", fixture, role, kind, String(redisPort)],
      stdout: "piped",
      stderr: "inherit",
    }).spawn()
  );
  const stop = async () => {
    for (const child of children) {
      try {
        child.kill("SIGTERM");
      } catch {
        // Exited already.
      }
      await child.status;
      await child.stdout.cancel().catch(() => {});
    }
  };
  try {
    const ports = await within(Promise.all(children.map(readyPort)), "the processes", 20_000);
    return { ports, [Symbol.asyncDispose]: stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Reads a child's stdout up to its "ready <port>" line. */
async function readyPort(child: Deno.ChildProcess): Promise<number> {
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`a process ended before it was ready: ${text}`);
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    reader.releaseLock();
  }
  const port = text.match(/^ready (\d+)$/m)?.[1];
  if (port === undefined) throw new Error(`unexpected output: ${text}`);
  return Number(port);
}

Deno.test("createRedisEventTarget() refuses what is no Redis client", () => {
  throws(
    () => createRedisEventTarget({} as never),
    (error: Error) =>
      error instanceof TypeError &&
      error.message === "'publisher' must be a Redis client (ioredis or node-redis)",
  );
});

Deno.test("examples/cluster/main.ts runs to the end on the Redis that REDIS_URL names", async () => {
  await using redis = await startRedis();
  const example = new URL("../examples/cluster/main.ts", import.meta.url).pathname;
  const { code, stdout, stderr } = await within(
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", example],
      env: { REDIS_URL: redis.url },
      stdout: "piped",
      stderr: "piped",
    }).output(),
    "the example to end",
    30_000,
  );
  const output = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  equal(code, 0, output);
  match(
    output,
    /cluster: heard by alice, bob, carol, dave\n[^]*cluster: the answer reached carol alone/,
  );
  match(output, /cluster: done\n$/);
});
