// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// A hub on Deno.serve and three WebSocket spokes on 127.0.0.1: the hub fans a
// job out, each spoke replies, the hub tells the replies apart by
// `event.source` and answers one spoke alone. Then everything closes.
//
//   deno task demo

import { createEnvelopeEvent, type EnvelopeEvents } from "@alkdev/pubsub/envelope";
import {
  type ConnectionEventTarget,
  createWebSocketClientEventTarget,
} from "@alkdev/pubsub/event-target-websocket-client";
import { createWebSocketServerEventTarget } from "@alkdev/pubsub/event-target-websocket-server";

type Events = EnvelopeEvents<{
  "job.run": { n: number };
  "job.done": { n: number };
  "job.thanks": { note: string };
}>;
type Spoke = ConnectionEventTarget<Events>;

// The demo ends by itself in well under a second; if it hangs, fail instead.
const deadline = setTimeout(() => {
  console.error("demo: timed out");
  Deno.exit(1);
}, 5_000);

/** `{"n":21}` as `{n:21}`, for a log that reads easily. */
function show(payload: unknown): string {
  return JSON.stringify(payload).replace(/"(\w+)":/g, "$1:");
}

// The hub names its spokes in the order they connect.
const names = new Map<Spoke, string>();
const hub = createWebSocketServerEventTarget<Events>({
  onConnection(spoke) {
    names.set(spoke, `spoke-${names.size + 1}`);
    console.log(`hub: ${names.get(spoke)} connected (${hub.connections.size} open)`);
  },
  onDisconnection: (spoke) => console.log(`hub: ${names.get(spoke)} disconnected`),
});

const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
  const { socket, response } = Deno.upgradeWebSocket(request);
  hub.addConnection(socket);
  return response;
});
const url = `ws://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
console.log(`hub: listening on ${url}`);

// Each spoke multiplies by its own number, so the replies differ.
let thanked: () => void;
const thanksArrived = new Promise<void>((resolve) => (thanked = resolve));
const spokes: { name: string; target: Spoke; closed: Promise<number> }[] = [];
for (let k = 1; k <= 3; k++) {
  const name = `spoke-${k}`;
  const target = createWebSocketClientEventTarget<Events>(new WebSocket(url));
  target.addEventListener("job.run:*", ({ detail }) => {
    target.dispatchEvent(createEnvelopeEvent("job.done", detail.id, { n: detail.payload.n * k }));
  });
  target.addEventListener("job.thanks:*", ({ detail }) => {
    console.log(`${name} got: ${detail.type}:${detail.id} ${show(detail.payload)}`);
    thanked();
  });
  const closed = new Promise<number>((resolve) =>
    target.addEventListener("close", ({ detail }) => resolve(detail.code))
  );
  // Connect one after another, so the hub's names match these.
  await new Promise((resolve) => target.addEventListener("open", resolve, { once: true }));
  while (names.size < k) await new Promise((resolve) => setTimeout(resolve, 1));
  spokes.push({ name, target, closed });
}

// Replies come back to the hub; `source` is the spoke each came from.
const replied = new Promise<void>((resolve) => {
  let replies = 0;
  hub.addEventListener("job.done:*", ({ detail, source }) => {
    console.log(`${names.get(source)} -> hub: ${detail.type}:${detail.id} ${show(detail.payload)}`);
    if (detail.payload.n === 42) {
      // Only this spoke gets the answer: dispatching on its own target reaches it alone.
      const thanks = createEnvelopeEvent("job.thanks", detail.id, { note: "42 it is" });
      console.log(
        `hub -> ${names.get(source)}: job.thanks:${detail.id} ${show(thanks.detail.payload)}`,
      );
      source.dispatchEvent(thanks);
    }
    if (++replies === spokes.length) resolve();
  });
});

const job = createEnvelopeEvent("job.run", "1", { n: 21 });
console.log(`hub -> all: ${job.type} ${show(job.detail.payload)}`);
hub.dispatchEvent(job);
await replied;
await thanksArrived;

hub.close();
const codes = await Promise.all(spokes.map(({ closed }) => closed));
console.log(`spokes closed with codes ${codes.join(", ")} (1001: Going Away)`);
await server.shutdown();
clearTimeout(deadline);
