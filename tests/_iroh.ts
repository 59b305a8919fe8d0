// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// Real iroh endpoints for the Deno suites: bound on 127.0.0.1 with relays off,
// dialling each other by address, and a hub that accepts every connection.
//
// `@number0/iroh` comes from .tools/node_modules through `require`: Deno's own
// npm resolver refuses the package (it lists optional dependencies that were
// never published), while Node's resolution of an npm-installed copy works
// under plain `deno test -A`.

import { createRequire } from "node:module";
import type * as Iroh from "../.tools/node_modules/@number0/iroh/index.d.ts";
import {
  createIrohHubEventTarget,
  type CreateIrohHubEventTargetOptions,
  type IrohHubEventTarget,
} from "../iroh_hub.ts";
import {
  createIrohSpokeEventTarget,
  type CreateIrohSpokeEventTargetOptions,
} from "../iroh_spoke.ts";
import type { ConnectionEventTarget } from "../client.ts";
import type { AnyEnvelopeEvent, TypedEvent } from "../envelope.ts";
import { nextEvent, until, within } from "./_helpers.ts";

export type { Iroh };

/** The `@number0/iroh` module. */
export const iroh: typeof Iroh = createRequire(import.meta.url)(
  "../.tools/node_modules/@number0/iroh/index.js",
);

/** The ALPN the test hubs accept. */
export const ALPN: number[] = [...new TextEncoder().encode("alkdev/pubsub/test/0")];

/** Binds an endpoint on 127.0.0.1 with no relay and no discovery; `alpns` to accept. */
export function bindEndpoint(alpns?: number[][]): Promise<Iroh.Endpoint> {
  const builder = iroh.Endpoint.builder();
  iroh.presetMinimal(builder);
  builder.relayMode(iroh.RelayMode.disabled());
  if (alpns) builder.alpns(alpns);
  builder.bindAddr("127.0.0.1:0");
  return builder.bind();
}

/** The text of a string as the `number[]` iroh takes. */
export function bytes(text: string): number[] {
  return [...new TextEncoder().encode(text)];
}

/** An iroh hub endpoint that hands every connection it accepts to a hub target. */
export interface TestIrohHub<TEvent extends TypedEvent = AnyEnvelopeEvent> {
  hub: IrohHubEventTarget<TEvent>;
  endpoint: Iroh.Endpoint;
  /** Dials the hub from a new endpoint, wraps the connection in a spoke target, waits until the hub has it. */
  connect(
    options?: CreateIrohSpokeEventTargetOptions,
  ): Promise<{ spoke: ConnectionEventTarget<TEvent>; onHub: ConnectionEventTarget<TEvent> }>;
  /** Dials the hub from a new endpoint and gives the connection, with no target of this package. */
  dial(): Promise<Iroh.Connection>;
  /** Dials and opens the stream by hand, announcing it with a newline; waits until the hub has it. */
  connectRaw(): Promise<
    { connection: Iroh.Connection; stream: Iroh.BiStream; onHub: ConnectionEventTarget<TEvent> }
  >;
  /** Closes the hub target, every endpoint, and waits for the accept loop to end. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Binds a hub endpoint and starts its accept loop; `await using` closes it all. */
export async function startIrohHub<TEvent extends TypedEvent = AnyEnvelopeEvent>(
  options: CreateIrohHubEventTargetOptions<TEvent> = {},
  /** Called with what `addConnection` returned, before the spoke's stream arrives. */
  added?: (spoke: ConnectionEventTarget<TEvent>) => void,
): Promise<TestIrohHub<TEvent>> {
  let joined = 0;
  let lastJoined: ConnectionEventTarget<TEvent> | undefined;
  const hub = createIrohHubEventTarget<TEvent>({
    ...options,
    onConnection: (spoke) => {
      joined++;
      lastJoined = spoke;
      options.onConnection?.(spoke);
    },
  });
  const endpoint = await bindEndpoint([ALPN]);
  const endpoints: Iroh.Endpoint[] = [];
  const accepting = (async () => {
    for (let incoming; (incoming = await endpoint.acceptNext());) {
      incoming.accept().then((accepted) => accepted.connect()).then(
        (connection) => {
          if (hub.state !== "open") return;
          const spoke = hub.addConnection(connection);
          added?.(spoke);
        },
        () => {}, // A failed handshake is the dialler's test to see.
      );
    }
  })();
  async function dial(): Promise<Iroh.Connection> {
    const local = await bindEndpoint();
    endpoints.push(local);
    return await within(local.connect(endpoint.addr(), ALPN), "the dial");
  }
  async function joinedAfter(before: number): Promise<ConnectionEventTarget<TEvent>> {
    await until(() => joined > before, "the hub has the spoke");
    return lastJoined!;
  }
  return {
    hub,
    endpoint,
    dial,
    async connect(spokeOptions) {
      const before = joined;
      const spoke = createIrohSpokeEventTarget<TEvent>(await dial(), spokeOptions);
      await nextEvent(spoke, "open");
      return { spoke, onHub: await joinedAfter(before) };
    },
    async connectRaw() {
      const before = joined;
      const connection = await dial();
      const stream = await connection.openBi();
      await stream.send.writeAll(bytes("\n"));
      return { connection, stream, onHub: await joinedAfter(before) };
    },
    async [Symbol.asyncDispose]() {
      await within(hub.close(), "the hub to close").catch(() => {});
      await Promise.all(endpoints.map((local) => local.close()));
      await endpoint.close();
      await within(accepting, "the accept loop to end");
    },
  };
}

/** A spoke target dialled to a bare endpoint that reads and writes the stream's bytes itself. */
export interface RawHubPair<TEvent extends TypedEvent = AnyEnvelopeEvent> {
  spoke: ConnectionEventTarget<TEvent>;
  /** The hub side's connection and the stream it accepted (after the spoke's first line). */
  connection: Iroh.Connection;
  stream: Iroh.BiStream;
  /** Closes both endpoints. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Dials a spoke target to an endpoint with no target on it: the test plays the hub by hand. */
export async function connectToRawHub<TEvent extends TypedEvent = AnyEnvelopeEvent>(
  options?: CreateIrohSpokeEventTargetOptions,
): Promise<RawHubPair<TEvent>> {
  const hubEndpoint = await bindEndpoint([ALPN]);
  const spokeEndpoint = await bindEndpoint();
  const accepted = hubEndpoint.acceptNext().then((incoming) => incoming!.accept()).then((
    accepting,
  ) => accepting.connect());
  accepted.catch(() => {});
  const spoke = createIrohSpokeEventTarget<TEvent>(
    await within(spokeEndpoint.connect(hubEndpoint.addr(), ALPN), "the dial"),
    options,
  );
  const connection = await within(accepted, "the accept");
  const stream = await within(connection.acceptBi(), "the spoke's stream");
  return {
    spoke,
    connection,
    stream,
    async [Symbol.asyncDispose]() {
      await spokeEndpoint.close();
      await hubEndpoint.close();
    },
  };
}
