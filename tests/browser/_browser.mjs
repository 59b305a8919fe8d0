// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// Helpers for the browser suites: headless Chromium driven by playwright-core,
// and a small static server on 127.0.0.1 that serves the installed package's
// ES modules as they are, with an import map for `@alkdev/pubsub/...` (no
// bundler). A page is a plain `<script type="module">`; it records what it
// observes in `window.observed` and sets `window.finished`, and the test reads
// them with page.evaluate.

import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before } from "node:test";
import { chromium } from "playwright-core";

/** Where Debian's Chromium is. */
export const CHROMIUM = "/usr/bin/chromium";

// --user-data-dir is given as launchPersistentContext's first argument: a fresh folder per launch.
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
];

/** The installed package: its folder and its package.json. */
export function installedPackage() {
  const entry = fileURLToPath(import.meta.resolve("@alkdev/pubsub"));
  const root = entry.slice(0, entry.lastIndexOf(`${sep}esm${sep}`) + 1);
  const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  return { root, manifest };
}

/** The import map that sends every entry of the package to its file under /pkg/. */
export function importMap() {
  const { manifest } = installedPackage();
  const imports = {};
  for (const [path, target] of Object.entries(manifest.exports)) {
    imports[path === "." ? manifest.name : `${manifest.name}${path.slice(1)}`] = `/pkg/${
      target.default.slice(2)
    }`;
  }
  return { imports };
}

/**
 * Launches headless Chromium with a fresh profile. Fails, never skips, when
 * Chromium is missing.
 */
export async function launchChromium() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing, and the browser suite needs it: apt-get install -y chromium`,
    );
  }
  const profile = await mkdtemp(join(tmpdir(), "alkdev-pubsub-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    timeout: 30_000,
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Serves /pkg/ (the installed package) and the pages added with `page(source)`
 * on 127.0.0.1 and a free port.
 */
export async function startSite() {
  const { root } = installedPackage();
  const map = JSON.stringify(importMap());
  const pages = new Map();
  const server = createServer(async (request, response) => {
    const path = new URL(request.url, "http://127.0.0.1").pathname;
    const page = pages.get(path);
    if (page !== undefined) {
      response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      response.end(page);
      return;
    }
    const file = normalize(join(root, path.replace(/^\/pkg\//, "")));
    if (!path.startsWith("/pkg/") || !file.startsWith(root)) {
      response.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(file);
      const type = file.endsWith(".js") ? "text/javascript" : "application/octet-stream";
      response.writeHead(200, { "content-type": `${type}; charset=utf-8` });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    /** Adds a page whose only script is `source`, as `<script type="module">`; returns its URL. */
    page(source) {
      const path = `/page-${pages.size + 1}.html`;
      pages.set(
        path,
        `<!doctype html>\n<meta charset="utf-8">\n<link rel="icon" href="data:,">\n` +
          `<script type="importmap">${map}</script>\n<script type="module">\n${source}\n</script>\n`,
      );
      return `${origin}${path}`;
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/**
 * Opens `url` and returns what the page observed once it set
 * `window.finished`; fails with the page's own errors if it threw.
 */
export async function observe(context, url, timeout = 10_000) {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  try {
    await page.goto(url);
    await page.waitForFunction(() => globalThis.finished === true, null, { timeout }).catch(
      (error) => {
        throw new Error(`the page did not finish: ${errors.join("; ") || error.message}`);
      },
    );
    return { observed: await page.evaluate(() => globalThis.observed), errors };
  } finally {
    await page.close();
  }
}

/**
 * Starts the static site and Chromium before a file's tests and stops both
 * after them; `browser` and `site` are set once the tests run.
 */
export function useBrowser() {
  const used = { browser: undefined, site: undefined };
  before(async () => {
    used.site = await startSite();
    used.browser = await launchChromium();
  });
  after(async () => {
    await used.browser?.close();
    await used.site?.close();
  });
  return used;
}
