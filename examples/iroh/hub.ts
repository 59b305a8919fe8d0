// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// The hub: an iroh endpoint that prints its ticket, accepts every spoke that
// dials it, and answers each "time.ask" to the spoke that asked, alone.
//
//   deno run -A examples/iroh/hub.ts            loopback, relays off
//   deno run -A examples/iroh/hub.ts --relay    iroh's public relays: dial from anywhere
//
// Ctrl-C closes it. main.ts runs it in-process with two spokes.

import { createEnvelopeEvent } from "@alkdev/pubsub/envelope";
import type { ConnectionEventTarget } from "@alkdev/pubsub/event-target-websocket-client";
import {
  createIrohHubEventTarget,
  type IrohHubEventTarget,
} from "@alkdev/pubsub/event-target-iroh-hub";
import { bindEndpoint, firstLine, iroh } from "./_iroh.ts";
import type { Events } from "./events.ts";

/** A running hub. */
export interface ExampleHub {
  /** What spokes dial: the endpoint's id and addresses (and relay), as text. */
  ticket: string;
  hub: IrohHubEventTarget<Events>;
  /** Closes every spoke (what was sent still arrives), then the endpoint. */
  close(): Promise<void>;
}

/** Binds the hub's endpoint and serves spokes until `close()`. */
export async function startHub(
  options: { relay?: boolean; onConnection?: (spoke: ConnectionEventTarget<Events>) => void } = {},
): Promise<ExampleHub> {
  const endpoint = await bindEndpoint({ accept: true, relay: options.relay });
  const ticket = iroh.EndpointTicket.fromAddr(endpoint.addr()).toString();
  const hub = createIrohHubEventTarget<Events>({
    onConnection(spoke) {
      console.log(`hub: a spoke joined (${hub.connections.size} connected)`);
      options.onConnection?.(spoke);
    },
    onDisconnection: () => console.log(`hub: a spoke left (${hub.connections.size} connected)`),
  });
  hub.addEventListener("time.ask:*", (event) => {
    const { id, payload } = event.detail;
    console.log(`hub: ${payload.from} asks the time (${id.slice(0, 8)}); answering it alone`);
    event.source.dispatchEvent(
      createEnvelopeEvent("time.told", id, { now: new Date().toISOString() }),
    );
  });
  hub.addEventListener("error", (event) => console.error(`hub: ${event.detail.reason}`));

  const accepting = (async () => {
    for (let incoming; (incoming = await endpoint.acceptNext());) {
      incoming.accept().then((accepting) => accepting.connect()).then(
        // Authorise here if you must: connection.remoteId() is the peer's public key.
        (connection) => hub.state === "open" && hub.addConnection(connection),
        (error) => console.error(`hub: a handshake failed: ${firstLine(error)}`),
      );
    }
  })();
  return {
    ticket,
    hub,
    async close() {
      await hub.close();
      await endpoint.close();
      await accepting;
    },
  };
}

if (import.meta.main) {
  const relay = Deno.args.includes("--relay");
  const { ticket, close } = await startHub({ relay });
  console.log(`hub: ticket ${ticket}`);
  console.log(
    `hub: dial it with  deno run -A examples/iroh/spoke.ts ${ticket}${relay ? " --relay" : ""}`,
  );
  Deno.addSignalListener("SIGINT", async () => {
    await close();
    Deno.exit(0);
  });
}
