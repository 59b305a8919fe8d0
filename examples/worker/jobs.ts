// Copyright 2026 the @alkdev/pubsub authors. MIT license.

/** The envelopes the example's two threads exchange: envelope type to payload. */
export type Jobs = {
  "job.run": { n: number };
  "job.done": { n: number; squared: number; thread: string };
};
