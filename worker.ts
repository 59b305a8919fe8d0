// Copyright 2026 the @alkdev/pubsub authors. MIT license.
// This module is browser compatible.

/**
 * A symmetric target over `postMessage`: a `Worker`, a worker's own global
 * scope (`self`), either end of a `MessageChannel`, or a `BroadcastChannel`.
 * Envelopes move between threads, workers and tabs as JSON text, under the
 * same names and with the same checks and errors as every other target, so
 * code moves between a worker and a WebSocket unchanged.
 *
 * @example Two ends of a MessageChannel
 * ```ts
 * import { createWorkerEventTarget } from "@alkdev/pubsub/event-target-worker";
 * import { createEnvelopeEvent } from "@alkdev/pubsub/envelope";
 * import { deepEqual } from "node:assert/strict";
 *
 * const { port1, port2 } = new MessageChannel();
 * const left = createWorkerEventTarget(port1);
 * const right = createWorkerEventTarget(port2);
 * const arrived = new Promise((resolve) => right.addEventListener("*", (e) => resolve(e.detail)));
 * left.dispatchEvent(createEnvelopeEvent("job.run", "1", { n: 2 }));
 * deepEqual(await arrived, { type: "job.run", id: "1", payload: { n: 2 } });
 * left.close();
 * right.close();
 * ```
 *
 * @module
 */

import { ABNORMAL_CLOSURE, Connection, NORMAL_CLOSURE, positiveInteger } from "./_connection.ts";
import type { ConnectionEventTarget } from "./client.ts";
import { type AnyEnvelopeEvent, DEFAULT_MAX_MESSAGE_BYTES, type TypedEvent } from "./envelope.ts";

/**
 * What the worker target needs of a port: `postMessage` and `message`
 * events. A `Worker`, a worker's global scope, a `MessagePort` (browsers',
 * Deno's, Bun's, Node's `worker_threads` ports and `parentPort`) and a
 * `BroadcastChannel` all have it.
 */
export interface MessagePortLike {
  /** Posts a message to the other side. */
  postMessage(message: string): void;
  /** Listens for `message`, `messageerror` or `close`. */
  // deno-lint-ignore no-explicit-any
  addEventListener(type: string, listener: (event: any) => void): void;
  /** Stops a listener. */
  // deno-lint-ignore no-explicit-any
  removeEventListener(type: string, listener: (event: any) => void): void;
  /** A `MessagePort` delivers nothing to `addEventListener` listeners until started. */
  start?(): void;
  /** Closes a `MessagePort` or `BroadcastChannel`. */
  close?(): void;
}

/**
 * A worker target: a connection target whose connection is a port, open
 * from the start. Envelope and error events carry `source`: this target.
 *
 * @typeParam TEvent The union of envelope events it carries.
 */
export interface WorkerEventTarget<TEvent extends TypedEvent = AnyEnvelopeEvent>
  extends ConnectionEventTarget<TEvent> {
  /**
   * Stops listening, closes a `MessagePort` or `BroadcastChannel` (never a
   * `Worker` nor the worker's own scope: ending a worker is the caller's),
   * and fires `close` once with `{ code, reason, wasClean: true, unsent: 0 }`.
   * A port has no closing handshake, so nothing tells the other side, except
   * that where the platform reports a closed port (Node, Bun) the other end's
   * target closes too.
   *
   * @param code Goes only into this side's `close` detail.
   * @param reason Goes only into this side's `close` detail.
   */
  close(code?: number, reason?: string): void;
}

/** Options for {@linkcode createWorkerEventTarget}. */
export interface CreateWorkerEventTargetOptions {
  /**
   * The largest incoming message accepted, in UTF-8 bytes of its JSON text;
   * a message of exactly this size is accepted, a longer one fires `error`.
   *
   * @default {1048576}
   */
  maxMessageBytes?: number;
}

/**
 * Wraps a port in an event target. `dispatchEvent` posts the envelope's JSON
 * text to the other side (no local echo; the payload must be JSON-encodable,
 * a `Date` arrives as a string). What arrives is parsed and checked like a
 * WebSocket frame and fired on `<type>:<id>`, `<type>:*` and `*`. A message
 * that is no JSON text of an envelope (a posted object, say), or a
 * `messageerror`, fires `error` with `{ reason, data }` and nothing else.
 *
 * The port is open at once: there is no `open` event, nothing is queued, and
 * `unsent` is always 0. `postMessage` reports no backlog, so there is no
 * `maxBufferedAmount`: a receiver that falls behind grows the platform's
 * queue. The port belongs to the target from now on; give it a port of its
 * own (a `MessageChannel` is cheap). A `BroadcastChannel` reaches every other
 * channel of its name, so there it is a bus rather than a pair.
 *
 * `close` fires once: after `close()` (`wasClean` true, the code and reason
 * given, default 1000 and `""`), or when the platform reports that the other
 * end closed (Node's and Bun's `MessagePort`, Bun's `Worker`: code 1006,
 * `wasClean` false). Browsers and Deno do not report it; there a
 * `MessagePort` whose other end was closed drops what is posted to it.
 *
 * @typeParam TEvent The union of envelope events it carries (see `EnvelopeEvents`).
 * @param port A `Worker`, the worker's global scope, a `MessagePort` or a `BroadcastChannel`.
 * @param options The incoming size limit.
 * @returns The port's event target.
 * @throws {RangeError} When `maxMessageBytes` is not a positive integer.
 *
 * @example A worker that answers jobs
 * ```ts ignore
 * // main.ts
 * import { createWorkerEventTarget } from "@alkdev/pubsub/event-target-worker";
 * import { createEnvelopeEvent, type EnvelopeEvents } from "@alkdev/pubsub/envelope";
 *
 * type Events = EnvelopeEvents<{ "job.run": { n: number }; "job.done": { n: number } }>;
 * const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
 * const target = createWorkerEventTarget<Events>(worker);
 * target.addEventListener("job.done:*", ({ detail }) => console.log(detail.id, detail.payload.n));
 * target.dispatchEvent(createEnvelopeEvent("job.run", "1", { n: 21 }));
 *
 * // worker.ts
 * const jobs = createWorkerEventTarget<Events>(self);
 * jobs.addEventListener("job.run:*", ({ detail }) => {
 *   jobs.dispatchEvent(createEnvelopeEvent("job.done", detail.id, { n: detail.payload.n * 2 }));
 * });
 * ```
 */
export function createWorkerEventTarget<TEvent extends TypedEvent = AnyEnvelopeEvent>(
  port: MessagePortLike,
  options: CreateWorkerEventTargetOptions = {},
): WorkerEventTarget<TEvent> {
  const maxMessageBytes = positiveInteger(
    "maxMessageBytes",
    options.maxMessageBytes,
    DEFAULT_MAX_MESSAGE_BYTES,
  );
  const listeners = {
    message: ({ data }: { data: unknown }) => {
      if (typeof data === "string") connection.handleFrame(data);
      else {
        connection.handleTransportError(
          `message is not a string (got ${tagOf(data)}): envelopes travel as JSON text`,
        );
      }
    },
    messageerror: () =>
      connection.handleTransportError("messageerror: a message could not be deserialized"),
    // Node's and Bun's ports, and Bun's Worker, say when the other end is gone.
    close: () =>
      connection.handleClose(ABNORMAL_CLOSURE, "the other end of the port closed", false),
  };
  const connection = new Connection(
    {
      send(text) {
        port.postMessage(text);
        return true;
      },
      bufferedAmount: () => 0,
      closing: () => false,
      close(code = NORMAL_CLOSURE, reason = "") {
        // On a worker's own scope, close() would end the worker.
        if ((port as unknown) !== globalThis) port.close?.();
        connection.handleClose(code, reason, true);
      },
      detach() {
        for (const [name, listener] of Object.entries(listeners)) {
          port.removeEventListener(name, listener);
        }
      },
    },
    // No backlog is visible through postMessage, so only the incoming limit applies.
    { maxMessageBytes, maxBufferedAmount: Infinity },
  );
  for (const [name, listener] of Object.entries(listeners)) {
    port.addEventListener(name, listener);
  }
  port.start?.();
  connection.handleOpen(false);
  return connection as unknown as WorkerEventTarget<TEvent>;
}

function tagOf(value: unknown): string {
  return Object.prototype.toString.call(value).slice(8, -1);
}
