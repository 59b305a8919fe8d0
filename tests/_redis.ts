// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// A real redis-server for the Redis suites, on 127.0.0.1 and a free port with
// no persistence, and the two client libraries the Redis target supports.
// `await using redis = await startRedis()` stops the server and closes every
// client made through it at the end of the test.

import { Redis } from "ioredis";
import { createClient } from "redis";
import type { RedisPublisher, RedisSubscriber } from "../redis.ts";
import { within } from "./_helpers.ts";

/** The client libraries the suites run over, by the name the tests use. */
export type ClientKind = "ioredis" | "node-redis";
export const CLIENT_KINDS: ClientKind[] = ["ioredis", "node-redis"];

/** A publishing and a subscribing connection. */
export interface ClientPair {
  publisher: RedisPublisher;
  subscriber: RedisSubscriber;
}

/** A redis-server of the test's own. */
export interface RedisServer {
  port: number;
  url: string;
  /** Two new connected clients of `kind`; closed when the server is disposed. */
  pair(kind: ClientKind, options?: PairOptions): Promise<ClientPair>;
  /** The messages published on `channel` from now on, as a plain subscriber sees them. */
  listen(channel: string): Promise<string[]>;
  /** Publishes raw text, below any target (another program on the same Redis). */
  publish(channel: string, message: string): Promise<number>;
  /** How many clients are subscribed to each channel (PUBSUB NUMSUB). */
  numsub(...channels: string[]): Promise<number[]>;
  /** How many patterns are subscribed, by all clients (PUBSUB NUMPAT). */
  numpat(): Promise<number>;
  /** Kills the server (SIGKILL) and waits until it has exited. */
  kill(): Promise<void>;
  /** Starts the server again on the same port. */
  restart(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A port nobody listens on right now. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Starts redis-server on `port` and waits until it accepts connections. */
export async function spawnRedis(port: number): Promise<Deno.ChildProcess> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("redis-server", {
      args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      stdout: "null",
      stderr: "null",
    }).spawn();
  } catch (cause) {
    if (!(cause instanceof Deno.errors.NotFound)) throw cause;
    throw new Error(
      "redis-server is missing, and the Redis suites need it: apt-get install -y redis-server",
      { cause },
    );
  }
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return child;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  child.kill("SIGKILL");
  await child.status;
  throw new Error(`redis-server did not start on port ${port}`);
}

/** What a client pair may be made with. */
export interface PairOptions {
  /** ioredis only: commands issued while offline fail after this many reconnect attempts. */
  maxRetriesPerRequest?: number;
  /** Return while the subscriber is still connecting (the publisher is connected). */
  subscriberConnecting?: boolean;
}

/** Closes a client of either library, as its owner would. */
export function endClient(client: RedisPublisher | RedisSubscriber): void {
  if (client instanceof Redis) client.disconnect();
  else {
    const nodeRedis = client as ReturnType<typeof createClient>;
    if (nodeRedis.isOpen) nodeRedis.destroy();
  }
}

/** A publisher and a subscriber, closed together as their owner would. */
function pairOf(
  publisher: RedisPublisher,
  subscriber: RedisSubscriber,
): ClientPair & { close(): Promise<void> } {
  return {
    publisher,
    subscriber,
    close: () => {
      endClient(publisher);
      endClient(subscriber);
      return Promise.resolve();
    },
  };
}

/** Two connected clients of `kind` on `port`. */
export async function connectPair(
  kind: ClientKind,
  port: number,
  options: PairOptions = {},
): Promise<ClientPair & { close(): Promise<void> }> {
  const { maxRetriesPerRequest, subscriberConnecting = false } = options;
  if (kind === "ioredis") {
    const publisher = new Redis({ host: "127.0.0.1", port, maxRetriesPerRequest });
    // Lazily: it connects on its first command, which the target sends.
    const subscriber = new Redis({
      host: "127.0.0.1",
      port,
      maxRetriesPerRequest,
      lazyConnect: subscriberConnecting,
    });
    // The clients print errors they cannot hand to anyone; the tests read them from the target.
    for (const client of [publisher, subscriber]) client.on("error", () => {});
    const connecting = subscriberConnecting ? [publisher] : [publisher, subscriber];
    await within(Promise.all(connecting.map((client) => client.ping())), "ioredis to connect");
    return pairOf(publisher, subscriber);
  }
  const publisher = createClient({ socket: { host: "127.0.0.1", port } });
  const subscriber = createClient({ socket: { host: "127.0.0.1", port } });
  // node-redis stops reconnecting (and crashes Node) without an 'error' listener.
  for (const client of [publisher, subscriber]) client.on("error", () => {});
  const subscribed = subscriber.connect();
  await within(
    Promise.all([publisher.connect(), subscriberConnecting ? undefined : subscribed]),
    "node-redis to connect",
  );
  return pairOf(publisher, subscriber);
}

/** Starts a redis-server of the test's own, on a free port. */
export async function startRedis(): Promise<RedisServer> {
  const port = freePort();
  let child: Deno.ChildProcess | undefined = await spawnRedis(port);
  const probe = new Redis({ host: "127.0.0.1", port });
  probe.on("error", () => {});
  const pairs: { close(): Promise<void> }[] = [];
  async function kill() {
    child?.kill("SIGKILL");
    await child?.status;
    child = undefined;
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async pair(kind, options) {
      const pair = await connectPair(kind, port, options);
      pairs.push(pair);
      return pair;
    },
    async listen(channel) {
      const client = new Redis({ host: "127.0.0.1", port });
      client.on("error", () => {});
      pairs.push({ close: () => Promise.resolve(client.disconnect()) });
      const seen: string[] = [];
      client.on(
        "message",
        (from: string, message: string) => from === channel && seen.push(message),
      );
      await within(client.subscribe(channel), `a plain subscription to ${channel}`);
      return seen;
    },
    publish: (channel, message) => probe.publish(channel, message),
    async numsub(...channels) {
      const flat = await probe.call("PUBSUB", "NUMSUB", ...channels) as (string | number)[];
      return channels.map((_, i) => Number(flat[2 * i + 1]));
    },
    async numpat() {
      return Number(await probe.call("PUBSUB", "NUMPAT"));
    },
    kill,
    async restart() {
      child = await spawnRedis(port);
    },
    async [Symbol.asyncDispose]() {
      for (const pair of pairs) await pair.close();
      probe.disconnect();
      await kill();
    },
  };
}
