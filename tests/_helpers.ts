// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// Test helpers for the Deno suites: a real hub under Deno.serve, real spokes,
// and waits that always end, so a broken test fails in seconds.

import {
  createWebSocketClientEventTarget,
  type CreateWebSocketClientEventTargetOptions,
} from "../client.ts";
import {
  createWebSocketServerEventTarget,
  type CreateWebSocketServerEventTargetOptions,
  type WebSocketServerEventTarget,
} from "../server.ts";
import type { AnyEnvelopeEvent, TypedEvent } from "../envelope.ts";
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
  /** Closes the hub and the server, and waits for both. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts a hub on Deno.serve; every upgrade is handed to `addConnection`. */
export function startHub<TEvent extends TypedEvent = AnyEnvelopeEvent>(
  options: CreateWebSocketServerEventTargetOptions<TEvent> = {},
): TestHub<TEvent> {
  const joined: ConnectionEventTarget<TEvent>[] = [];
  const rawSockets: WebSocket[] = [];
  const hub = createWebSocketServerEventTarget<TEvent>({
    ...options,
    onConnection: (spoke) => {
      joined.push(spoke);
      options.onConnection?.(spoke);
    },
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => {
      const { socket, response } = Deno.upgradeWebSocket(request);
      rawSockets.push(socket);
      hub.addConnection(socket);
      return response;
    },
  );
  const { port } = server.addr as Deno.NetAddr;
  const url = `ws://127.0.0.1:${port}`;
  const sockets: WebSocket[] = [];
  return {
    hub,
    url,
    port,
    rawSockets,
    async connect(clientOptions) {
      const before = joined.length;
      const ws = new WebSocket(url);
      sockets.push(ws);
      const spoke = createWebSocketClientEventTarget<TEvent>(ws, clientOptions);
      await nextEvent(spoke, "open");
      await until(() => joined.length > before, "the hub has the spoke");
      return { spoke, ws, onHub: joined[joined.length - 1] };
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
      await server.shutdown();
    },
  };
}
