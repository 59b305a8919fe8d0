// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// The hub and two spokes in one process, on loopback with relays off: the hub
// prints its ticket, both spokes dial it by that ticket, spoke-1 asks the time
// and the hub answers spoke-1 alone; then news goes to both, and all close.
//
//   deno task demo:iroh         (deno run -A examples/iroh/main.ts)

import { createEnvelopeEvent, type EventEnvelope } from "@alkdev/pubsub/envelope";
import { startHub } from "./hub.ts";
import { connectSpoke } from "./spoke.ts";

// It ends by itself in well under a second; if it hangs, fail instead.
const deadline = setTimeout(() => {
  console.error("demo: timed out");
  Deno.exit(1);
}, 10_000);

let joined = 0;
let bothJoined: () => void;
const bothJoinedPromise = new Promise<void>((resolve) => (bothJoined = resolve));
const hub = await startHub({ onConnection: () => ++joined === 2 && bothJoined() });
console.log(`hub: ticket ${hub.ticket}`);

const spokes = [
  await connectSpoke("spoke-1", hub.ticket),
  await connectSpoke("spoke-2", hub.ticket),
];
const received = spokes.map(({ spoke }) => {
  const types: string[] = [];
  spoke.addEventListener("*", ({ detail }: { detail: EventEnvelope }) => types.push(detail.type));
  return types;
});

const now = await spokes[0].askTime();
console.log(`spoke-1: the hub says it is ${now}`);

await bothJoinedPromise;
const news = spokes.map(({ spoke }) =>
  new Promise((resolve) => spoke.addEventListener("news:*", resolve, { once: true }))
);
hub.hub.dispatchEvent(createEnvelopeEvent("news", "1", "hello, every spoke"));
await Promise.all(news);

for (const spoke of spokes) await spoke.close();
await hub.close();
clearTimeout(deadline);

// The answer went to the spoke that asked, and to no other.
const expected = [["time.told", "news"], ["news"]];
if (JSON.stringify(received) !== JSON.stringify(expected)) {
  console.error(
    `demo: spokes received ${JSON.stringify(received)}, not ${JSON.stringify(expected)}`,
  );
  Deno.exit(1);
}
console.log("demo: spoke-1 got its answer alone; both got the news");
