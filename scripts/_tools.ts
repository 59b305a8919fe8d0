// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// The development tools of the project live in .tools/ (an npm project that is
// never published): Deno, Bun, Node 24, TypeScript, Playwright and the rest.

/** One step of `deno task test`. */
export interface Step {
  /** The group that `deno task test <group>` selects. */
  group: string;
  /** Other groups that need this step first: it runs when any of them is selected too. */
  also?: string[];
  /** What the log calls it. */
  name: string;
  /** The command and its arguments. */
  cmd: string[];
  /** More environment for the command. */
  env?: Record<string, string>;
  /** Reads how many tests passed and failed from the output, where it can. */
  counts?: (output: string) => [number, number] | undefined;
}

const root = new URL("..", import.meta.url).pathname;

/** The project's root folder, ending in "/". */
export const ROOT: string = root;
/** Where the tools' binaries are. */
export const TOOLS_BIN: string = `${root}.tools/node_modules/.bin`;

/** Installs .tools/ when it is missing or older than its lockfile. */
export async function ensureTools(): Promise<void> {
  const lock = await Deno.stat(`${root}.tools/package-lock.json`);
  const installed = await Deno.stat(`${root}.tools/node_modules/.package-lock.json`).catch(() =>
    null
  );
  if (installed && installed.mtime! >= lock.mtime!) return;
  console.log("=== installing .tools (npm ci, falling back to npm install)");
  for (const command of ["ci", "install"]) {
    const { success } = await new Deno.Command("npm", {
      args: [command, "--no-audit", "--no-fund", "--prefix", `${root}.tools`],
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (success) return;
  }
  throw new Error("could not install .tools: see the npm output above");
}
