// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// Builds the npm package once, packs it once, and installs the tarball into a
// throwaway consumer project, as a user would install it. Every npm-side suite
// (Node 20, Node 24, Bun, Chromium, the typing test) then runs against that
// installed copy, never against the sources.
//
//   npm/                                  the built package (scripts/build_npm.ts)
//   .tools/consumer/                      made anew on each run; ignores itself (.gitignore "*")
//     package.json                        depends on "file:./alkdev-pubsub-<version>.tgz"
//     alkdev-pubsub-<version>.tgz         what `npm pack` wrote (publint and attw check it)
//     node_modules/@alkdev/pubsub/        the tarball installed by `npm install --offline`
//     tests/npm/                          a copy of tests/npm/ (Node and Bun suites, typing test)
//     tests/browser/                      a copy of tests/browser/ (the Chromium suite)
//
// From the copies, `import "@alkdev/pubsub/..."` resolves to the installed
// package, and `ws`, `playwright-core` and `@types/*` resolve from
// .tools/node_modules, one folder further up. Nothing here needs the network.

import { buildNpm } from "./build_npm.ts";
import { CONSUMER, tarballName } from "./_npm.ts";
import { ROOT } from "./_tools.ts";

async function run(cmd: string, args: string[], cwd: string): Promise<string> {
  const { success, stdout, stderr } = await new Deno.Command(cmd, { args, cwd }).output();
  const out = new TextDecoder().decode(stdout);
  if (!success) {
    throw new Error(`${cmd} ${args.join(" ")} failed:\n${out}${new TextDecoder().decode(stderr)}`);
  }
  return out;
}

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) await copyTree(`${from}/${entry.name}`, `${to}/${entry.name}`);
    else if (entry.isFile) await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

const { dir, manifest } = await buildNpm();
await Deno.remove(CONSUMER, { recursive: true }).catch(() => {});
await Deno.mkdir(CONSUMER, { recursive: true });
await Deno.writeTextFile(`${CONSUMER}.gitignore`, "*\n");

const [packed] = JSON.parse(
  await run("npm", ["pack", "--json", "--pack-destination", CONSUMER], dir),
);
if (packed.filename !== tarballName()) {
  throw new Error(`npm pack wrote ${packed.filename}, expected ${tarballName()}`);
}
await Deno.writeTextFile(
  `${CONSUMER}package.json`,
  JSON.stringify(
    {
      name: "alkdev-pubsub-consumer",
      private: true,
      type: "module",
      dependencies: { [manifest.name as string]: `file:./${packed.filename}` },
    },
    null,
    2,
  ) + "\n",
);
await run(
  "npm",
  ["install", "--offline", "--no-audit", "--no-fund", "--no-package-lock"],
  CONSUMER,
);
for (const folder of ["npm", "browser"]) {
  await copyTree(`${ROOT}tests/${folder}`, `${CONSUMER}tests/${folder}`);
}
console.log(
  `packed ${packed.filename} (${packed.files.length} files, ${packed.size} bytes) and installed it in ${CONSUMER}`,
);
