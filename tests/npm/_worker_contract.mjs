// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// The worker target's contract, checked against the installed npm package on
// each runtime's own ports: worker_node_test.mjs runs it on Node 20 and 24
// (global MessageChannel, a worker_threads Worker reached through a transferred
// MessagePort), worker_bun_test.mjs on Bun (MessageChannel, a web Worker and
// its `self`). The worker runs _worker_peer.mjs.

import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import { createEnvelopeEvent } from "@alkdev/pubsub/envelope";
import { createPubSub } from "@alkdev/pubsub/pubsub";
import { createWorkerEventTarget } from "@alkdev/pubsub/event-target-worker";
import { collect, nextEvent, settle, until } from "./_helpers.mjs";

/** The maxMessageBytes of every target here and in _worker_peer.mjs. */
export const LIMIT = 4096;

const CLEAN = { code: 1000, reason: "", wasClean: true, unsent: 0 };
/** What a target fires when the runtime reports that the other end went away. */
const PEER_GONE = {
  code: 1006,
  reason: "the other end of the port closed",
  wasClean: false,
  unsent: 0,
};

/** Bad input and the reason it is refused with. */
const BAD = [
  ["non-JSON text", "hello", /^frame is not JSON$/],
  ["a missing id", '{"type":"a"}', /'id' must be a string/],
  [
    "text over maxMessageBytes",
    `{"type":"a","id":"1"}${" ".repeat(LIMIT)}`,
    /larger than maxMessageBytes/,
  ],
  ["a posted object", { type: "a", id: "1" }, /message is not a string \(got Object\)/],
  ["a posted null", null, /message is not a string \(got Null\)/],
];

/**
 * @typedef {object} Peer What a runtime's `startPeer()` resolves to, once the worker is ready.
 * @property {import("@alkdev/pubsub").WorkerEventTarget} target This side's target.
 * @property {(value: unknown) => void} raw Posts to the worker below the library.
 * @property {EventTarget} rawPort Where the worker's raw answers arrive, below the library.
 * @property {() => Promise<unknown>} terminate Ends the worker.
 */

/**
 * Defines the cases with the runtime's test function.
 *
 * @param {object} runtime
 * @param {(name: string, fn: () => Promise<void>) => void} runtime.test `node:test`'s or `bun:test`'s.
 * @param {string} runtime.name The runtime, for the test names.
 * @param {string} runtime.worker What the worker is, for the test names.
 * @param {() => Promise<Peer>} runtime.startPeer Starts _worker_peer.mjs in a worker.
 * @param {boolean} runtime.ownPort Whether the worker serves a MessagePort of its own (Node),
 *   so that closing either end closes both, rather than its `self` (Bun). Both runtimes
 *   fire `close` on a MessagePort whose other end closed.
 */
export function workerContract({ test, name, worker, startPeer, ownPort }) {
  function channelPair(options = { maxMessageBytes: LIMIT }) {
    const { port1, port2 } = new MessageChannel();
    return {
      port1,
      port2,
      left: createWorkerEventTarget(port1, options),
      right: createWorkerEventTarget(port2, options),
    };
  }

  async function withPeer(body) {
    const peer = await startPeer();
    let sent = 0;
    peer.command = async (command, payload = null) => {
      const id = String(++sent);
      const reply = nextEvent(peer.target, `did.${command}:${id}`);
      peer.target.dispatchEvent(createEnvelopeEvent(`do.${command}`, id, payload));
      return (await reply).detail.payload;
    };
    try {
      await body(peer);
    } finally {
      peer.target.close();
      await peer.terminate();
    }
  }

  test(`${name}: a MessageChannel fires type:id, type:*, then *, echoes nothing, and keeps JSON's rules`, async () => {
    const { left, right } = channelPair();
    const order = [];
    for (const topic of ["job.done:7", "job.done:*", "*"]) {
      right.addEventListener(topic, (event) => order.push(`${topic} ${event.detail.id}`));
    }
    const arrived = collect(right, "*");
    const echoed = collect(left, "*");
    left.dispatchEvent(createEnvelopeEvent("job.done", "7", { at: new Date(0), nan: NaN }));
    throws(() => left.dispatchEvent(createEnvelopeEvent("a", "1", 1n)), TypeError);
    await until(() => order.length === 3, "three listeners hear it");
    await settle(50);
    deepEqual(order, ["job.done:7 7", "job.done:* 7", "* 7"]);
    deepEqual(arrived, [{
      type: "job.done",
      id: "7",
      payload: { at: "1970-01-01T00:00:00.000Z", nan: null },
    }]);
    deepEqual(echoed, []);
    left.close();
    right.close();
  });

  test(`${name}: a MessageChannel turns bad messages and messageerror into error events and keeps going`, async () => {
    const { port1, port2, left, right } = channelPair();
    const errors = collect(right, "error");
    const oks = collect(right, "ok:*");
    let sent = 0;
    for (const [, value, reason] of BAD) {
      const before = errors.length;
      port1.postMessage(value);
      left.dispatchEvent(createEnvelopeEvent("ok", String(++sent), null));
      await until(() => oks.length === sent, "the next valid envelope");
      equal(errors.length, before + 1);
      match(errors[before].reason, reason);
    }
    port2.dispatchEvent(new MessageEvent("messageerror"));
    left.dispatchEvent(createEnvelopeEvent("ok", String(++sent), null));
    await until(() => oks.length === sent, "the envelope after messageerror");
    deepEqual(errors.at(-1), {
      reason: "messageerror: a message could not be deserialized",
      data: "",
    });
    left.close();
    right.close();
  });

  test(`${name}: closing one end of a MessageChannel fires close once, and sends after it throw`, async () => {
    const { left, right } = channelPair();
    const leftCloses = collect(left, "close");
    const rightCloses = collect(right, "close");
    left.close(4000, "done");
    left.close();
    deepEqual(leftCloses, [{ code: 4000, reason: "done", wasClean: true, unsent: 0 }]);
    equal(left.state, "closed");
    throws(() => left.dispatchEvent(createEnvelopeEvent("a", "1", null)), /connection is closed/);
    await until(() => rightCloses.length === 1, "the other end's close");
    deepEqual(rightCloses, [PEER_GONE]);
    throws(() => right.dispatchEvent(createEnvelopeEvent("a", "1", null)), /connection is closed/);
    right.close();
    await settle(50);
    equal(rightCloses.length, 1);
  });

  test(`${name}: ${worker} carries envelopes both ways on type:id, type:*, then *, with no echo`, async () => {
    await withPeer(async (peer) => {
      const order = [];
      for (const topic of ["order:1", "order:*", "*"]) {
        peer.target.addEventListener(topic, ({ detail }) => {
          if (detail.type === "order") order.push(topic);
        });
      }
      const heard = collect(peer.target, "*");
      await peer.command("publish", { type: "order", id: "1", payload: null });
      await until(() => order.length === 3, "the worker's envelope");
      deepEqual(order, ["order:1", "order:*", "*"]);
      peer.target.dispatchEvent(createEnvelopeEvent("order", "1", null));
      const report = await peer.command("report");
      deepEqual(report.order, ["order:1", "order:*", "*"]);
      ok(!report.heard.some((topic) => topic.startsWith("did.")), "the worker heard itself");
      ok(!heard.some(({ type }) => type.startsWith("do.")), "this side heard itself");
    });
  });

  test(`${name}: createPubSub over ${worker} runs jobs in the worker end to end`, async () => {
    await withPeer(async (peer) => {
      const pubsub = createPubSub({ eventTarget: peer.target });
      const done = pubsub.subscribe("job.done");
      for (let n = 1; n <= 3; n++) pubsub.publish("job.run", String(n), { n });
      const results = [];
      for await (const { id, payload } of done) {
        results.push(`${id}=${payload.n}`);
        if (results.length === 3) break;
      }
      deepEqual(results, ["1=2", "2=4", "3=6"]);
    });
  });

  test(`${name}: bad messages across ${worker} fire error on the receiving side, and the next envelope arrives`, async () => {
    await withPeer(async (peer) => {
      const errors = collect(peer.target, "error");
      const oks = collect(peer.target, "ok:*");
      let sent = 0;
      for (const [, value, reason] of BAD) {
        const before = errors.length;
        const text = typeof value === "string" ? value.trimEnd() : value;
        await peer.command("raw", {
          value: text,
          pad: text === value ? 0 : value.length - text.length,
        });
        await peer.command("publish", { type: "ok", id: String(++sent), payload: null });
        await until(() => oks.length === sent, "the next valid envelope");
        equal(errors.length, before + 1);
        match(errors[before].reason, reason);
      }
      for (const [, value] of BAD) peer.raw(value);
      peer.target.dispatchEvent(createEnvelopeEvent("ok", "1", null));
      const report = await peer.command("report");
      equal(report.errors.length, BAD.length);
      BAD.forEach(([, , reason], i) => match(report.errors[i].reason, reason));
      ok(report.heard.includes("ok:1"));
    });
  });

  test(`${name}: close() on this side of ${worker} fires close once, sends then throw, and the target stops listening`, async () => {
    await withPeer(async (peer) => {
      const closes = collect(peer.target, "close");
      peer.target.close();
      peer.target.close();
      deepEqual(closes, [CLEAN]);
      throws(
        () => peer.target.dispatchEvent(createEnvelopeEvent("a", "1", null)),
        /Cannot dispatch "a:1": the connection is closed/,
      );
      if (ownPort) return; // the port is closed at both ends now
      // A Worker is never terminated by close(): it still answers, and this target no longer listens.
      const heard = collect(peer.target, "*");
      const answer = nextEvent(peer.rawPort, "message");
      peer.raw("status");
      equal(JSON.parse((await answer).data).type, "status");
      await settle(50);
      deepEqual(heard, []);
    });
  });

  const closeInWorker = ownPort
    ? "close() in the worker closes its port, and this side fires close too"
    : "close() in the worker fires close there once, and its self still carries raw messages";
  test(`${name}: ${closeInWorker}`, async () => {
    await withPeer(async (peer) => {
      const closes = collect(peer.target, "close");
      await peer.command("publish", { type: "ok", id: "1", payload: null });
      peer.target.dispatchEvent(createEnvelopeEvent("do.close", "x", null));
      if (ownPort) {
        await until(() => closes.length === 1, "this side's close");
        deepEqual(closes, [PEER_GONE]);
        return;
      }
      // The worker's `self` is not closed by its target: raw messages still go both ways.
      const status = nextEvent(peer.target, "status:1");
      peer.raw("status");
      const { payload } = (await status).detail;
      deepEqual(payload.closes, [CLEAN]);
      deepEqual(payload.errors, [], "the closed target refused the raw status text");
      deepEqual(closes, []);
    });
  });

  test(`${name}: ending ${worker} fires close on this side once`, async () => {
    const peer = await startPeer();
    const closes = collect(peer.target, "close");
    await peer.terminate();
    await until(() => closes.length === 1, "close after the worker ended");
    await settle(50);
    deepEqual(closes, [PEER_GONE]);
    throws(() => peer.target.dispatchEvent(createEnvelopeEvent("a", "1", null)), /closed/);
  });
}
