// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// The worker target from the installed npm package in headless Chromium: a
// page and a dedicated module Worker, two pages on one BroadcastChannel, and
// a real `messageerror` (a WebAssembly.Module posted from a sandboxed iframe,
// another agent cluster, cannot be deserialised). Run by `deno task test browser`.

import { deepEqual, equal, ok } from "node:assert/strict";
import { test } from "node:test";
import { observe, useBrowser } from "./_browser.mjs";

const used = useBrowser();

/** Page helpers: a bounded wait, as in tests/npm/_helpers.mjs. */
const UNTIL = `
  async function until(condition, what) {
    const deadline = Date.now() + 5000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error("timed out waiting until " + what);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
`;

const CLEAN = { code: 1000, reason: "", wasClean: true, unsent: 0 };

test("a page and a dedicated Worker exchange envelopes, run createPubSub end to end, report bad messages, and close", async () => {
  const { observed, errors } = await observe(
    used.browser.context,
    used.site.page(`
      import { createWorkerEventTarget } from "@alkdev/pubsub/event-target-worker";
      import { createEnvelopeEvent } from "@alkdev/pubsub/envelope";
      import { createPubSub } from "@alkdev/pubsub/pubsub";
      ${UNTIL}

      // Module workers do not see the page's import map: the worker imports by URL.
      const url = (entry) => JSON.stringify(import.meta.resolve("@alkdev/pubsub/" + entry));
      const source = \`
        import { createWorkerEventTarget } from \${url("event-target-worker")};
        import { createEnvelopeEvent } from \${url("envelope")};
        import { createPubSub } from \${url("pubsub")};
        const target = createWorkerEventTarget(self);
        const jobs = createPubSub({ eventTarget: target });
        (async () => {
          for await (const run of jobs.subscribe("job.run")) {
            jobs.publish("job.done", run.id, { n: run.payload.n * 2 });
          }
        })();
        const order = [];
        for (const name of ["order:1", "order:*", "*"]) {
          target.addEventListener(name, ({ detail }) => {
            if (detail.type === "order") order.push(name);
          });
        }
        target.addEventListener("report:*", ({ detail }) =>
          target.dispatchEvent(createEnvelopeEvent("reported", detail.id, { order })));
        target.addEventListener("junk:*", () => {
          self.postMessage("not json");
          self.postMessage({ type: "a", id: "1" });
          target.dispatchEvent(createEnvelopeEvent("after", "junk", null));
        });
        self.addEventListener("message", ({ data }) => {
          if (data === "ping") self.postMessage("pong");
        });
        target.dispatchEvent(createEnvelopeEvent("ready", "1", null));
      \`;
      const worker = new Worker(URL.createObjectURL(new Blob([source], { type: "text/javascript" })), {
        type: "module",
      });
      const target = createWorkerEventTarget(worker);
      const seen = [];
      for (const name of ["job.done:1", "job.done:*", "*"]) {
        target.addEventListener(name, ({ detail }) => seen.push(name + " " + detail.type + ":" + detail.id));
      }
      const errors = [];
      target.addEventListener("error", ({ detail }) => errors.push(detail.reason));
      const closes = [];
      target.addEventListener("close", ({ detail }) => closes.push(detail));
      await until(() => seen.includes("* ready:1"), "the worker is ready");

      const pubsub = createPubSub({ eventTarget: target });
      const done = pubsub.subscribe("job.done");
      for (let n = 1; n <= 3; n++) pubsub.publish("job.run", String(n), { n });
      const results = [];
      for await (const { id, payload } of done) {
        results.push(id + "=" + payload.n);
        if (results.length === 3) break;
      }

      target.dispatchEvent(createEnvelopeEvent("order", "1", null));
      target.dispatchEvent(createEnvelopeEvent("report", "1", null));
      await until(() => seen.includes("* reported:1"), "the worker's report");
      target.dispatchEvent(createEnvelopeEvent("junk", "1", null));
      await until(() => seen.includes("* after:junk"), "the envelope after the junk");
      const workerOrder = await new Promise((resolve) => {
        target.addEventListener("reported:2", ({ detail }) => resolve(detail.payload.order));
        target.dispatchEvent(createEnvelopeEvent("report", "2", null));
      });

      target.close();
      target.close();
      let threw = "";
      try {
        target.dispatchEvent(createEnvelopeEvent("a", "1", null));
      } catch (error) {
        threw = error.message;
      }
      // close() never terminates the Worker: it still answers, and the target no longer listens.
      const pong = await new Promise((resolve) => {
        worker.addEventListener("message", ({ data }) => resolve(data), { once: true });
        worker.postMessage("ping");
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      worker.terminate();
      window.observed = {
        results,
        order: seen.filter((line) => line.endsWith("job.done:1")),
        workerOrder,
        errors,
        closes,
        threw,
        pong,
        echoed: seen.filter((line) => /job.run|order:|report:|junk:/.test(line)),
      };
      window.finished = true;
    `),
  );
  deepEqual(errors, []);
  deepEqual(observed, {
    results: ["1=2", "2=4", "3=6"],
    order: ["job.done:1 job.done:1", "job.done:* job.done:1", "* job.done:1"],
    workerOrder: ["order:1", "order:*", "*"],
    errors: [
      "frame is not JSON",
      "message is not a string (got Object): envelopes travel as JSON text",
    ],
    closes: [CLEAN],
    threw: 'Cannot dispatch "a:1": the connection is closed',
    pong: "pong",
    echoed: [],
  });
});

test("two pages on one BroadcastChannel exchange envelopes with no echo, and bad messages fire error", async () => {
  const channel = `test-${crypto.randomUUID()}`;
  // Page B answers jobs and records what it hears; it stays open while page A runs.
  const pageB = await used.browser.context.newPage();
  try {
    await pageB.goto(used.site.page(`
      import { createWorkerEventTarget } from "@alkdev/pubsub/event-target-worker";
      import { createPubSub } from "@alkdev/pubsub/pubsub";

      const target = createWorkerEventTarget(new BroadcastChannel(${JSON.stringify(channel)}));
      const observed = (window.observed = { heard: [], errors: [] });
      target.addEventListener("*", ({ detail }) => observed.heard.push(detail.type + ":" + detail.id));
      target.addEventListener("error", ({ detail }) => observed.errors.push(detail.reason));
      const jobs = createPubSub({ eventTarget: target });
      (async () => {
        for await (const run of jobs.subscribe("job.run")) {
          jobs.publish("job.done", run.id, { n: run.payload.n * 2 });
        }
      })();
      window.finished = true;
    `));
    await pageB.waitForFunction(() => globalThis.finished === true, null, { timeout: 10_000 });

    const { observed, errors } = await observe(
      used.browser.context,
      used.site.page(`
        import { createWorkerEventTarget } from "@alkdev/pubsub/event-target-worker";
        import { createEnvelopeEvent } from "@alkdev/pubsub/envelope";
        import { createPubSub } from "@alkdev/pubsub/pubsub";

        const channel = new BroadcastChannel(${JSON.stringify(channel)});
        const target = createWorkerEventTarget(channel);
        const heard = [];
        target.addEventListener("*", ({ detail }) => heard.push(detail.type + ":" + detail.id));
        const pubsub = createPubSub({ eventTarget: target });
        const done = pubsub.subscribe("job.done", "1");
        pubsub.publish("job.run", "1", { n: 21 });
        const { value } = await done.next();
        await done.return();
        // Below the library, on a second channel object of the same name.
        const raw = new BroadcastChannel(${JSON.stringify(channel)});
        raw.postMessage({ type: "a", id: "1" });
        raw.postMessage("not json");
        raw.close();
        target.dispatchEvent(createEnvelopeEvent("last", "1", null));
        target.close();
        let threw = "";
        try {
          channel.postMessage("x");
        } catch (error) {
          threw = error.name;
        }
        window.observed = { value, heard, threw };
        window.finished = true;
      `),
    );
    deepEqual(errors, []);
    deepEqual(observed.value, { type: "job.done", id: "1", payload: { n: 42 } });
    ok(!observed.heard.includes("job.run:1"), "page A heard its own envelope");
    equal(observed.threw, "InvalidStateError", "close() closed the BroadcastChannel");
    await pageB.waitForFunction(
      () => globalThis.observed.heard.includes("last:1"),
      null,
      { timeout: 10_000 },
    );
    const b = await pageB.evaluate(() => globalThis.observed);
    deepEqual(b.heard, ["job.run:1", "last:1"]);
    deepEqual(b.errors, [
      "message is not a string (got Object): envelopes travel as JSON text",
      "frame is not JSON",
    ]);
  } finally {
    await pageB.close();
  }
});

test("a message a MessagePort cannot deserialise fires error with messageerror, and the next envelope arrives", async () => {
  const { observed, errors } = await observe(
    used.browser.context,
    used.site.page(`
      import { createWorkerEventTarget } from "@alkdev/pubsub/event-target-worker";
      ${UNTIL}

      const { port1, port2 } = new MessageChannel();
      const target = createWorkerEventTarget(port1);
      const heard = [];
      const errors = [];
      target.addEventListener("*", ({ detail }) => heard.push(detail.type + ":" + detail.id));
      target.addEventListener("error", ({ detail }) => errors.push(detail));
      // A sandboxed iframe is another agent cluster: a WebAssembly.Module it posts
      // cannot be deserialised here, so the port fires a real messageerror.
      const frame = document.createElement("iframe");
      frame.sandbox = "allow-scripts";
      frame.srcdoc = \`<script>
        onmessage = ({ ports: [port] }) => {
          port.postMessage(new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])));
          port.postMessage('{"type":"after","id":"1"}');
        };
      <\\/script>\`;
      frame.addEventListener("load", () => frame.contentWindow.postMessage("port", "*", [port2]));
      document.body.append(frame);
      await until(() => heard.length === 1, "the envelope after the module");
      target.close();
      window.observed = { heard, errors };
      window.finished = true;
    `),
  );
  deepEqual(errors, []);
  deepEqual(observed, {
    heard: ["after:1"],
    errors: [{ reason: "messageerror: a message could not be deserialized", data: "" }],
  });
});
