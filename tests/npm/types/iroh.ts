// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// Compiled (never run) with consumer.ts: the real `@number0/iroh` types fit the
// iroh targets' structural ones, so a user passes iroh's Connection as it is.

import iroh, { type Endpoint } from "@number0/iroh";
import { createEnvelopeEvent, type EnvelopeEvents } from "@alkdev/pubsub/envelope";
import type { ConnectionEventTarget } from "@alkdev/pubsub/event-target-websocket-client";
import { createIrohHubEventTarget } from "@alkdev/pubsub/event-target-iroh-hub";
import { createIrohSpokeEventTarget } from "@alkdev/pubsub/event-target-iroh-spoke";

type Events = EnvelopeEvents<{ ask: string; answer: number }>;
const ALPN = [...new TextEncoder().encode("my-app/0")];

export async function hubSide(endpoint: Endpoint): Promise<void> {
  const hub = createIrohHubEventTarget<Events>({ closeTimeout: 1000 });
  hub.addEventListener("ask:*", (event) => {
    const question: string = event.detail.payload;
    event.source.dispatchEvent(createEnvelopeEvent("answer", event.detail.id, question.length));
    // @ts-expect-error answer carries a number
    event.source.dispatchEvent(createEnvelopeEvent("answer", event.detail.id, "no"));
  });
  const incoming = await endpoint.acceptNext();
  if (incoming) {
    const spoke: ConnectionEventTarget<Events> = hub.addConnection(
      await (await incoming.accept()).connect(),
    );
    spoke.addEventListener("close", (event) => console.log(event.detail.code));
  }
  const closed: Promise<void> = hub.close(1001, "bye");
  await closed;
}

export async function spokeSide(endpoint: Endpoint, ticket: string): Promise<void> {
  const addr = iroh.EndpointTicket.fromString(ticket).endpointAddr();
  const spoke = createIrohSpokeEventTarget<Events>(await endpoint.connect(addr, ALPN), {
    maxBufferedAmount: 1 << 20,
  });
  spoke.addEventListener("answer:*", (event) => {
    const length: number = event.detail.payload;
    console.log(length);
  });
  spoke.dispatchEvent(createEnvelopeEvent("ask", "1", "how long?"));
  // @ts-expect-error not a name this target carries
  spoke.addEventListener("nope:1", () => {});
}
