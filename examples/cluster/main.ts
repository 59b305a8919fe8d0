// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// The scale-out recipe, running: three hub processes and a worker process
// joined through Redis, with WebSocket spokes on every hub. A chat from a
// spoke on one hub reaches every spoke on every hub; a job from a spoke on
// hub-2 is answered by the worker, and the answer reaches that spoke alone.
// Then everything stops.
//
//   deno run -A examples/cluster/main.ts                     (starts its own redis-server)
//   REDIS_URL=redis://127.0.0.1:6379 deno run -A examples/cluster/main.ts

import { createEnvelopeEvent, type EventEnvelope } from "@alkdev/pubsub/envelope";
import {
  type ConnectionEventTarget,
  createWebSocketClientEventTarget,
} from "@alkdev/pubsub/event-target-websocket-client";
import { createPubSub } from "@alkdev/pubsub/pubsub";
import { type Events, type Jobs, show } from "./events.ts";

// It ends by itself in a few seconds; if it hangs, fail instead.
const deadline = setTimeout(() => fail("timed out"), 30_000);

function fail(why: string): never {
  console.error(`cluster: ${why}`);
  Deno.exit(1);
}

/** Waits until `condition()` holds, or fails the example. */
async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 5_000;
  while (!await condition()) {
    if (Date.now() > end) fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// --- Redis: the one REDIS_URL names, or a redis-server of our own on a free port.
let redisUrl = Deno.env.get("REDIS_URL");
let redisServer: Deno.ChildProcess | undefined;
if (redisUrl) {
  console.log(`cluster: using Redis at ${redisUrl}`);
} else {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  redisServer = new Deno.Command("redis-server", {
    args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    stdout: "null",
  }).spawn();
  await until(
    () => Deno.connect({ port }).then((conn) => (conn.close(), true), () => false),
    "redis-server accepts connections",
  );
  redisUrl = `redis://127.0.0.1:${port}`;
  console.log(`cluster: started redis-server on 127.0.0.1:${port}`);
}

// --- The processes. Each one's output is echoed here; its first line says it is on the bus.
const processes: Deno.ChildProcess[] = [];
function start(script: string, ...args: string[]): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(script, import.meta.url).pathname, ...args],
    stdout: "piped",
  }).spawn();
  processes.push(child);
  return new Promise((resolve) => {
    (async () => {
      let buffered = "";
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        const lines = (buffered + chunk).split("\n");
        buffered = lines.pop()!;
        for (const line of lines) {
          console.log(`  ${line}`);
          resolve(line);
        }
      }
    })();
  });
}
const ready = await Promise.all([
  start("./hub.ts", "hub-1", redisUrl),
  start("./hub.ts", "hub-2", redisUrl),
  start("./hub.ts", "hub-3", redisUrl),
  start("./worker.ts", redisUrl),
]);
const hubUrls = ready.slice(0, 3).map((line) =>
  line.match(/listening on (\S+)/)?.[1] ?? fail(line)
);

// --- Spokes: alice and bob on hub-1, carol on hub-2, dave on hub-3.
type Spoke = { name: string; hub: string; target: ConnectionEventTarget<Events> };
const spokes: Spoke[] = [];
for (const [name, hub] of [["alice", 0], ["bob", 0], ["carol", 1], ["dave", 2]] as const) {
  const target = createWebSocketClientEventTarget<Events>(new WebSocket(hubUrls[hub]));
  await new Promise((resolve) => target.addEventListener("open", resolve, { once: true }));
  spokes.push({ name, hub: `hub-${hub + 1}`, target });
}
console.log(`cluster: ${spokes.map(({ name, hub }) => `${name} on ${hub}`).join(", ")}`);
const heard = spokes.map(({ target }) => {
  const got: EventEnvelope[] = [];
  target.addEventListener("*", ({ detail }) => got.push(detail));
  return got;
});

// --- A chat from alice (hub-1), then one from dave (hub-3): every spoke hears both.
const chats = [["c1", "alice", "hello from hub-1"], ["c2", "dave", "and hello from hub-3"]];
for (const [id, from, text] of chats) {
  const spoke = spokes.find(({ name }) => name === from)!;
  const before = heard.map((got) => got.length);
  console.log(`\n${from} (${spoke.hub}) -> chat ${id} "${text}"`);
  spoke.target.dispatchEvent(createEnvelopeEvent("chat", id, { from, text }));
  await until(() => heard.every((got, i) => got.length > before[i]), "every spoke hears it");
  console.log(`cluster: heard by ${spokes.map(({ name }) => name).join(", ")}`);
}

// --- A job from carol (hub-2), through pub/sub on her spoke's target.
const carol = spokes.find(({ name }) => name === "carol")!;
const carolPubSub = createPubSub<Jobs>({ eventTarget: carol.target });
console.log(`\ncarol (hub-2) -> job.run 7 ${show({ n: 6 })}`);
const answers = carolPubSub.subscribe("job.done", "7");
carolPubSub.publish("job.run", "7", { n: 6 });
const answer = (await answers.next()).value!;
await answers.return();
console.log(`carol: job.done 7 ${show(answer.payload)}`);
await new Promise((resolve) => setTimeout(resolve, 200));
const jobDone = heard.map((got) => got.filter(({ type }) => type === "job.done").length);
if (jobDone.join() !== "0,0,1,0") fail(`job.done reached ${jobDone} spokes, not carol alone`);
console.log("cluster: the answer reached carol alone");

// --- Stop: spokes, then the processes (each closes its Redis target), then Redis.
console.log("");
for (const { target } of spokes) {
  const closed = new Promise((resolve) => target.addEventListener("close", resolve));
  target.close();
  await closed;
}
for (const child of processes) {
  child.kill("SIGTERM");
  await child.status;
}
if (redisServer) {
  redisServer.kill("SIGTERM");
  await redisServer.status;
}
clearTimeout(deadline);
console.log("cluster: done");
