// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// The installed npm package in headless Chromium: the page loads its ES modules
// straight from files through an import map, and talks to a hub from the same
// package on the `ws` server in this (Node) process. Run by `deno task test browser`.

import { deepEqual, equal, ok } from "node:assert/strict";
import { test } from "node:test";
import { createEnvelopeEvent } from "@alkdev/pubsub/envelope";
import { startNodeHub } from "../npm/_node_hub.mjs";
import { until } from "../npm/_helpers.mjs";
import { importMap, observe, useBrowser } from "./_browser.mjs";

const used = useBrowser();

test("Chromium loads every entry of the package through an import map, and the root re-exports them all", async () => {
  const { observed, errors } = await observe(
    used.browser.context,
    used.site.page(`
      const { imports } = JSON.parse(document.querySelector("script[type=importmap]").textContent);
      const loaded = {};
      for (const specifier of Object.keys(imports)) {
        try {
          loaded[specifier] = Object.keys(await import(specifier)).sort();
        } catch (error) {
          loaded[specifier] = "failed: " + error.message;
        }
      }
      window.observed = loaded;
      window.finished = true;
    `),
  );
  deepEqual(errors, []);
  const specifiers = Object.keys(importMap().imports);
  deepEqual(Object.keys(observed), specifiers);
  for (const specifier of specifiers) {
    ok(Array.isArray(observed[specifier]), `${specifier}: ${observed[specifier]}`);
  }
  ok(observed["@alkdev/pubsub/event-target-websocket-client"].includes(
    "createWebSocketClientEventTarget",
  ));
  const root = new Set(observed["@alkdev/pubsub"]);
  for (const specifier of specifiers) {
    const missing = observed[specifier].filter((name) => !root.has(name));
    deepEqual(missing, [], `"@alkdev/pubsub" re-exports everything of ${specifier}`);
  }
});

test("a page's spoke and a Node hub exchange envelopes both ways, bad frames fire error, and close arrives", async () => {
  const gone = [];
  const t = await startNodeHub({ onDisconnection: (spoke) => gone.push(spoke) });
  try {
    const runs = [];
    t.hub.addEventListener("job.run:*", (event) => {
      runs.push(event.detail);
      const { n, text } = event.detail.payload;
      event.source.dispatchEvent(
        createEnvelopeEvent("job.done", event.detail.id, { n: n * 2, text }),
      );
    });
    // Once the page has both replies it says so; the hub then fans out, sends
    // bad frames below the library, fans out again and closes the spoke.
    t.hub.addEventListener("ready:*", (event) => {
      t.hub.dispatchEvent(createEnvelopeEvent("news", "1", "first"));
      t.rawSockets[0].send("not json");
      t.rawSockets[0].send(new Uint8Array([1, 2, 3]));
      t.hub.dispatchEvent(createEnvelopeEvent("news", "2", "second"));
      event.source.close(4000, "done");
    });
    const { observed, errors } = await observe(
      used.browser.context,
      used.site.page(`
        import { createWebSocketClientEventTarget } from "@alkdev/pubsub/event-target-websocket-client";
        import { createEnvelopeEvent } from "@alkdev/pubsub/envelope";

        const observed = (window.observed = []);
        const spoke = createWebSocketClientEventTarget(new WebSocket(${JSON.stringify(t.url)}));
        observed.push(["state", spoke.state]);
        try {
          spoke.dispatchEvent(new CustomEvent("a:2", { detail: { type: "a", id: "1" } }));
        } catch (error) {
          observed.push(["throws", error.name]);
        }
        spoke.addEventListener("open", () => observed.push(["open"]));
        spoke.addEventListener("job.done:*", ({ detail }) => {
          observed.push(["job.done", detail]);
          if (detail.id === "2") spoke.dispatchEvent(createEnvelopeEvent("ready", "1", null));
        });
        spoke.addEventListener("news:*", ({ detail }) => observed.push(["news", detail]));
        spoke.addEventListener("error", ({ detail }) => observed.push(["error", detail.reason]));
        spoke.addEventListener("close", ({ detail }) => {
          observed.push(["close", detail]);
          try {
            spoke.dispatchEvent(createEnvelopeEvent("a", "1", null));
          } catch (error) {
            observed.push(["after close", error.message]);
          }
          window.finished = true;
        });
        // Sent while the socket is still connecting: queued, then sent in order on open.
        spoke.dispatchEvent(createEnvelopeEvent("job.run", "1", { n: 1, text: "plain" }));
        spoke.dispatchEvent(createEnvelopeEvent("job.run", "2", { n: 2, text: "héllo €" }));
      `),
    );
    deepEqual(errors, []);
    deepEqual(observed, [
      ["state", "connecting"],
      ["throws", "TypeError"],
      ["open"],
      ["job.done", { type: "job.done", id: "1", payload: { n: 2, text: "plain" } }],
      ["job.done", { type: "job.done", id: "2", payload: { n: 4, text: "héllo €" } }],
      ["news", { type: "news", id: "1", payload: "first" }],
      ["error", "frame is not JSON"],
      ["error", "binary frames are not envelopes (3 bytes)"],
      ["news", { type: "news", id: "2", payload: "second" }],
      ["close", { code: 4000, reason: "done", wasClean: true, unsent: 0 }],
      ["after close", 'Cannot dispatch "a:1": the connection is closed'],
    ]);
    deepEqual(runs, [
      { type: "job.run", id: "1", payload: { n: 1, text: "plain" } },
      { type: "job.run", id: "2", payload: { n: 2, text: "héllo €" } },
    ]);
    await until(() => gone.length === 1, "the hub hears the spoke go");
    equal(t.hub.connections.size, 0);
  } finally {
    await t.close();
  }
});
