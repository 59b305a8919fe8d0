// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// How many bytes each entry of the npm package costs a browser: the built ES
// module plus everything it imports, bundled and minified by esbuild, then
// gzipped. The client entry is the one that matters (goal: under 2 KB); for
// it, the bytes each file adds to the minified bundle are listed too.
//
//   deno run -A scripts/size.ts              builds npm/ first
//   deno run -A scripts/size.ts --no-build   measures npm/ as it is (run_tests.ts, after its build)

import { buildNpm } from "./build_npm.ts";
import { ROOT, TOOLS_BIN } from "./_tools.ts";

const GOAL = 2048;
const CLIENT = "./event-target-websocket-client";

interface Bundle {
  minified: number;
  gzipped: number;
  /** Bytes each input file adds to the minified output. */
  inputs: Record<string, number>;
}

async function bundle(entry: string, dir: string): Promise<Bundle> {
  const out = `${dir}/out.js`;
  const meta = `${dir}/meta.json`;
  const { success, stderr } = await new Deno.Command(`${TOOLS_BIN}/esbuild`, {
    args: [
      entry,
      "--bundle",
      "--minify",
      "--format=esm",
      "--platform=browser",
      `--outfile=${out}`,
      `--metafile=${meta}`,
      "--log-level=warning",
    ],
    stderr: "piped",
  }).output();
  if (!success) throw new Error(`esbuild failed on ${entry}:\n${new TextDecoder().decode(stderr)}`);
  const code = await Deno.readFile(out);
  const gzipped = await new Response(
    new Blob([code]).stream().pipeThrough(new CompressionStream("gzip")),
  ).arrayBuffer();
  const { outputs } = JSON.parse(await Deno.readTextFile(meta));
  const inputs: Record<string, number> = {};
  for (
    const output of Object.values(outputs) as {
      inputs: Record<string, { bytesInOutput: number }>;
    }[]
  ) {
    for (const [file, { bytesInOutput }] of Object.entries(output.inputs)) {
      inputs[file.replace(/^.*\/esm\//, "")] = bytesInOutput;
    }
  }
  return { minified: code.byteLength, gzipped: gzipped.byteLength, inputs };
}

if (!Deno.args.includes("--no-build")) await buildNpm();
const manifest = JSON.parse(await Deno.readTextFile(`${ROOT}npm/package.json`));
const exports = manifest.exports as Record<string, { default: string }>;
const dir = await Deno.makeTempDir({ prefix: "alkdev-pubsub-size-" });
try {
  console.log(`${"entry (its built ES module + all it imports)".padEnd(46)} minified   min+gzip`);
  let client: Bundle | undefined;
  for (const [path, { default: file }] of Object.entries(exports)) {
    const result = await bundle(`${ROOT}npm/${file.slice(2)}`, dir);
    if (path === CLIENT) client = result;
    const name = path === "." ? manifest.name : `${manifest.name}${path.slice(1)}`;
    console.log(
      `${name.padEnd(46)} ${String(result.minified).padStart(8)} B ${
        String(result.gzipped).padStart(8)
      } B`,
    );
  }
  if (!client) throw new Error(`the package has no ${CLIENT} entry`);
  console.log(`\n${manifest.name}${CLIENT.slice(1)}, minified bytes by file:`);
  const byFile = Object.entries(client.inputs).sort(([, a], [, b]) => b - a);
  for (const [file, bytes] of byFile) {
    console.log(`  ${file.padEnd(24)} ${String(bytes).padStart(6)} B`);
  }
  console.log(
    `\nclient entry: ${client.gzipped} B minified+gzipped (goal under ${GOAL} B: ${
      client.gzipped < GOAL ? "met" : "NOT met"
    })`,
  );
} finally {
  await Deno.remove(dir, { recursive: true });
}
