// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// Test helpers for the Deno suites: a real hub under Deno.serve, real spokes,
// and waits that always end, so a broken test fails in seconds.

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import {
  createWebSocketClientEventTarget,
  type CreateWebSocketClientEventTargetOptions,
} from "../client.ts";
import {
  createWebSocketServerEventTarget,
  type CreateWebSocketServerEventTargetOptions,
  type WebSocketServerEventTarget,
} from "../server.ts";
import type { AnyEnvelopeEvent, EventEnvelope, TypedEvent } from "../envelope.ts";
import type { ConnectionEventTarget } from "../client.ts";

/** How long any single wait in a test may take before it fails. */
export const WAIT_MS = 5_000;

/** Resolves with `promise`, or rejects after `ms` naming what was awaited. */
export function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The next event named `name` on `target`. */
export function nextEvent<T extends Event = Event>(
  target: EventTarget,
  name: string,
  ms = WAIT_MS,
): Promise<T> {
  return within(
    new Promise<T>((resolve) =>
      target.addEventListener(name, (event) => resolve(event as T), { once: true })
    ),
    `"${name}"`,
    ms,
  );
}

/** Waits until `condition()` holds, checking every few milliseconds. */
export async function until(condition: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Lets pending socket events run; used before asserting that nothing arrived. */
export function settle(ms = 100): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

let gc: (() => void) | undefined;

/**
 * Runs a full garbage collection, so that memory measured afterwards is what
 * is still reachable; `--expose-gc` is set here rather than on every test command.
 */
export function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc") as () => void;
  }
  gc();
}

/** Collects the `detail` of every event named `name` on `target`. */
export function collect<T = unknown>(target: EventTarget, name: string): T[] {
  const seen: T[] = [];
  target.addEventListener(name, (event) => seen.push((event as CustomEvent<T>).detail));
  return seen;
}

/** A hub under a real Deno.serve on 127.0.0.1 and a free port. */
export interface TestHub<TEvent extends TypedEvent = AnyEnvelopeEvent> {
  hub: WebSocketServerEventTarget<TEvent>;
  url: string;
  port: number;
  /** The hub side's own sockets, for frames sent below the library. */
  rawSockets: WebSocket[];
  /** Opens a real WebSocket spoke and waits until the hub has it. */
  connect(
    options?: CreateWebSocketClientEventTargetOptions,
  ): Promise<
    { spoke: ConnectionEventTarget<TEvent>; ws: WebSocket; onHub: ConnectionEventTarget<TEvent> }
  >;
  /** Opens a plain WebSocket, with no target of this package, and waits until the hub has it. */
  connectRaw(): Promise<{ ws: WebSocket; onHub: ConnectionEventTarget<TEvent> }>;
  /**
   * Opens a TCP connection and completes the WebSocket handshake by hand, then
   * reads nothing more: a peer that never reads, or that drops without a close frame.
   */
  connectTcp(): Promise<{ conn: Deno.TcpConn; onHub: ConnectionEventTarget<TEvent> }>;
  /** Closes the hub and the server, and waits for both. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** What a test may do as each upgrade is handed over. */
export interface StartHubSetup<TEvent extends TypedEvent = AnyEnvelopeEvent> {
  /** Called in the request handler with what `addConnection` returned, the socket still CONNECTING. */
  added?: (spoke: ConnectionEventTarget<TEvent>, socket: WebSocket) => void;
  /**
   * Serves each request instead of the default `Deno.upgradeWebSocket` +
   * `addConnection` handler (a framework's app that hands sockets to `hub`);
   * `added` and `rawSockets` then stay unused.
   */
  serve?: (
    hub: WebSocketServerEventTarget<TEvent>,
  ) => (request: Request) => Response | Promise<Response>;
  /** The path spokes connect to; `/` by default. */
  path?: string;
}

/** Starts a hub on Deno.serve; every upgrade is handed to `addConnection` unless `setup.serve` says otherwise. */
export function startHub<TEvent extends TypedEvent = AnyEnvelopeEvent>(
  options: CreateWebSocketServerEventTargetOptions<TEvent> = {},
  setup: StartHubSetup<TEvent> = {},
): TestHub<TEvent> {
  // A count and the last spoke only: a test of many spokes must not find them all kept here.
  let joined = 0;
  let lastJoined: ConnectionEventTarget<TEvent> | undefined;
  const rawSockets: WebSocket[] = [];
  const hub = createWebSocketServerEventTarget<TEvent>({
    ...options,
    onConnection: (spoke) => {
      joined++;
      lastJoined = spoke;
      options.onConnection?.(spoke);
    },
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    setup.serve?.(hub) ?? ((request) => {
      const { socket, response } = Deno.upgradeWebSocket(request);
      rawSockets.push(socket);
      const spoke = hub.addConnection(socket);
      setup.added?.(spoke, socket);
      return response;
    }),
  );
  const { port } = server.addr as Deno.NetAddr;
  const path = setup.path ?? "/";
  const url = `ws://127.0.0.1:${port}${path}`;
  const sockets: WebSocket[] = [];
  const conns: Deno.TcpConn[] = [];
  /** Waits until the hub has one more spoke than `before`, and returns it. */
  async function joinedAfter(before: number): Promise<ConnectionEventTarget<TEvent>> {
    await until(() => joined > before, "the hub has the spoke");
    return lastJoined!;
  }
  return {
    hub,
    url,
    port,
    rawSockets,
    async connect(clientOptions) {
      const before = joined;
      const ws = new WebSocket(url);
      sockets.push(ws);
      const spoke = createWebSocketClientEventTarget<TEvent>(ws, clientOptions);
      await nextEvent(spoke, "open");
      return { spoke, ws, onHub: await joinedAfter(before) };
    },
    async connectRaw() {
      const before = joined;
      const ws = new WebSocket(url);
      sockets.push(ws);
      await nextEvent(ws, "open");
      return { ws, onHub: await joinedAfter(before) };
    },
    async connectTcp() {
      const before = joined;
      const conn = await connectTcpWebSocket(port, path);
      conns.push(conn);
      return { conn, onHub: await joinedAfter(before) };
    },
    async [Symbol.asyncDispose]() {
      hub.close();
      for (const ws of sockets) {
        if (ws.readyState !== WebSocket.CLOSED) {
          const closed = new Promise((resolve) => ws.addEventListener("close", resolve));
          ws.close();
          await within(closed, "a spoke socket to close").catch(() => {});
        }
      }
      for (const conn of conns) {
        try {
          conn.close();
        } catch {
          // Closed by the test already.
        }
      }
      await server.shutdown();
    },
  };
}

/**
 * Opens a TCP connection to a WebSocket server on 127.0.0.1 and completes the
 * handshake by hand, reading the response head and nothing after it: the
 * caller decides whether the peer ever reads (or drops without a close frame).
 */
export async function connectTcpWebSocket(port: number, path = "/"): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    const request = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    await conn.write(new TextEncoder().encode(request));
    const buffer = new Uint8Array(1024);
    let head = "";
    while (!head.includes("\r\n\r\n")) {
      const n = await within(conn.read(buffer), "the handshake response");
      if (n === null) throw new Error(`the server closed during the handshake: ${head}`);
      head += new TextDecoder().decode(buffer.subarray(0, n));
    }
    if (!head.startsWith("HTTP/1.1 101")) throw new Error(`handshake refused: ${head}`);
    return conn;
  } catch (error) {
    conn.close();
    throw error;
  }
}

/**
 * Counts what a spoke receives of one type, checking that ids come as 0, 1,
 * 2…; `reached(n)` waits (bounded) until n have arrived.
 */
export function tally(spoke: EventTarget, type: string): {
  readonly count: number;
  readonly inOrder: boolean;
  reached(at: number): Promise<void>;
} {
  let count = 0;
  let inOrder = true;
  let waiting: { at: number; resolve: () => void } | undefined;
  spoke.addEventListener(`${type}:*`, (event) => {
    if ((event as CustomEvent<EventEnvelope>).detail.id !== String(count)) inOrder = false;
    count++;
    if (waiting && count >= waiting.at) waiting.resolve();
  });
  return {
    get count() {
      return count;
    },
    get inOrder() {
      return inOrder;
    },
    reached(at: number): Promise<void> {
      if (count >= at) return Promise.resolve();
      return within(
        new Promise((resolve) => (waiting = { at, resolve })),
        `${at} ${type} envelopes`,
      );
    },
  };
}

/** Events that every dispatchEvent refuses, with the TypeError message each gets. */
export function invalidEvents(): [string, Event, RegExp][] {
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  const event = (type: string, detail: unknown) => new CustomEvent(type, { detail });
  return [
    ["a plain Event", new Event("a:1"), /invalid envelope in 'detail'/],
    ["no type", event("x:1", { id: "1" }), /'type' must be a string/],
    ["an empty type", event(":1", { type: "", id: "1" }), /'type' must not be empty/],
    ["':' in type", event("a:b:1", { type: "a:b", id: "1" }), /must not contain ':'/],
    ["no id", event("a:1", { type: "a" }), /'id' must be a string/],
    ["an empty id", event("a:", { type: "a", id: "" }), /'id' must not be empty/],
    ["'*' as id", event("a:*", { type: "a", id: "*" }), /'id' must not be '\*'/],
    ["a wrong event type", event("a:2", { type: "a", id: "1" }), /must be the envelope's topic/],
    ["a BigInt", event("a:1", { type: "a", id: "1", payload: 1n }), /JSON cannot encode/],
    ["a cycle", event("a:1", { type: "a", id: "1", payload: cycle }), /JSON cannot encode/],
  ];
}
