// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// Where the npm side of the tests lives, shared by scripts/npm_consumer.ts (which
// builds it), scripts/run_tests.ts (which runs the suites in it) and scripts/size.ts.

import { ROOT } from "./_tools.ts";

/** The consumer project that installs the packed tarball, under .tools/ so `ws` resolves. */
export const CONSUMER: string = `${ROOT}.tools/consumer/`;

/** The tarball's file name, as `npm pack` writes it for deno.json's name and version. */
export function tarballName(): string {
  const { name, version } = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`));
  return `${String(name).replace(/^@/, "").replace("/", "-")}-${version}.tgz`;
}

/** The packed tarball inside the consumer project. */
export function tarballPath(): string {
  return `${CONSUMER}${tarballName()}`;
}

/**
 * The suites of `tests/<folder>` whose names end in `suffix`, as the paths of
 * their copies in the consumer project: a new `<topic>_node_test.mjs` (or
 * `_bun_test.mjs`, `_browser_test.mjs`) is picked up without touching the runner.
 */
export function suites(folder: "npm" | "browser", suffix: string): string[] {
  const names: string[] = [];
  for (const entry of Deno.readDirSync(`${ROOT}tests/${folder}`)) {
    if (entry.isFile && entry.name.endsWith(suffix)) names.push(entry.name);
  }
  return names.sort().map((name) => `${CONSUMER}tests/${folder}/${name}`);
}
