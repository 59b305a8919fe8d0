// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// A spoke: dials the hub by its ticket, asks the time, prints the answer and
// the news, and leaves.
//
//   deno run -A examples/iroh/spoke.ts <ticket> [--relay]

import { createEnvelopeEvent } from "@alkdev/pubsub/envelope";
import type { ConnectionEventTarget } from "@alkdev/pubsub/event-target-websocket-client";
import { createIrohSpokeEventTarget } from "@alkdev/pubsub/event-target-iroh-spoke";
import { ALPN, bindEndpoint, iroh } from "./_iroh.ts";
import type { Events } from "./events.ts";

/** A connected spoke. */
export interface ExampleSpoke {
  spoke: ConnectionEventTarget<Events>;
  /** Asks the hub the time; resolves with the answer, which reaches this spoke alone. */
  askTime(): Promise<string>;
  /** Closes the connection (what was sent still arrives), then the endpoint. */
  close(): Promise<void>;
}

/** Dials the hub whose ticket is given and wraps the connection in a spoke target. */
export async function connectSpoke(
  name: string,
  ticket: string,
  options: { relay?: boolean } = {},
): Promise<ExampleSpoke> {
  const endpoint = await bindEndpoint({ relay: options.relay });
  const addr = iroh.EndpointTicket.fromString(ticket).endpointAddr();
  const spoke = createIrohSpokeEventTarget<Events>(await endpoint.connect(addr, ALPN));
  spoke.addEventListener("*", ({ detail }) => {
    console.log(`${name}: got ${detail.type} ${JSON.stringify(detail.payload)}`);
  });
  const closed = new Promise<void>((resolve) => spoke.addEventListener("close", () => resolve()));
  return {
    spoke,
    askTime() {
      const id = crypto.randomUUID();
      const answer = new Promise<string>((resolve) =>
        spoke.addEventListener(`time.told:${id}`, ({ detail }) => resolve(detail.payload.now), {
          once: true,
        })
      );
      console.log(`${name}: asking the time (${id.slice(0, 8)})`);
      spoke.dispatchEvent(createEnvelopeEvent("time.ask", id, { from: name }));
      return answer;
    },
    async close() {
      spoke.close(1000, `${name} is done`);
      await closed;
      await endpoint.close();
    },
  };
}

if (import.meta.main) {
  const [ticket] = Deno.args.filter((arg) => !arg.startsWith("--"));
  if (!ticket) throw new Error("usage: spoke.ts <ticket> [--relay]");
  const { askTime, close } = await connectSpoke("spoke", ticket, {
    relay: Deno.args.includes("--relay"),
  });
  console.log(`spoke: the hub says it is ${await askTime()}`);
  await close();
}
