// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// Helpers for the suites that run on Node and Bun against the installed npm
// package (see scripts/npm_consumer.ts): waits that always end, and a peer
// that completes the WebSocket handshake and then never reads.

import { connect } from "node:net";

/** How long any single wait in a test may take before it fails. */
export const WAIT_MS = 5_000;

/** Resolves with `promise`, or rejects after `ms` naming what was awaited. */
export function within(promise, what, ms = WAIT_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The next event named `name` on `target`. */
export function nextEvent(target, name, ms = WAIT_MS) {
  return within(
    new Promise((resolve) => target.addEventListener(name, resolve, { once: true })),
    `"${name}"`,
    ms,
  );
}

/** Waits until `condition()` holds, checking every few milliseconds. */
export async function until(condition, what, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Lets pending socket events run; used before asserting that nothing arrived. */
export function settle(ms = 100) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Collects the `detail` of every event named `name` on `target`. */
export function collect(target, name) {
  const seen = [];
  target.addEventListener(name, (event) => seen.push(event.detail));
  return seen;
}

/**
 * A peer that cannot keep up: a raw TCP socket on 127.0.0.1:`port` that
 * completes the WebSocket upgrade and then never reads again, so whatever the
 * server sends piles up in the kernel's buffers and then in the server's.
 *
 * @returns The socket, and `ended()`: whether the server has closed the TCP connection.
 */
export async function slowReader(port) {
  const socket = connect({ host: "127.0.0.1", port });
  let closed = false;
  socket.on("close", () => (closed = true));
  socket.on("error", () => {});
  await within(new Promise((resolve) => socket.once("connect", resolve)), "the slow reader's TCP");
  socket.write(
    "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  let head = "";
  await within(
    new Promise((resolve, reject) => {
      const onData = (chunk) => {
        head += chunk.toString("latin1");
        if (!head.includes("\r\n\r\n")) return;
        socket.off("data", onData);
        // Never read again: the socket's buffer fills, then the kernel's, then the server's.
        socket.pause();
        if (head.startsWith("HTTP/1.1 101")) resolve();
        else reject(new Error(`the upgrade was refused: ${head.split("\r\n")[0]}`));
      };
      socket.on("data", onData);
    }),
    "the slow reader's upgrade",
  );
  return { socket, ended: () => closed };
}
