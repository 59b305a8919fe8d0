// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// `deno task test`: every check and every suite, on every runtime the project
// supports, ending with one line "tests: N passed, N failed".
//
//   deno task test            everything
//   deno task test deno node  only the groups named (static, deno, npm, node, bun, browser)

import { ensureTools, type Step, TOOLS_BIN } from "./_tools.ts";

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
  { group: "deno", name: "deno test", cmd: [deno, "test", "-A", "--doc"], counts: denoCounts },
];

/** Reads "ok | 14 passed (17 steps) | 0 failed" from `deno test`. */
function denoCounts(output: string): [number, number] | undefined {
  const line = output.match(/\|\s*(\d+) passed[^|]*\|\s*(\d+) failed/g)?.pop();
  if (!line) return undefined;
  const [, passed, failed] = line.match(/(\d+) passed[^|]*\|\s*(\d+) failed/)!;
  return [Number(passed), Number(failed)];
}

const wanted = new Set(Deno.args);
const selected = steps.filter((step) => wanted.size === 0 || wanted.has(step.group));
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
  if (!status.success) failures.push(step.name);
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
