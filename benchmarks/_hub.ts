// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// One benchmark hub: `<deno run -A | node | bun> benchmarks/_hub.ts <kind> [<library>]`.
// It listens on 127.0.0.1 and a free port, prints `{"port":N}` once, and is
// driven by the load process over /control (see _protocol.ts). Kinds:
//
//   raw            no library: a Set of sockets, each envelope serialised once,
//                  JSON.parse + a callback for what arrives
//   lib            @alkdev/pubsub: from the source on Deno, from npm/esm on Node
//                  and Bun (hub.addConnection; hub.addCallbackConnection on Bun)
//   socketio       socket.io 4 on Node: io.emit / socket.on
//   publish        Bun's native server.publish, spokes subscribed in open
//   lib-broadcast  the library on Bun with `broadcast: server.publish`
//
// The servers are each runtime's own: Deno.serve, Node http + `ws`, Bun.serve.

import { createRequire } from "node:module";
import process from "node:process";
import { setImmediate } from "node:timers";
import {
  BENCH_TYPE,
  CONTROL_PATH,
  type ControlReply,
  type ControlRequest,
  payloadOf,
  REPLY_TYPE,
  REQUEST_TYPE,
} from "./_protocol.ts";

type Runtime = "deno" | "node" | "bun";
const runtime: Runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const kind = process.argv[2];
const KINDS: Record<Runtime, string[]> = {
  deno: ["raw", "lib"],
  node: ["raw", "lib", "socketio"],
  bun: ["raw", "lib", "publish", "lib-broadcast"],
};
if (!KINDS[runtime].includes(kind)) {
  throw new Error(`unknown hub kind "${kind}" on ${runtime}: use one of ${KINDS[runtime]}`);
}

// The sender hands out batches of about this many bytes in all, then lets the
// sockets drain until no spoke has more than LOW_WATER bytes waiting, as a real
// server would: a library spoke past maxBufferedAmount (4 MiB) is cut off, and
// Bun drops messages past its backpressure limit.
const BATCH_BYTES = 1024 * 1024;
const LOW_WATER = 512 * 1024;

/** What a contender does for the benchmark; each runtime's server feeds it its spokes. */
interface Contender {
  /** How many spokes have joined the fan-out. */
  count(): number;
  /** Sends envelope number `i` to every spoke. */
  publish(i: number, payload: unknown): void;
  /** The most bytes waiting to be sent to any one spoke. */
  waiting(): number;
}

// --- Counting what arrives (aggregation) ----------------------------------

let counted = 0;
let expected = Infinity;
let onCounted = () => {};

/** The callback every contender calls once per envelope that arrives. */
function received(_envelope: unknown): void {
  if (++counted === expected) onCounted();
}

/** The raw baseline for one incoming text frame: JSON.parse and a callback, plus the reply. */
function rawMessage(text: string, reply: (text: string) => void): void {
  const envelope = JSON.parse(text);
  received(envelope);
  if (envelope.type === REQUEST_TYPE) {
    reply(JSON.stringify({ type: REPLY_TYPE, id: envelope.id, payload: envelope.payload }));
  }
}

/** The raw baseline's fan-out: serialise once, send in a loop. */
function rawPublish<S>(sockets: Set<S>, send: (socket: S, text: string) => void) {
  return (i: number, payload: unknown) => {
    const text = JSON.stringify({ type: BENCH_TYPE, id: String(i), payload });
    for (const socket of sockets) send(socket, text);
  };
}

function mostWaiting<S>(sockets: Iterable<S>, bytes: (socket: S) => number): number {
  let most = 0;
  for (const socket of sockets) most = Math.max(most, bytes(socket));
  return most;
}

// --- The library ------------------------------------------------------------

type Server = typeof import("../server.ts");
type Envelope = typeof import("../envelope.ts");

/**
 * The library from the source on Deno, from the npm build (what users install)
 * elsewhere; run.ts passes copies of both (the folder of the sources, or of the
 * npm package) in the second argument.
 */
async function library(): Promise<Server & Envelope> {
  const folder = process.argv[3] ??
    new URL(runtime === "deno" ? ".." : "../npm", import.meta.url).pathname;
  const at = (name: string) =>
    `file://${folder.replace(/\/?$/, "/")}${runtime === "deno" ? `${name}.ts` : `esm/${name}.js`}`;
  return { ...await import(at("server")), ...await import(at("envelope")) };
}

async function libraryHub(broadcast?: (text: string) => void) {
  const lib = await library();
  const hub = lib.createWebSocketServerEventTarget({ broadcast });
  hub.addEventListener("*", (event) => received(event.detail));
  hub.addEventListener(`${REQUEST_TYPE}:*`, (event) => {
    event.source.dispatchEvent(
      lib.createEnvelopeEvent(REPLY_TYPE, event.detail.id, event.detail.payload),
    );
  });
  const publish = (i: number, payload: unknown) => {
    hub.dispatchEvent(lib.createEnvelopeEvent(BENCH_TYPE, String(i), payload));
  };
  return { hub, publish };
}

// --- Control ----------------------------------------------------------------

function gc(): void {
  const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
  const v8gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) bun ? bun.gc(true) : v8gc?.();
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function fanout(contender: Contender, m: number, size: number): Promise<number> {
  const payload = payloadOf(size);
  const frame = JSON.stringify({ type: BENCH_TYPE, id: String(m), payload }).length;
  const batch = Math.max(1, Math.floor(BATCH_BYTES / (frame * Math.max(1, contender.count()))));
  const started = performance.now();
  for (let i = 0; i < m;) {
    const end = Math.min(m, i + batch);
    for (; i < end; i++) contender.publish(i, payload);
    await tick();
    while (contender.waiting() > LOW_WATER) await sleep(1);
  }
  return performance.now() - started;
}

/** Answers one control request; `send` writes a reply to the control socket. */
async function control(
  contender: Contender,
  text: string,
  send: (text: string) => void,
): Promise<void> {
  const reply = (message: ControlReply) => send(JSON.stringify(message));
  const request = JSON.parse(text) as ControlRequest;
  switch (request.op) {
    case "count":
      return reply({ op: "count", count: contender.count() });
    case "fanout":
      return reply({ op: "sent", ms: await fanout(contender, request.m, request.size) });
    case "expect": {
      counted = 0;
      expected = request.total;
      const started = performance.now();
      onCounted = () => reply({ op: "counted", ms: performance.now() - started });
      return reply({ op: "expecting" });
    }
    case "cpu": {
      const { user, system } = process.cpuUsage();
      return reply({ op: "cpu", micros: user + system });
    }
    case "memory": {
      gc();
      const { rss, heapUsed } = process.memoryUsage();
      return reply({ op: "memory", rss, heap: heapUsed });
    }
  }
}

// --- Deno: Deno.serve ---------------------------------------------------------

async function denoHub(): Promise<number> {
  const sockets = new Set<WebSocket>();
  let add: (socket: WebSocket) => void;
  let contender: Contender;
  const waiting = () => mostWaiting(sockets, (socket) => socket.bufferedAmount);
  if (kind === "raw") {
    add = (socket) => {
      socket.onopen = () => sockets.add(socket);
      socket.onmessage = (event) => rawMessage(event.data, (text) => socket.send(text));
      socket.onclose = () => sockets.delete(socket);
    };
    contender = {
      count: () => sockets.size,
      publish: rawPublish(sockets, (socket, text) => socket.send(text)),
      waiting,
    };
  } else {
    const { hub, publish } = await libraryHub();
    add = (socket) => {
      // The bench's own bookkeeping, only to pace the sender.
      socket.addEventListener("open", () => sockets.add(socket));
      socket.addEventListener("close", () => sockets.delete(socket));
      hub.addConnection(socket);
    };
    contender = { count: () => hub.connections.size, publish, waiting };
  }
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    if (new URL(request.url).pathname === CONTROL_PATH) {
      socket.onmessage = (event) => control(contender, event.data, (text) => socket.send(text));
    } else add(socket);
    return response;
  });
  return server.addr.port;
}

// --- Node: http + ws, or socket.io ---------------------------------------------

/** The part of a `ws` socket the hub uses. */
interface NodeSocket {
  readonly bufferedAmount: number;
  send(text: string): void;
  on(name: "message", listener: (data: { toString(): string }) => void): void;
  on(name: "close", listener: () => void): void;
}

/** The part of a socket.io server socket the hub uses. */
interface IoSocket {
  on(name: string, listener: (envelope: unknown) => void): void;
  emit(name: string, envelope: unknown): void;
  conn: { writeBuffer: unknown[]; transport: { socket?: { bufferedAmount: number } } };
}

async function nodeHub(): Promise<number> {
  const http = await import("node:http");
  const require = createRequire(new URL("../.tools/package.json", import.meta.url));
  const { WebSocketServer } = require("ws");
  const server = http.createServer();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const sockets = new Set<NodeSocket>();
  let add = (_socket: NodeSocket) => {};
  let contender: Contender;
  const waiting = () => mostWaiting(sockets, (socket) => socket.bufferedAmount);
  if (kind === "raw") {
    add = (socket) => {
      sockets.add(socket);
      socket.on("message", (data) => rawMessage(data.toString(), (text) => socket.send(text)));
      socket.on("close", () => sockets.delete(socket));
    };
    contender = {
      count: () => sockets.size,
      publish: rawPublish(sockets, (socket, text) => socket.send(text)),
      waiting,
    };
  } else if (kind === "lib") {
    const { hub, publish } = await libraryHub();
    add = (socket) => hub.addConnection(socket as unknown as WebSocket);
    // ws's own set of clients paces the sender: no bookkeeping of the bench's in the memory figures.
    const clients = wss.clients as Set<NodeSocket>;
    contender = {
      count: () => hub.connections.size,
      publish,
      waiting: () => mostWaiting(clients, (socket) => socket.bufferedAmount),
    };
  } else {
    const { Server } = require("socket.io");
    // destroyUpgrade: false leaves /control to the ws server below.
    const io = new Server(server, {
      transports: ["websocket"],
      serveClient: false,
      destroyUpgrade: false,
    });
    const ioSockets = io.sockets.sockets as Map<string, IoSocket>;
    io.on("connection", (socket: IoSocket) => {
      socket.on(BENCH_TYPE, received);
      socket.on(REQUEST_TYPE, (envelope) => {
        received(envelope);
        const { id, payload } = envelope as { id: string; payload: unknown };
        socket.emit(REPLY_TYPE, { type: REPLY_TYPE, id, payload });
      });
    });
    let frame = 0;
    contender = {
      count: () => ioSockets.size,
      publish: (i, payload) => {
        const envelope = { type: BENCH_TYPE, id: String(i), payload };
        if (i === 0) frame = JSON.stringify(envelope).length;
        io.emit(BENCH_TYPE, envelope);
      },
      // socket.io holds packets in writeBuffer while a write is in flight.
      waiting: () =>
        mostWaiting(
          ioSockets.values(),
          ({ conn }) =>
            conn.writeBuffer.length * frame + (conn.transport.socket?.bufferedAmount ?? 0),
        ),
    };
  }
  server.on("upgrade", (request, socket, head) => {
    const isControl = new URL(request.url!, "http://127.0.0.1").pathname === CONTROL_PATH;
    if (kind === "socketio" && !isControl) return; // socket.io's own upgrade
    wss.handleUpgrade(request, socket, head, (ws: NodeSocket) => {
      if (!isControl) return add(ws);
      ws.on("message", (data) => control(contender, data.toString(), (text) => ws.send(text)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as { port: number }).port;
}

// --- Bun: Bun.serve ------------------------------------------------------------

/** The part of Bun's ServerWebSocket the hub uses. */
interface BunSocket {
  data: {
    control: boolean;
    spoke?: { message(data: unknown): void; closed(code?: number, reason?: string): void };
  };
  send(text: string): number;
  subscribe(topic: string): void;
  getBufferedAmount(): number;
  close(code?: number, reason?: string): void;
  readonly readyState: number;
}

interface BunServer {
  port: number;
  upgrade(request: Request, options: { data: BunSocket["data"] }): boolean;
  publish(topic: string, text: string): number;
}

interface BunApi {
  serve(options: {
    hostname: string;
    port: number;
    fetch(request: Request, server: BunServer): Response | undefined;
    websocket: {
      perMessageDeflate: boolean;
      open(ws: BunSocket): void;
      message(ws: BunSocket, message: string | Uint8Array): void;
      close(ws: BunSocket, code: number, reason: string): void;
    };
  }): BunServer;
}

async function bunHub(): Promise<number> {
  const Bun = (globalThis as unknown as { Bun: BunApi }).Bun;
  const sockets = new Set<BunSocket>();
  const subscribe = kind === "publish" || kind === "lib-broadcast";
  let onOpen: (ws: BunSocket) => void;
  let onMessage: (ws: BunSocket, message: string | Uint8Array) => void;
  let contender: Contender;
  const waiting = () => mostWaiting(sockets, (ws) => ws.getBufferedAmount());
  if (kind === "raw" || kind === "publish") {
    onOpen = () => {};
    onMessage = (ws, message) => rawMessage(String(message), (text) => ws.send(text));
    contender = {
      count: () => sockets.size,
      publish: kind === "raw"
        ? rawPublish(sockets, (ws, text) => ws.send(text))
        : (i, payload) =>
          server.publish(BENCH_TYPE, JSON.stringify({ type: BENCH_TYPE, id: String(i), payload })),
      waiting,
    };
  } else {
    const broadcast = subscribe
      ? (text: string) => void server.publish(BENCH_TYPE, text)
      : undefined;
    const { hub, publish } = await libraryHub(broadcast);
    onOpen = (ws) => (ws.data.spoke = hub.addCallbackConnection(ws));
    onMessage = (ws, message) => ws.data.spoke!.message(message);
    contender = { count: () => hub.connections.size, publish, waiting };
  }
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request, bun) {
      const isControl = new URL(request.url).pathname === CONTROL_PATH;
      if (bun.upgrade(request, { data: { control: isControl } })) return undefined;
      return new Response("WebSocket only", { status: 400 });
    },
    websocket: {
      perMessageDeflate: false,
      open(ws) {
        if (ws.data.control) return;
        sockets.add(ws);
        if (subscribe) ws.subscribe(BENCH_TYPE);
        onOpen(ws);
      },
      message(ws, message) {
        if (ws.data.control) control(contender, String(message), (text) => void ws.send(text));
        else onMessage(ws, message);
      },
      close(ws, code, reason) {
        sockets.delete(ws);
        ws.data.spoke?.closed(code, reason);
      },
    },
  });
  return server.port;
}

const port = await { deno: denoHub, node: nodeHub, bun: bunHub }[runtime]();
process.stdout.write(JSON.stringify({ port }) + "\n");
// run.ts ends a hub by closing its stdin: a normal exit, so a --cpu-prof profile is written.
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
