// Copyright 2026 the @alkdev/pubsub authors. MIT license.
// This module is browser compatible.

/**
 * An event target with no transport: `dispatchEvent` delivers to its own
 * listeners, under the same names and with the same checks as every other
 * target, so code moves between in-process and networked targets unchanged.
 *
 * @module
 */

import { CLEAN_CLOSE, closedError, dispatchClose } from "./_connection.ts";
import {
  type AnyEnvelopeEvent,
  dispatchEnvelope,
  encodeEnvelopeEvent,
  type EventEnvelope,
  type TypedEvent,
  type TypedEventTarget,
} from "./envelope.ts";

/**
 * An in-process target: a typed event target that can be closed.
 *
 * @typeParam TEvent The union of envelope events it carries.
 */
export interface InProcessEventTarget<TEvent extends TypedEvent = AnyEnvelopeEvent>
  extends TypedEventTarget<TEvent, { readonly source: null }> {
  /** `open` until `close()`, then `closed`. */
  readonly state: "open" | "closed";
  /** Fires `close` once; afterwards `dispatchEvent` throws. */
  close(): void;
}

class InProcessTarget extends EventTarget {
  #closed = false;

  get state(): "open" | "closed" {
    return this.#closed ? "closed" : "open";
  }

  override dispatchEvent(event: Event): boolean {
    const text = encodeEnvelopeEvent(event);
    if (this.#closed) throw closedError(event.type);
    // One JSON round trip: listeners get what a wire would deliver, never the sender's object.
    dispatchEnvelope(this, JSON.parse(text) as EventEnvelope, null);
    return true;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    dispatchClose(this, CLEAN_CLOSE);
  }
}

/**
 * Creates an in-process target. Listeners get each envelope after one JSON
 * round trip, exactly as it would arrive over a wire, fired on `<type>:<id>`,
 * `<type>:*` and `*` in that order.
 *
 * @typeParam TEvent The union of envelope events it carries (see `EnvelopeEvents`).
 * @returns The target.
 *
 * @example Usage
 * ```ts
 * import { createInProcessEventTarget } from "@alkdev/pubsub/event-target-in-process";
 * import { createEnvelopeEvent } from "@alkdev/pubsub/envelope";
 * import { deepEqual } from "node:assert/strict";
 *
 * const target = createInProcessEventTarget();
 * const names: string[] = [];
 * for (const name of ["job.done:7", "job.done:*", "*"] as const) {
 *   target.addEventListener(name, (event) => names.push(event.type));
 * }
 * target.dispatchEvent(createEnvelopeEvent("job.done", "7", { at: new Date(0) }));
 * deepEqual(names, ["job.done:7", "job.done:*", "*"]);
 * ```
 */
export function createInProcessEventTarget<
  TEvent extends TypedEvent = AnyEnvelopeEvent,
>(): InProcessEventTarget<TEvent> {
  return new InProcessTarget() as unknown as InProcessEventTarget<TEvent>;
}
