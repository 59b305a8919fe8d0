// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// `deno task test`: every check and every suite, on every runtime the project
// supports, ending with one line "tests: N passed, N failed".
//
//   deno task test            everything
//   deno task test deno node  only the groups named (static, deno, npm, node, bun, browser, bench)

import { ensureTools, type Step, TOOLS_BIN } from "./_tools.ts";
import { CONSUMER, suites, tarballPath } from "./_npm.ts";

const deno = Deno.execPath();
const entries = Object.values(
  JSON.parse(await Deno.readTextFile("deno.json")).exports as Record<string, string>,
);

const steps: Step[] = [
  { group: "static", name: "deno fmt --check", cmd: [deno, "fmt", "--check"] },
  { group: "static", name: "deno lint", cmd: [deno, "lint"] },
  { group: "static", name: "deno check", cmd: [deno, "check", "."] },
  { group: "static", name: "deno doc --lint", cmd: [deno, "doc", "--lint", ...entries] },
  {
    group: "static",
    name: "deno publish --dry-run",
    cmd: [deno, "publish", "--dry-run", "--allow-dirty"],
  },
  {
    group: "static",
    name: "docs match the code",
    cmd: [deno, "run", "--allow-read", "--allow-run", "scripts/check_docs.ts"],
  },
  {
    group: "deno",
    name: "deno test",
    cmd: [deno, "test", "-A", "--doc"],
    counts: denoCounts,
  },
  {
    group: "deno",
    name: "deno test (iroh)",
    // The iroh suite loads a native addon, so it runs in a process of its own (deno.json
    // excludes it from the run above; --no-config lets it be named here).
    cmd: [deno, "test", "-A", "--no-config", "tests/iroh_test.ts"],
    counts: denoCounts,
  },
];

// The npm package is built once and packed once; every step after the first
// runs against that tarball, installed into .tools/consumer/ as a user would
// (scripts/npm_consumer.ts). The suites are found by name: tests/npm/*_node_test.mjs,
// tests/npm/*_bun_test.mjs and tests/browser/*_browser_test.mjs.
const tarball = tarballPath();
const typing = `${CONSUMER}tests/npm/types`;
const node24 = `${TOOLS_BIN}/node`;
const nodeTest = ["--test", "--test-reporter=spec", "--test-timeout=60000"];
steps.push(
  {
    group: "npm",
    also: ["node", "bun", "browser"],
    name: "npm package: build, pack, install",
    cmd: [deno, "run", "-A", "scripts/npm_consumer.ts"],
  },
  { group: "npm", name: "publint", cmd: [`${TOOLS_BIN}/publint`, "run", "--strict", tarball] },
  {
    group: "npm",
    name: "attw (esm-only)",
    cmd: [`${TOOLS_BIN}/attw`, tarball, "--profile", "esm-only", "--no-definitely-typed"],
  },
  {
    group: "npm",
    name: "types: tsc, moduleResolution nodenext",
    cmd: [`${TOOLS_BIN}/tsc`, "-p", `${typing}/tsconfig.nodenext.json`],
  },
  {
    group: "npm",
    name: "types: tsc, moduleResolution bundler",
    cmd: [`${TOOLS_BIN}/tsc`, "-p", `${typing}/tsconfig.bundler.json`],
  },
  // Prints the client entry's min+gzip size; fails only if it cannot bundle.
  { group: "npm", name: "size", cmd: [deno, "run", "-A", "scripts/size.ts", "--no-build"] },
  {
    group: "node",
    name: "node 20 --test",
    cmd: ["/usr/bin/node", ...nodeTest, ...suites("npm", "_node_test.mjs")],
    env: { EXPECT_NODE_MAJOR: "20" },
    counts: nodeCounts,
  },
  {
    group: "node",
    name: "node 24 --test",
    cmd: [node24, ...nodeTest, ...suites("npm", "_node_test.mjs")],
    env: { EXPECT_NODE_MAJOR: "24" },
    counts: nodeCounts,
  },
  {
    group: "bun",
    name: "bun test",
    cmd: [`${TOOLS_BIN}/bun`, "test", "--timeout", "60000", ...suites("npm", "_bun_test.mjs")],
    counts: bunCounts,
  },
  {
    group: "browser",
    name: "chromium (node 24 --test)",
    cmd: [node24, ...nodeTest, ...suites("browser", "_browser_test.mjs")],
    counts: nodeCounts,
  },
  {
    // deno.json keeps benchmarks/ out of `deno test`, and an excluded file given by
    // name is skipped too: --no-config lets this one smoke test of the bench run.
    group: "bench",
    name: "deno task bench --quick",
    cmd: [deno, "test", "-A", "--no-config", "benchmarks/bench_test.ts"],
    counts: denoCounts,
  },
);

/** Reads the "ℹ pass 21" / "ℹ fail 0" / "ℹ cancelled 0" summary of `node --test` (spec or tap). */
function nodeCounts(output: string): [number, number] | undefined {
  const last = (name: string) => {
    const all = [...output.matchAll(new RegExp(`^[ℹ#] ${name} (\\d+)$`, "gm"))];
    return all.length ? Number(all[all.length - 1][1]) : undefined;
  };
  const [pass, fail, cancelled] = [last("pass"), last("fail"), last("cancelled")];
  if (pass === undefined || fail === undefined) return undefined;
  return [pass, fail + (cancelled ?? 0)];
}

/** Reads the " 13 pass" / " 0 fail" summary of `bun test`. */
function bunCounts(output: string): [number, number] | undefined {
  const pass = output.match(/^\s*(\d+) pass$/m);
  const fail = output.match(/^\s*(\d+) fail$/m);
  if (!pass || !fail) return undefined;
  return [Number(pass[1]), Number(fail[1])];
}

/** Reads "ok | 14 passed (17 steps) | 0 failed" from `deno test`. */
function denoCounts(output: string): [number, number] | undefined {
  const line = output.match(/\|\s*(\d+) passed[^|]*\|\s*(\d+) failed/g)?.pop();
  if (!line) return undefined;
  const [, passed, failed] = line.match(/(\d+) passed[^|]*\|\s*(\d+) failed/)!;
  return [Number(passed), Number(failed)];
}

const wanted = new Set(Deno.args);
const selected = steps.filter((step) =>
  wanted.size === 0 || [step.group, ...step.also ?? []].some((group) => wanted.has(group))
);
await ensureTools();

let passed = 0;
let failed = 0;
const failures: string[] = [];
for (const step of selected) {
  const started = performance.now();
  console.log(`\n=== ${step.name}`);
  const child = new Deno.Command(step.cmd[0], {
    args: step.cmd.slice(1),
    env: { PATH: `${TOOLS_BIN}:${Deno.env.get("PATH")}`, NO_COLOR: "1", ...step.env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const [out, err, status] = await Promise.all([
    echo(child.stdout, Deno.stdout),
    echo(child.stderr, Deno.stderr),
    child.status,
  ]);
  const output = out + err;
  const counts = step.counts?.(output) ?? (status.success ? [1, 0] : [0, 1]);
  // A step that failed without failing a test still fails the run.
  if (!status.success && counts[1] === 0) counts[1] = 1;
  passed += counts[0];
  failed += counts[1];
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `--- ${step.name}: ${status.success ? "ok" : "FAILED"} (${counts[0]} passed, ${
      counts[1]
    } failed, ${seconds}s)`,
  );
  if (!status.success) {
    failures.push(step.name);
    // A crash leaves no summary behind: say how the process ended.
    console.log(`    exit code ${status.code}${status.signal ? `, signal ${status.signal}` : ""}`);
  }
}

/** Copies a child's stream to ours as it comes, and keeps its text. */
async function echo(
  stream: ReadableStream<Uint8Array>,
  to: { write(p: Uint8Array): Promise<number> },
) {
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    text += decoder.decode(chunk, { stream: true });
    await to.write(chunk);
  }
  return text;
}

console.log();
if (failures.length) console.log(`failed steps: ${failures.join(", ")}`);
console.log(`tests: ${passed} passed, ${failed} failed`);
Deno.exit(failed === 0 ? 0 : 1);
