// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// What the example needs from @number0/iroh: the module, the ALPN that the
// hub accepts and spokes dial, and an endpoint bound either on loopback with
// relays off (the default here: it runs offline) or with iroh's public relays.
//
// In a project of your own: `npm install @number0/iroh`, then
//   import iroh from "@number0/iroh";
// (Node, Bun; Deno with that npm-installed node_modules, since Deno's own npm
// resolver refuses the package). This repository keeps its dev tools in
// .tools/, so the example loads iroh from there.

import { createRequire } from "node:module";
import type * as Iroh from "../../.tools/node_modules/@number0/iroh/index.d.ts";

export type { Iroh };

/** The `@number0/iroh` module. */
export const iroh: typeof Iroh = createRequire(import.meta.url)(
  "../../.tools/node_modules/@number0/iroh/index.js",
);

/** The application protocol: the hub accepts it, spokes dial with it. */
export const ALPN: number[] = [...new TextEncoder().encode("alkdev-pubsub-example/0")];

/**
 * Binds an endpoint. With `relay`, iroh's n0 preset: its public relays and
 * discovery, so that peers behind NATs find each other. Without, loopback
 * only: no relay, no discovery, nothing leaves the machine.
 */
export async function bindEndpoint(
  options: { accept?: boolean; relay?: boolean } = {},
): Promise<Iroh.Endpoint> {
  const builder = iroh.Endpoint.builder();
  if (options.relay) {
    iroh.presetN0(builder);
  } else {
    iroh.presetMinimal(builder);
    builder.relayMode(iroh.RelayMode.disabled());
    builder.bindAddr("127.0.0.1:0");
  }
  if (options.accept) builder.alpns([ALPN]);
  const endpoint = await builder.bind();
  // A ticket made after this carries the home relay's URL, the way in from behind a NAT.
  if (options.relay) await endpoint.online();
  return endpoint;
}

/** An iroh error's first line (a Rust backtrace may follow it). */
export function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split("\n")[0];
}
