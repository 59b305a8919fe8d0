// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// One hub of the cluster example: a WebSocket hub on 127.0.0.1 and a free
// port, joined to the other hubs through Redis.
//
//   deno run -A examples/cluster/hub.ts <name> <redis url>
//
// What its spokes send that the others must hear goes to Redis; what comes
// from Redis goes to its own spokes. Nothing from Redis goes back to Redis, so
// nothing loops. Prints "<name>: listening on <url>" once it is on the bus.

import { createEnvelopeEvent } from "@alkdev/pubsub/envelope";
import type { ConnectionEventTarget } from "@alkdev/pubsub/event-target-websocket-client";
import { createWebSocketServerEventTarget } from "@alkdev/pubsub/event-target-websocket-server";
import { type Events, joinBus, show } from "./events.ts";

const [name, redisUrl] = Deno.args;
const { bus, leave } = joinBus(redisUrl, name);
const hub = createWebSocketServerEventTarget<Events>();

// Spokes -> Redis: every hub hears it, this one too, so this hub's own spokes get it the same way.
hub.addEventListener("chat:*", ({ detail }) => {
  bus.dispatchEvent(createEnvelopeEvent("chat", detail.id, detail.payload));
});
// Redis -> this hub's spokes.
bus.addEventListener("chat:*", ({ detail }) => {
  console.log(`${name}: chat ${detail.id} from Redis -> ${hub.connections.size} spoke(s)`);
  hub.dispatchEvent(createEnvelopeEvent("chat", detail.id, detail.payload));
});

// A request goes to Redis for the worker; this hub remembers which spoke asked.
const asked = new Map<string, ConnectionEventTarget<Events>>();
hub.addEventListener("job.run:*", ({ detail, source }) => {
  console.log(`${name}: job.run ${detail.id} ${show(detail.payload)} -> Redis`);
  asked.set(detail.id, source);
  bus.dispatchEvent(createEnvelopeEvent("job.run", detail.id, detail.payload));
});
// Every hub hears every answer; only the one holding the spoke that asked passes it on.
bus.addEventListener("job.done:*", ({ detail }) => {
  const spoke = asked.get(detail.id);
  if (!spoke) return;
  asked.delete(detail.id);
  console.log(`${name}: job.done ${detail.id} from Redis -> the spoke that asked, alone`);
  if (spoke.state === "open") {
    spoke.dispatchEvent(createEnvelopeEvent("job.done", detail.id, detail.payload));
  }
});

const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
  // A real hub authenticates here and checks the Origin header before upgrading.
  const { socket, response } = Deno.upgradeWebSocket(request);
  hub.addConnection(socket);
  return response;
});
Deno.addSignalListener("SIGTERM", async () => {
  hub.close();
  await server.shutdown();
  await leave();
  Deno.exit(0);
});

// A publish goes out only after the subscribes asked before it are answered, so
// hearing this one back means the listeners above are live.
bus.addEventListener(`up:${name}`, () => {
  console.log(`${name}: listening on ws://127.0.0.1:${(server.addr as Deno.NetAddr).port}`);
}, { once: true });
bus.dispatchEvent(createEnvelopeEvent("up", name, null));
