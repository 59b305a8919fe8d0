// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// `deno task build:npm`: writes the npm package to npm/.
//
//   npm/package.json   name, version and license from deno.json; `exports` mirrors
//                      deno.json's, each entry with `types` and `default`
//   npm/esm/*.js       ES modules (ES2022), with `.d.ts` beside them
//   npm/README.md, npm/LICENSE
//
// dnt lives on JSR, which these machines cannot reach, so the TypeScript
// compiler from .tools/ builds it. The sources import with `.ts` extensions:
// `rewriteRelativeImportExtensions` turns them into `.js` in the emitted
// JavaScript, and the build rewrites the declarations the same way (tsc leaves
// `.ts` there, which TypeScript before 5.0 cannot resolve). Only the entry
// files and what they import go in: tsc follows the imports from the entries.

import { ROOT, TOOLS_BIN } from "./_tools.ts";

/** What the build wrote. */
export interface NpmBuild {
  /** The package folder (npm/, with a trailing "/"). */
  dir: string;
  /** The package.json it wrote. */
  manifest: Record<string, unknown>;
}

const OUT = `${ROOT}npm/`;

/** Builds the npm package into npm/ from deno.json's entries. */
export async function buildNpm(): Promise<NpmBuild> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const entries = config.exports as Record<string, string>;
  await Deno.remove(OUT, { recursive: true }).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
  await Deno.mkdir(`${OUT}esm`, { recursive: true });

  const emitted = await compile(Object.values(entries).map((file) => `${ROOT}${file.slice(2)}`));
  for (const file of emitted.filter((file) => file.endsWith(".d.ts"))) {
    await Deno.writeTextFile(file, jsSpecifiers(await Deno.readTextFile(file)));
  }

  const manifest = {
    name: config.name,
    version: config.version,
    description: "Pub/sub event targets on the web-standard EventTarget: JSON envelopes " +
      "{ type, id, payload } between a hub and its spokes, over WebSocket and other transports.",
    license: config.license,
    keywords: ["pubsub", "websocket", "eventtarget", "hub", "fan-out", "deno", "bun", "browser"],
    type: "module",
    sideEffects: false,
    exports: Object.fromEntries(
      Object.entries(entries).map(([path, file]) => {
        const base = `./esm/${file.slice(2).replace(/\.ts$/, "")}`;
        return [path, { types: `${base}.d.ts`, default: `${base}.js` }];
      }),
    ),
    files: ["esm/"],
    engines: { node: ">=20" },
  };
  for (const [path, target] of Object.entries(manifest.exports)) {
    for (const file of Object.values(target)) {
      await Deno.stat(`${OUT}${file.slice(2)}`).catch(() => {
        throw new Error(`export "${path}" points at ${file}, which the build did not write`);
      });
    }
  }
  await Deno.writeTextFile(`${OUT}package.json`, JSON.stringify(manifest, null, 2) + "\n");
  await Deno.copyFile(`${ROOT}README.md`, `${OUT}README.md`);
  await Deno.copyFile(`${ROOT}LICENSE`, `${OUT}LICENSE`);
  return { dir: OUT, manifest };
}

/** Compiles the entries and what they import into npm/esm/; returns the files written. */
async function compile(entries: string[]): Promise<string[]> {
  const tsconfig = {
    compilerOptions: {
      // Node 20, Bun, Deno and current browsers all run ES2022 (native #private fields).
      target: "ES2022",
      module: "ESNext",
      moduleResolution: "bundler",
      // Only what browsers and every runtime share: no @types, no Deno or Node globals.
      lib: ["ES2023", "DOM", "DOM.Iterable"],
      types: [],
      strict: true,
      isolatedModules: true,
      declaration: true,
      rewriteRelativeImportExtensions: true,
      noEmitOnError: true,
      rootDir: ROOT,
      outDir: `${OUT}esm`,
      newLine: "lf",
    },
    files: entries,
  };
  const dir = await Deno.makeTempDir({ prefix: "alkdev-pubsub-build-" });
  try {
    await Deno.writeTextFile(`${dir}/tsconfig.json`, JSON.stringify(tsconfig));
    const { success, stdout, stderr } = await new Deno.Command(`${TOOLS_BIN}/tsc`, {
      args: ["-p", `${dir}/tsconfig.json`, "--listEmittedFiles", "--pretty", "false"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const output = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    if (!success) throw new Error(`tsc failed:\n${output}`);
    const files = [...output.matchAll(/^TSFILE: (.+)$/gm)].map((match) => match[1].trim());
    // Everything comes from top-level library files; a path with a folder means
    // an entry imported something outside the library (a test, a script).
    const strays = files.filter((file) => file.slice(`${OUT}esm/`.length).includes("/"));
    if (strays.length) throw new Error(`the library imports files outside it:\n${strays}`);
    return files;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Rewrites relative `.ts` module specifiers in a declaration file to `.js`. */
export function jsSpecifiers(text: string): string {
  return text.replace(
    /((?:from|import)\s*\(?\s*)(["'])(\.{1,2}\/[^"'\n]+)\.ts\2/g,
    (_, before, quote, path) => `${before}${quote}${path}.js${quote}`,
  );
}

if (import.meta.main) {
  const { dir, manifest } = await buildNpm();
  console.log(
    `built ${manifest.name}@${manifest.version} in ${dir} (${
      Object.keys(manifest.exports as object).length
    } entries)`,
  );
}
