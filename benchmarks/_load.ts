// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// The load process: `node benchmarks/_load.ts '<LoadPlan as JSON>'`. It opens the
// spokes (plain `ws` clients, or socket.io-client for socket.io), drives the hub
// over /control, times every step on its own clock and prints one line of JSON,
// `{ results }` or `{ error }`. Progress goes to stderr.
//
// The spokes do as little as they can, so that the hub is what is measured: a
// fan-out spoke counts frames and parses only the last one (to check it), `ws`
// skips UTF-8 validation, an all-zero mask spares `ws` the masking pass, and an
// aggregating spoke corks its socket around its burst. socket.io's spokes
// decode every packet and send each one alone, as socket.io-client does.

import { createRequire } from "node:module";
import process from "node:process";
import {
  BENCH_TYPE,
  CONTROL_PATH,
  type ControlReply,
  type ControlRequest,
  type LoadPlan,
  payloadOf,
  REPLY_TYPE,
  REQUEST_TYPE,
  type Step,
  type StepResult,
} from "./_protocol.ts";

const plan = JSON.parse(process.argv[2]) as LoadPlan;
const require = createRequire(new URL("../.tools/package.json", import.meta.url));

/** The part of a `ws` client the load uses. */
interface WsClient {
  /** The TCP socket below (internal to ws, stable for years). */
  _socket: { cork(): void; uncork(): void };
  send(text: string): void;
  close(): void;
  on(name: "open", listener: () => void): void;
  on(name: "message", listener: (data: Uint8Array) => void): void;
  on(name: "error", listener: (error: Error) => void): void;
}

/** The part of a socket.io client socket the load uses. */
interface IoClient {
  emit(name: string, envelope: unknown): void;
  on(name: string, listener: (value: never) => void): void;
  disconnect(): void;
}

const { WebSocket } = require("ws") as {
  WebSocket: new (url: string, options: Record<string, unknown>) => WsClient;
};
const { io } = require("socket.io-client") as {
  io: (url: string, options: Record<string, unknown>) => IoClient;
};

interface Envelope {
  type: string;
  id: string;
  payload: { t: number };
}

/** One spoke, whatever it speaks: what arrives goes to `handler`, decoded only on demand. */
interface Spoke {
  handler: (message: unknown) => void;
  decode(message: unknown): Envelope;
  send(envelope: Envelope | Record<string, unknown>, text: string): void;
  /** Sends the same envelope `k` times, as fast as the spoke can. */
  sendMany(envelope: Record<string, unknown>, text: string, k: number): void;
  close(): void;
}

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${plan.timeoutMs} ms waiting for ${what}`)),
      plan.timeoutMs,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const WS_OPTIONS = {
  perMessageDeflate: false,
  skipUTF8Validation: true,
  generateMask: (mask: Uint8Array) => mask.fill(0),
};

function connectWs(): Promise<Spoke> {
  const ws = new WebSocket(plan.url, WS_OPTIONS);
  const spoke: Spoke = {
    handler: () => {},
    decode: (message) => JSON.parse(String(message)),
    send: (_, text) => ws.send(text),
    // Corked, the frames leave in a few large writes instead of a system call each,
    // so that the hub, not the spokes' sending, sets the pace.
    sendMany(_, text, k) {
      ws._socket.cork();
      for (let i = 0; i < k; i++) ws.send(text);
      ws._socket.uncork();
    },
    close: () => ws.close(),
  };
  ws.on("message", (data) => spoke.handler(data));
  return new Promise((resolve, reject) => {
    ws.on("open", () => resolve(spoke));
    ws.on("error", reject);
  });
}

function connectIo(): Promise<Spoke> {
  const socket = io(plan.url, { transports: ["websocket"], forceNew: true, reconnection: false });
  const spoke: Spoke = {
    handler: () => {},
    decode: (message) => message as Envelope,
    send: (envelope) => socket.emit((envelope as Envelope).type, envelope),
    sendMany(envelope, _, k) {
      for (let i = 0; i < k; i++) socket.emit(envelope.type as string, envelope);
    },
    close: () => socket.disconnect(),
  };
  socket.on(BENCH_TYPE, (envelope) => spoke.handler(envelope));
  socket.on(REPLY_TYPE, (envelope) => spoke.handler(envelope));
  return new Promise((resolve, reject) => {
    socket.on("connect", () => resolve(spoke));
    socket.on("connect_error", reject);
  });
}

/** The control socket: one request at a time per reply name. */
async function openControl() {
  const ws = new WebSocket(plan.url + CONTROL_PATH, { perMessageDeflate: false });
  const waiters = new Map<string, ((reply: ControlReply) => void)[]>();
  ws.on("message", (data) => {
    const reply = JSON.parse(String(data)) as ControlReply;
    waiters.get(reply.op)?.shift()?.(reply);
  });
  await new Promise<void>((resolve, reject) => {
    ws.on("open", resolve);
    ws.on("error", reject);
  });
  return {
    /** The next reply named `op`, listened for before anything is sent. */
    next<O extends ControlReply["op"]>(op: O): Promise<Extract<ControlReply, { op: O }>> {
      return within(
        new Promise((resolve) => {
          const queue = waiters.get(op) ?? [];
          queue.push(resolve as (reply: ControlReply) => void);
          waiters.set(op, queue);
        }),
        `the hub's "${op}"`,
      );
    },
    send(request: ControlRequest): void {
      ws.send(JSON.stringify(request));
    },
    close: () => ws.close(),
  };
}

const control = await openControl();
const connect = plan.protocol === "ws" ? connectWs : connectIo;
const spokes: Spoke[] = [];

async function hubCount(): Promise<number> {
  const reply = control.next("count");
  control.send({ op: "count" });
  return (await reply).count;
}

/** The hub's CPU time so far, in microseconds. */
async function hubCpu(): Promise<number> {
  const reply = control.next("cpu");
  control.send({ op: "cpu" });
  return (await reply).micros;
}

async function resize(n: number): Promise<void> {
  while (spokes.length > n) spokes.pop()!.close();
  // A few at a time, so the listen backlog never overflows into SYN retries.
  while (spokes.length < n) {
    const batch = Math.min(50, n - spokes.length);
    spokes.push(...await within(Promise.all(Array.from({ length: batch }, connect)), "spokes"));
  }
  const deadline = performance.now() + plan.timeoutMs;
  while (await hubCount() !== n) {
    if (performance.now() > deadline) throw new Error(`the hub never held ${n} spokes`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

type Result<K extends StepResult["kind"]> = Extract<StepResult, { kind: K }>;

async function fanout(step: Extract<Step, { kind: "fanout" }>): Promise<Result<"fanout">> {
  const { m, size } = step;
  const n = spokes.length;
  let remaining = n * m;
  const wrong: string[] = [];
  const counts = spokes.map(() => 0);
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  spokes.forEach((spoke, index) => {
    spoke.handler = (message) => {
      if (++counts[index] === m) {
        const { type, id } = spoke.decode(message);
        if (type !== BENCH_TYPE || id !== String(m - 1)) wrong.push(`${type}:${id}`);
      }
      if (--remaining === 0) done();
    };
  });
  const cpu = await hubCpu();
  const sent = control.next("sent");
  const started = performance.now();
  control.send({ op: "fanout", m, size });
  await within(all, `${n * m} deliveries`);
  const seconds = (performance.now() - started) / 1000;
  const { ms } = await sent;
  const hubCpuPer = (await hubCpu() - cpu) / (n * m);
  if (wrong.length || counts.some((count) => count !== m)) {
    throw new Error(`fan-out delivered wrongly: last envelopes ${wrong}, counts ${counts}`);
  }
  return {
    kind: "fanout",
    n,
    size,
    m,
    perSecond: (n * m) / seconds,
    sendMs: ms,
    hubCpu: hubCpuPer,
  };
}

async function aggregate(step: Extract<Step, { kind: "aggregate" }>): Promise<Result<"aggregate">> {
  const { k } = step;
  const n = spokes.length;
  const expecting = control.next("expecting");
  control.send({ op: "expect", total: n * k });
  await expecting;
  const cpu = await hubCpu();
  const counted = control.next("counted");
  const envelope = { type: BENCH_TYPE, id: "from-spoke", payload: payloadOf(64) };
  const text = JSON.stringify(envelope);
  const started = performance.now();
  for (const spoke of spokes) spoke.sendMany(envelope, text, k);
  await counted;
  const seconds = (performance.now() - started) / 1000;
  const hubCpuPer = (await hubCpu() - cpu) / (n * k);
  return { kind: "aggregate", n, k, perSecond: (n * k) / seconds, hubCpu: hubCpuPer };
}

async function roundtrip(step: Extract<Step, { kind: "roundtrip" }>): Promise<StepResult> {
  const { rate, seconds, warmupSeconds } = step;
  const n = spokes.length;
  const latencies: number[] = [];
  let sent = 0;
  let answered = 0;
  let misrouted = 0;
  const cpu = await hubCpu();
  const started = performance.now();
  const measureFrom = started + warmupSeconds * 1000;
  const total = Math.round((warmupSeconds + seconds) * rate);
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  spokes.forEach((spoke, index) => {
    spoke.handler = (message) => {
      const { type, id, payload } = spoke.decode(message);
      if (type !== REPLY_TYPE || Number(id.slice(0, id.indexOf("."))) !== index) misrouted++;
      if (payload.t >= measureFrom) latencies.push(performance.now() - payload.t);
      if (++answered === total) done();
    };
  });
  // Open loop: requests go out at the rate, whether or not replies keep up.
  const timer = setInterval(() => {
    const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1000));
    for (; sent < due; sent++) {
      const index = sent % n;
      const envelope = {
        type: REQUEST_TYPE,
        id: `${index}.${sent}`,
        payload: { t: performance.now() },
      };
      spokes[index].send(envelope, JSON.stringify(envelope));
    }
    if (sent === total) clearInterval(timer);
  }, 1);
  try {
    await within(all, `${total} replies`);
  } finally {
    clearInterval(timer);
  }
  const hubCpuPer = (await hubCpu() - cpu) / total;
  if (misrouted) throw new Error(`${misrouted} replies reached the wrong spoke`);
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return {
    kind: "roundtrip",
    n,
    rate,
    count: latencies.length,
    p50: at(0.5),
    p99: at(0.99),
    hubCpu: hubCpuPer,
  };
}

/**
 * Runs a measurement `repeat` times in a row and keeps the fastest: other work
 * on the machine only ever slows a run down, so the fastest is the steadiest.
 */
async function fastest<T extends { perSecond: number }>(
  repeat = 1,
  measure: () => Promise<T>,
): Promise<T> {
  let best = await measure();
  for (let i = 1; i < repeat; i++) {
    const next = await measure();
    if (next.perSecond > best.perSecond) best = next;
  }
  return best;
}

async function memory(step: Extract<Step, { kind: "memory" }>): Promise<StepResult> {
  // Let the hub settle after connections come or go before it collects.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const reply = control.next("memory");
  control.send({ op: "memory" });
  const { rss, heap } = await reply;
  return { kind: "memory", label: step.label, spokes: spokes.length, rss, heap };
}

const results: StepResult[] = [];
try {
  for (const step of plan.steps) {
    const started = performance.now();
    let result: StepResult | undefined;
    if (step.kind === "spokes") await resize(step.n);
    else if (step.kind === "memory") result = await memory(step);
    else if (step.kind === "fanout") result = await fastest(step.repeat, () => fanout(step));
    else if (step.kind === "aggregate") {
      result = await fastest(step.repeat, () => aggregate(step));
    } else result = await roundtrip(step);
    const warmup = "warmup" in step && step.warmup;
    if (result && !warmup) results.push(result);
    process.stderr.write(
      `  ${JSON.stringify(step)} ${((performance.now() - started) / 1000).toFixed(2)}s\n`,
    );
  }
  process.stdout.write(JSON.stringify({ results }) + "\n");
} catch (error) {
  process.stdout.write(JSON.stringify({ error: String((error as Error)?.stack ?? error) }) + "\n");
} finally {
  for (const spoke of spokes) spoke.close();
  control.close();
  // Closing handshakes are not worth waiting for; the hub is killed next.
  setTimeout(() => process.exit(0), 100);
}
