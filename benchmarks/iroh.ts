// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// `deno run -A benchmarks/iroh.ts [--quick]`: envelopes per second over iroh
// (QUIC on 127.0.0.1, relays off), the library against the same lines written
// by hand on the same endpoints, in the same run, turn by turn:
//
//   one stream   a spoke target sends N envelopes to a hub target; by hand, the
//                lines go out in 64 KiB writeAll calls and the reader splits
//                and parses them
//   fan-out      a hub target fans N envelopes out to 10 spoke targets; by hand,
//                each line goes to 10 streams, each with its own write queue
//
// and what iroh's `number[]` byte arrays cost on their own. Prints Markdown
// (a heading, a table, notes) on stdout, progress on stderr; --quick takes
// well under 20 s.

import { ALPN, bindEndpoint, type Iroh } from "../tests/_iroh.ts";
import { createEnvelopeEvent } from "../envelope.ts";
import { createIrohHubEventTarget } from "../iroh_hub.ts";
import { createIrohSpokeEventTarget } from "../iroh_spoke.ts";

const quick = Deno.args.includes("--quick");
const ROUNDS = quick ? 2 : 5;
const ONE_STREAM = quick ? 20_000 : 100_000;
const FANOUT = quick ? 4_000 : 20_000;
const SPOKES = 10;
const PAYLOAD = "x".repeat(64); // lines of about 100 bytes
// Senders hand out this many envelopes, then wait until every reader is at most twice that behind:
// well under maxBufferedAmount, as a producer that respects backpressure does.
const BURST = 500;
const WAIT_MS = 60_000;

const log = (text: string) => console.error(text);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function toBytes(text: string): number[] {
  const bytes = encoder.encode(text);
  const array = new Array<number>(bytes.length);
  for (let i = 0; i < bytes.length; i++) array[i] = bytes[i];
  return array;
}

/** Counts what the readers got and lets the sender wait until the slowest is close enough. */
class Progress {
  counts: number[];
  #waiter: { at: number; resolve: () => void } | undefined;
  constructor(readers: number) {
    this.counts = new Array(readers).fill(0);
  }
  add(reader: number): void {
    this.counts[reader]++;
    if (this.#waiter && this.min() >= this.#waiter.at) {
      this.#waiter.resolve();
      this.#waiter = undefined;
    }
  }
  min(): number {
    return Math.min(...this.counts);
  }
  reached(at: number): Promise<void> {
    if (this.min() >= at) return Promise.resolve();
    let timer: ReturnType<typeof setTimeout>;
    return new Promise<void>((resolve, reject) => {
      this.#waiter = { at, resolve };
      timer = setTimeout(() => reject(new Error(`stuck at ${this.counts} of ${at}`)), WAIT_MS);
    }).finally(() => clearTimeout(timer));
  }
}

/** A hub endpoint, `spokes` dialled connections, and both sides of each. */
async function connect(spokes: number) {
  const hub = await bindEndpoint([ALPN]);
  const dialers = await Promise.all(Array.from({ length: spokes }, () => bindEndpoint()));
  const pairs: { spoke: Iroh.Connection; hub: Iroh.Connection }[] = [];
  for (const dialer of dialers) {
    const accepted = hub.acceptNext().then((incoming) => incoming!.accept()).then((a) =>
      a.connect()
    );
    pairs.push({ spoke: await dialer.connect(hub.addr(), ALPN), hub: await accepted });
  }
  return {
    pairs,
    async close() {
      await Promise.all(dialers.map((dialer) => dialer.close()));
      await hub.close();
    },
  };
}

/** The library: spoke targets to a hub target, or a hub target to spoke targets. */
async function library(direction: "one" | "fanout", n: number): Promise<number> {
  const spokes = direction === "one" ? 1 : SPOKES;
  const net = await connect(spokes);
  const progress = new Progress(direction === "one" ? 1 : spokes);
  const hub = createIrohHubEventTarget();
  const targets = net.pairs.map(({ spoke, hub: accepted }, i) => {
    const target = createIrohSpokeEventTarget(spoke);
    hub.addConnection(accepted);
    if (direction === "fanout") target.addEventListener("bench:*", () => progress.add(i));
    return target;
  });
  if (direction === "one") hub.addEventListener("bench:*", () => progress.add(0));
  while (hub.connections.size < spokes) await new Promise((resolve) => setTimeout(resolve, 1));
  const sender = direction === "one" ? targets[0] : hub;
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    if (i % BURST === 0) await progress.reached(i - 2 * BURST);
    sender.dispatchEvent(createEnvelopeEvent("bench", String(i), PAYLOAD));
  }
  await progress.reached(n);
  const seconds = (performance.now() - started) / 1000;
  await hub.close();
  await net.close();
  return n / seconds;
}

/** A write queue per stream, one writeAll at a time, coalescing up to 64 KiB: the floor. */
function writer(send: Iroh.SendStream) {
  const lines: string[] = [];
  let pumping = false;
  async function pump() {
    while (lines.length) {
      const batch = lines.splice(0, 640); // 640 lines of ~100 bytes: 64 KiB
      await send.writeAll(toBytes(batch.join("")));
    }
    pumping = false;
  }
  return (line: string) => {
    lines.push(line);
    if (!pumping) {
      pumping = true;
      pump();
    }
  };
}

/** Reads lines and parses each, as any reader of the protocol must. */
async function reader(recv: Iroh.RecvStream, onLine: () => void) {
  let rest = "";
  for (;;) {
    const chunk = await recv.read(64 * 1024).catch(() => []);
    if (chunk.length === 0) return;
    const lines = (rest + decoder.decode(new Uint8Array(chunk), { stream: true })).split("\n");
    rest = lines.pop()!;
    for (const line of lines) if (line !== "") JSON.parse(line) && onLine();
  }
}

/** The same lines with no library: JSON once, a write queue per stream, a reader that parses. */
async function byHand(direction: "one" | "fanout", n: number): Promise<number> {
  const spokes = direction === "one" ? 1 : SPOKES;
  const net = await connect(spokes);
  const progress = new Progress(spokes);
  const streams = await Promise.all(net.pairs.map(async ({ spoke, hub }) => {
    const opened = await spoke.openBi();
    await opened.send.writeAll([10]);
    return { opened, accepted: await hub.acceptBi() };
  }));
  // One stream: the spoke writes, the hub reads. Fan-out: the hub writes to every spoke.
  const writes = streams.map(({ opened, accepted }) =>
    writer(direction === "one" ? opened.send : accepted.send)
  );
  streams.forEach(({ opened, accepted }, i) =>
    reader(direction === "one" ? accepted.recv : opened.recv, () => progress.add(i))
  );
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    if (i % BURST === 0) await progress.reached(i - 2 * BURST);
    const line = JSON.stringify({ type: "bench", id: String(i), payload: PAYLOAD }) + "\n";
    for (const write of writes) write(line);
  }
  await progress.reached(n);
  const seconds = (performance.now() - started) / 1000;
  for (const { spoke } of net.pairs) spoke.close(0n, []);
  await net.close();
  return n / seconds;
}

/** Milliseconds per MiB to make a `number[]` of a string's bytes, and to read one back. */
function conversions(): { write: number; read: number; from: number } {
  const text = JSON.stringify({ type: "bench", id: "1", payload: PAYLOAD }).repeat(10_000);
  const mib = encoder.encode(text).length / (1024 * 1024);
  const time = (work: () => unknown) => {
    const started = performance.now();
    for (let i = 0; i < 10; i++) work();
    return (performance.now() - started) / 10 / mib;
  };
  const array = toBytes(text);
  return {
    write: time(() => toBytes(text)),
    from: time(() => Array.from(encoder.encode(text))),
    read: time(() => decoder.decode(new Uint8Array(array))),
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
const rate = (value: number) => Math.round(value).toLocaleString("en-US");

const samples: Record<string, number[]> = {};
const record = (key: string, value: number) => (samples[key] ??= []).push(value);
for (let round = 1; round <= ROUNDS; round++) {
  log(`iroh round ${round}/${ROUNDS}`);
  // Turn by turn, so that drift on a shared machine hits both alike.
  record("one library", await library("one", ONE_STREAM));
  record("one hand", await byHand("one", ONE_STREAM));
  record("fanout library", await library("fanout", FANOUT));
  record("fanout hand", await byHand("fanout", FANOUT));
}
const convert = conversions();

const oneLib = median(samples["one library"]);
const oneHand = median(samples["one hand"]);
const fanLib = median(samples["fanout library"]);
const fanHand = median(samples["fanout hand"]);
console.log(`### iroh (one QUIC stream per peer, Deno ${Deno.version.deno}, @number0/iroh)

| what | envelopes | library, envelopes/s | by hand, envelopes/s | library / by hand |
| --- | ---: | ---: | ---: | ---: |
| one stream, spoke to hub | ${ONE_STREAM} | ${rate(oneLib)} | ${rate(oneHand)} | ${
  (oneLib / oneHand).toFixed(2)
} |
| fan-out to ${SPOKES} spokes (deliveries/s) | ${FANOUT} × ${SPOKES} | ${rate(fanLib * SPOKES)} | ${
  rate(fanHand * SPOKES)
} | ${(fanLib / fanHand).toFixed(2)} |

Envelopes of about 100 bytes, medians of ${ROUNDS} rounds, library and by hand in turns on the same
machine. "By hand" is the floor: the same JSON lines, one coalescing write queue per stream, a reader
that splits and parses. Every byte crosses iroh's bindings as a \`number[]\`: building one costs
${convert.write.toFixed(1)} ms per MiB with a plain loop (${
  convert.from.toFixed(1)
} ms with \`Array.from\`), reading one back
${convert.read.toFixed(1)} ms per MiB, both paid on each side of every stream.`);
