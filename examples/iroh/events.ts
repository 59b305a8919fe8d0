// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// The envelopes of the example, shared by the hub and the spokes.

import type { EnvelopeEvents } from "@alkdev/pubsub/envelope";

/** A spoke asks the time; the hub tells that spoke alone; news goes to everyone. */
export type Events = EnvelopeEvents<{
  "time.ask": { from: string };
  "time.told": { now: string };
  news: string;
}>;
