// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// `deno run -A benchmarks/worker_message_channel.ts [--quick]`: envelopes per
// second through a MessageChannel (both ends in this thread), the worker target
// on each end against raw `postMessage` of the same JSON text with a receiver
// that only parses it, in the same run, turn by turn. Prints Markdown (a
// heading, a table, a note) on stdout, progress on stderr; --quick takes a few
// seconds.

import { createEnvelopeEvent } from "../envelope.ts";
import { createWorkerEventTarget } from "../worker.ts";

const quick = Deno.args.includes("--quick");
const ROUNDS = quick ? 3 : 9;
const ENVELOPES = quick ? 10_000 : 50_000;
const PAYLOAD = { text: "x".repeat(48), n: 0 }; // envelopes of about 100 bytes
const WAIT_MS = 60_000;

const log = (text: string) => console.error(text);

/** Resolves once `count()` reaches `n`, checking as messages arrive. */
function arrived(n: number, count: () => number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: timed out`)), WAIT_MS);
    const check = () => {
      if (count() < n) return setTimeout(check, 1);
      clearTimeout(timer);
      resolve();
    };
    check();
  });
}

/** Envelopes per second through two worker targets on one MessageChannel. */
async function library(n: number): Promise<number> {
  const { port1, port2 } = new MessageChannel();
  const sender = createWorkerEventTarget(port1);
  const receiver = createWorkerEventTarget(port2);
  let count = 0;
  receiver.addEventListener("bench:*", () => count++);
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    sender.dispatchEvent(createEnvelopeEvent("bench", String(i), { ...PAYLOAD, n: i }));
  }
  await arrived(n, () => count, "library");
  const seconds = (performance.now() - started) / 1000;
  sender.close();
  receiver.close();
  return n / seconds;
}

/** The floor: the same JSON text posted by hand, parsed on arrival, nothing else. */
async function byHand(n: number): Promise<number> {
  const { port1, port2 } = new MessageChannel();
  let count = 0;
  port2.onmessage = ({ data }) => {
    if (JSON.parse(data).type === "bench") count++;
  };
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    port1.postMessage(
      JSON.stringify({ type: "bench", id: String(i), payload: { ...PAYLOAD, n: i } }),
    );
  }
  await arrived(n, () => count, "by hand");
  const seconds = (performance.now() - started) / 1000;
  port1.close();
  port2.close();
  return n / seconds;
}

function median(list: number[]): number {
  const sorted = [...list].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const rate = (value: number) => Math.round(value).toLocaleString("en-US");

// One warm-up turn each, so that neither side pays for compilation in a measured round.
await library(ENVELOPES / 10);
await byHand(ENVELOPES / 10);
const lib: number[] = [];
const hand: number[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  log(`worker MessageChannel round ${round}/${ROUNDS}`);
  // Turn by turn, and which goes first alternates, so that drift hits both alike.
  if (round % 2) {
    lib.push(await library(ENVELOPES));
    hand.push(await byHand(ENVELOPES));
  } else {
    hand.push(await byHand(ENVELOPES));
    lib.push(await library(ENVELOPES));
  }
}
const libRate = median(lib);
const handRate = median(hand);
console.log(`### Worker target (MessageChannel in one thread, Deno ${Deno.version.deno})

| what | envelopes | library, envelopes/s | by hand, envelopes/s | library / by hand |
| --- | ---: | ---: | ---: | ---: |
| MessageChannel, port to port | ${ENVELOPES} | ${rate(libRate)} | ${rate(handRate)} | ${
  (libRate / handRate).toFixed(2)
} |

Envelopes of about 100 bytes, medians of ${ROUNDS} rounds, library and by hand in turns. Both send
the same JSON text with \`postMessage\`; "by hand" only parses it on arrival, while the library also
builds a \`CustomEvent\` per send, validates and encodes it, checks the size and the envelope on
arrival, and fires a \`CustomEvent\` for the \`<type>:*\` listener.`);
