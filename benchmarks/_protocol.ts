// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// What the benchmark processes say to each other. benchmarks/run.ts starts a hub
// (benchmarks/_hub.ts, one process per contender) and a load process
// (benchmarks/_load.ts, Node with `ws` or socket.io-client spokes). The load
// drives the hub over a control WebSocket at /control, which never goes through
// the contender, and times everything on its own clock. Deno, Node (type
// stripping) and Bun all run this file, so it holds only erasable TypeScript.

/** The path of the control socket on every hub. */
export const CONTROL_PATH = "/control";

/** The envelope type of fan-out and aggregation traffic. */
export const BENCH_TYPE = "bench";
/** The envelope types of the round trip. */
export const REQUEST_TYPE = "rt.req";
export const REPLY_TYPE = "rt.res";

/** What the load asks the hub over /control. */
export type ControlRequest =
  /** How many spokes the contender holds (joined its fan-out). */
  | { op: "count" }
  /** Send `m` envelopes with a payload of `size` bytes to every spoke. */
  | { op: "fanout"; m: number; size: number }
  /** Reset the envelope counter; answer `counted` when `total` envelopes have arrived. */
  | { op: "expect"; total: number }
  /** Collect garbage and report memory. */
  | { op: "memory" }
  /** The CPU time the hub process has used so far (all its threads). */
  | { op: "cpu" };

/** What the hub answers. */
export type ControlReply =
  | { op: "count"; count: number }
  | { op: "sent"; ms: number }
  | { op: "expecting" }
  | { op: "counted"; ms: number }
  | { op: "memory"; rss: number; heap: number }
  | { op: "cpu"; micros: number };

/** The steps of a load plan, in order; each that measures adds one result. */
export type Step =
  /** Grow or shrink to `n` spokes, and wait until the hub holds exactly that many. */
  | { kind: "spokes"; n: number }
  /** The hub's memory, after collecting garbage. */
  | { kind: "memory"; label: string }
  /**
   * The hub sends `m` envelopes to every spoke, `repeat` times (default 1) in a
   * row; the fastest counts. Not measured when `warmup`.
   */
  | { kind: "fanout"; m: number; size: number; repeat?: number; warmup?: boolean }
  /** Every spoke sends `k` envelopes, `repeat` times; the hub counts them; the fastest counts. */
  | { kind: "aggregate"; k: number; repeat?: number; warmup?: boolean }
  /** Requests at `rate` per second spread over the spokes, for `seconds` after `warmupSeconds`. */
  | { kind: "roundtrip"; rate: number; seconds: number; warmupSeconds: number };

/** What the load process is given (as JSON in its first argument). */
export interface LoadPlan {
  /** `ws://127.0.0.1:<port>` of the hub. */
  url: string;
  /** Spokes speak plain WebSocket text frames, or socket.io. */
  protocol: "ws" | "socket.io";
  steps: Step[];
  /** The most any single wait may take, in milliseconds. */
  timeoutMs: number;
}

/** One measured result, in the order of the plan's steps. */
export type StepResult =
  | { kind: "memory"; label: string; spokes: number; rss: number; heap: number }
  | {
    kind: "fanout";
    n: number;
    size: number;
    m: number;
    /** Deliveries (envelopes received by any spoke) per second, end to end. */
    perSecond: number;
    /** How long the hub's send loop took, in milliseconds. */
    sendMs: number;
    /** The hub's CPU time per delivery, in microseconds. */
    hubCpu: number;
  }
  | {
    kind: "aggregate";
    n: number;
    k: number;
    perSecond: number;
    /** The hub's CPU time per message, in microseconds. */
    hubCpu: number;
  }
  | {
    kind: "roundtrip";
    n: number;
    rate: number;
    count: number;
    p50: number;
    p99: number;
    /** The hub's CPU time per request, in microseconds. */
    hubCpu: number;
  };

/**
 * The payload of a fan-out envelope: an object whose JSON takes `size` bytes,
 * as an application's event would be, rather than one long string.
 */
export function payloadOf(size: number): { at: number; tags: string[]; data: string } {
  const base = { at: 1767225600000, tags: ["bench", "fanout"], data: "" };
  const fixed = JSON.stringify(base).length;
  return { ...base, data: "x".repeat(Math.max(0, size - fixed)) };
}
