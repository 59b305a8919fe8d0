// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// `deno task bench [--quick] [--out <dir>] [--rounds <n>] [--only <id,...>] [--no-extras] [--profile]`
//
// Compares the library's WebSocket hub with the same runtime and no library,
// with socket.io 4 (Node) and with Bun's server.publish, over real WebSockets
// on 127.0.0.1. Each contender's hub runs in its own process (_hub.ts), the
// spokes in another (_load.ts, Node with `ws` or socket.io-client), and the
// contenders take turns round by round so that drift hits them all alike; the
// tables show medians over the rounds. Writes <out>/BENCHMARKS.md and
// <out>/benchmarks/fanout.svg (<out> defaults to the repository's root) and the
// raw samples to .bench/bench.json (bench-quick.json with --quick). --quick is
// one short round, under a minute in all; a full run takes about 10 minutes.
// --profile writes the hubs' CPU profiles to .bench/profiles/.
//
// Other benchmarks join the report without touching this file: every
// benchmarks/*.ts whose name starts with neither "_" nor "run" and does not end
// in "_test.ts" is a standalone benchmark. After the WebSocket rounds each one
// runs as `deno run -A benchmarks/<name>.ts [--quick]`, within 3 minutes (60 s
// with --quick; it should keep well under both). It prints Markdown to stdout:
// a "### <title>" heading, a table with its own header row, and any notes
// (machine-independent ratios are best). run.ts copies that text into
// BENCHMARKS.md under "Other transports", in file-name order. Progress goes to
// stderr; a failure or the time limit is reported in place of the section.
// Helper modules of such a script start with "_".

import { chart } from "./_chart.ts";
import type { LoadPlan, Step, StepResult } from "./_protocol.ts";
import { type Contender, CONTENDERS, report, type Run } from "./_report.ts";
import { ROOT, TOOLS_BIN } from "../scripts/_tools.ts";

const args = Deno.args;
const flag = (name: string) => args.includes(name);
const option = (name: string) => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
};
const quick = flag("--quick");
const out = (option("--out") ?? ROOT).replace(/\/?$/, "/");
const rounds = Number(option("--rounds") ?? (quick ? 1 : 3));
const only = option("--only")?.split(",");
const profile = flag("--profile");
const started = Date.now();
// Every wait is bounded; past the budget the remaining rounds are skipped and the report says so.
const BUDGET_MS = quick ? 110_000 : 9 * 60_000;

const decoder = new TextDecoder();
const log = (text: string) => console.error(text);

// --- The plan each load process runs ------------------------------------------

/** The spokes, messages and rates of one contender's turn in one round. */
function planSteps(): Step[] {
  const spokes = quick ? [100, 10] : [1000, 100, 10, 1];
  // Deliveries per fan-out cell, whatever N: about a second in all on a small machine.
  const deliveries: Record<number, number> = quick
    ? { 64: 20_000, 1024: 10_000 }
    : { 64: 100_000, 1024: 50_000 };
  const aggregated = quick ? 20_000 : 100_000;
  const aggregateAt = quick ? [100, 10] : [1000, 10];
  const roundtripAt = quick ? 10 : 100;
  const steps: Step[] = [
    { kind: "memory", label: "baseline" },
    { kind: "spokes", n: spokes[0] },
    { kind: "memory", label: "idle" },
    { kind: "fanout", m: quick ? 20 : 100, size: 64, warmup: true },
    { kind: "aggregate", k: quick ? 20 : 50, warmup: true },
  ];
  // Each cell is three runs of a third of its messages, of which the fastest counts.
  const repeat = 3;
  for (const n of spokes) {
    steps.push({ kind: "spokes", n });
    for (const size of [64, 1024]) {
      steps.push({ kind: "fanout", m: Math.ceil(deliveries[size] / n / repeat), size, repeat });
    }
    if (aggregateAt.includes(n)) {
      steps.push({ kind: "aggregate", k: Math.ceil(aggregated / n / repeat), repeat });
    }
    if (n === roundtripAt) {
      steps.push(
        quick
          ? { kind: "roundtrip", rate: 1000, seconds: 0.6, warmupSeconds: 0.2 }
          : { kind: "roundtrip", rate: 2000, seconds: 2, warmupSeconds: 0.5 },
      );
    }
  }
  return steps;
}

// --- Processes ------------------------------------------------------------------

const HUB = `${ROOT}benchmarks/_hub.ts`;
const LOAD = `${ROOT}benchmarks/_load.ts`;
const NODE = `${TOOLS_BIN}/node`;
const BUN = `${TOOLS_BIN}/bun`;
const PROFILES = `${ROOT}.bench/profiles`;
// The hubs load copies of the library, made for this run, which edits or a
// rebuild of npm/ during the rounds cannot change or pull away.
const COPIES = await Deno.makeTempDir({ prefix: "alkdev-pubsub-bench-" });
const SOURCE_COPY = `${COPIES}/source/`;
const NPM_COPY = `${COPIES}/npm/`;

function hubCommand(contender: Contender): string[] {
  const { runtime, kind, id } = contender;
  if (runtime === "deno") {
    const v8 = ["--expose-gc", ...profile ? ["--prof", `--logfile=${PROFILES}/${id}.v8.log`] : []];
    return [Deno.execPath(), "run", "-A", `--v8-flags=${v8.join(",")}`, HUB, kind, SOURCE_COPY];
  }
  const cpuProf = profile ? ["--cpu-prof", `--cpu-prof-dir=${PROFILES}`] : [];
  if (runtime === "node") {
    return [
      NODE,
      "--expose-gc",
      "--disable-warning=ExperimentalWarning",
      ...cpuProf,
      HUB,
      kind,
      NPM_COPY,
    ];
  }
  return [BUN, ...cpuProf, HUB, kind, NPM_COPY];
}

/** Lines of a child's stdout, as they come. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    let end;
    while ((end = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
    }
  }
  if (buffered) yield buffered;
}

function timeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** User plus system CPU seconds of a live process, from /proc (Linux). */
function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

function spawn(cmd: string[], stdin: "piped" | "null"): Deno.ChildProcess {
  return new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd: ROOT,
    stdin,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Collects a child's stderr, to quote when it fails. */
async function drain(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  for await (const chunk of stream) text = (text + decoder.decode(chunk)).slice(-4000);
  return text;
}

async function stop(child: Deno.ChildProcess, graceful: boolean): Promise<void> {
  if (graceful) {
    await child.stdin.close().catch(() => {});
    const exited = await timeout(child.status, 5000, "exit").then(() => true, () => false);
    if (exited) return;
  }
  try {
    child.kill("SIGKILL");
  } catch {
    // Already gone.
  }
  await child.status;
}

/** One contender's turn: a fresh hub process, a fresh load process, one plan. */
async function turn(contender: Contender): Promise<Run> {
  const hub = spawn(hubCommand(contender), "piped");
  const hubErrors = drain(hub.stderr);
  let load: Deno.ChildProcess | undefined;
  let loadErrors: Promise<string> | undefined;
  try {
    const hubLines = lines(hub.stdout);
    const first = await timeout(hubLines.next(), 20_000, `${contender.id} hub to listen`);
    if (first.done) throw new Error(`the hub exited:\n${await hubErrors}`);
    const { port } = JSON.parse(first.value);
    const plan: LoadPlan = {
      url: `ws://127.0.0.1:${port}`,
      protocol: contender.kind === "socketio" ? "socket.io" : "ws",
      steps: planSteps(),
      timeoutMs: quick ? 15_000 : 30_000,
    };
    load = spawn(
      [NODE, "--disable-warning=ExperimentalWarning", LOAD, JSON.stringify(plan)],
      "null",
    );
    loadErrors = drain(load.stderr);
    const loadLines = lines(load.stdout);
    const line = await timeout(loadLines.next(), quick ? 40_000 : 150_000, `${contender.id} load`);
    const cpu = { hub: cpuSeconds(hub.pid), load: cpuSeconds(load.pid) };
    if (line.done) throw new Error(`the load process exited:\n${await loadErrors}`);
    const answer = JSON.parse(line.value) as { results?: StepResult[]; error?: string };
    if (answer.error) throw new Error(answer.error);
    return { contender: contender.id, results: answer.results!, cpu };
  } catch (error) {
    const hubLog = await timeout(hubErrors, 100, "").catch(() => "");
    const message = `${(error as Error).message}${hubLog ? `\nhub stderr:\n${hubLog}` : ""}`;
    log(`  ${contender.id} failed: ${message}`);
    return { contender: contender.id, results: [], error: message };
  } finally {
    if (load) await stop(load, false);
    await stop(hub, true);
  }
}

// --- The npm build, the machine, the extras -----------------------------------

/**
 * Builds npm/ when it is missing or older than any library file, then copies
 * the sources and the build for the hubs. Returns a warning for the report
 * when the build failed and an older one is used.
 */
async function prepareLibrary(): Promise<string | undefined> {
  const built = await Deno.stat(`${ROOT}npm/esm/mod.js`).then((s) => s.mtime!, () => undefined);
  const sources = [...Deno.readDirSync(ROOT)]
    .filter((entry) => entry.isFile && entry.name.endsWith(".ts"))
    .map((entry) => entry.name);
  const newest = Math.max(
    ...[...sources, "deno.json"].map((name) => Deno.statSync(`${ROOT}${name}`).mtime!.getTime()),
  );
  let warning: string | undefined;
  if (!built || built.getTime() < newest) {
    log("building the npm package (deno task build:npm)");
    const { success, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${ROOT}scripts/build_npm.ts`],
      cwd: ROOT,
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!success) {
      const why = decoder.decode(stderr).trim().split("\n").slice(-3).join(" ");
      if (!built) throw new Error(`the npm build failed: ${why}`);
      warning =
        `The npm build failed (${why}); Node and Bun ran the build of ${built.toISOString()}.`;
      log(warning);
    }
  }
  await Deno.mkdir(SOURCE_COPY, { recursive: true });
  for (const name of sources) await Deno.copyFile(`${ROOT}${name}`, `${SOURCE_COPY}${name}`);
  await Deno.mkdir(`${NPM_COPY}esm`, { recursive: true });
  await Deno.copyFile(`${ROOT}npm/package.json`, `${NPM_COPY}package.json`);
  for (const entry of Deno.readDirSync(`${ROOT}npm/esm`)) {
    await Deno.copyFile(`${ROOT}npm/esm/${entry.name}`, `${NPM_COPY}esm/${entry.name}`);
  }
  return warning;
}

async function version(cmd: string[]): Promise<string> {
  const { stdout } = await new Deno.Command(cmd[0], { args: cmd.slice(1) }).output();
  return decoder.decode(stdout).trim().replace(/^v/, "");
}

async function machine() {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const tools = (name: string) =>
    JSON.parse(Deno.readTextFileSync(`${ROOT}.tools/node_modules/${name}/package.json`)).version;
  return {
    cpu: cpuinfo.match(/model name\s*:\s*(.+)/)?.[1] ?? "unknown CPU",
    cores: navigator.hardwareConcurrency,
    memoryGiB: Math.round(Deno.systemMemoryInfo().total / 2 ** 30),
    os: `${Deno.build.os} ${Deno.osRelease()}`,
    deno: Deno.version.deno,
    node: await version([NODE, "--version"]),
    bun: await version([BUN, "--version"]),
    ws: tools("ws"),
    socketio: tools("socket.io"),
  };
}

/** The standalone benchmarks, by the convention at the top of this file. */
function extras(): string[] {
  return [...Deno.readDirSync(`${ROOT}benchmarks`)]
    .map((entry) => entry.name)
    .filter((name) =>
      name.endsWith(".ts") && !name.startsWith("_") && !name.startsWith("run") &&
      !name.endsWith("_test.ts")
    )
    .sort();
}

async function runExtra(name: string): Promise<string> {
  const limit = quick ? 60_000 : 180_000;
  const child = spawn(
    [Deno.execPath(), "run", "-A", `${ROOT}benchmarks/${name}`, ...quick ? ["--quick"] : []],
    "null",
  );
  const errors = drain(child.stderr);
  const output = (async () => {
    let text = "";
    for await (const line of lines(child.stdout)) text += line + "\n";
    return text;
  })();
  try {
    const status = await timeout(child.status, limit, name);
    if (!status.success) {
      return `### ${name}\n\nFailed (exit code ${status.code}):\n\n\`\`\`\n${await errors}\n\`\`\`\n`;
    }
    return (await output).trim() + "\n";
  } catch (error) {
    await stop(child, false);
    return `### ${name}\n\n${(error as Error).message}\n`;
  }
}

// --- Main -------------------------------------------------------------------------

const contenders = CONTENDERS.filter((contender) => !only || only.includes(contender.id));
if (contenders.length === 0) throw new Error(`--only matched no contender: ${only}`);
const runs: Run[] = [];
let skipped = 0;
let warning: string | undefined;
const extraSections: string[] = [];
try {
  warning = await prepareLibrary();
  if (profile) await Deno.mkdir(PROFILES, { recursive: true });
  for (let round = 0; round < rounds; round++) {
    // Each round starts with a different contender, so none always runs first or last.
    const shift = Math.floor((round * contenders.length) / rounds);
    const order = [...contenders.slice(shift), ...contenders.slice(0, shift)];
    for (const contender of order) {
      if (Date.now() - started > BUDGET_MS) {
        skipped++;
        continue;
      }
      const at = Date.now();
      log(`round ${round + 1}/${rounds}: ${contender.id}`);
      runs.push({ ...await turn(contender), round });
      log(`  ${((Date.now() - at) / 1000).toFixed(1)}s`);
    }
  }
} finally {
  await Deno.remove(COPIES, { recursive: true });
}
if (!flag("--no-extras")) {
  for (const name of extras()) {
    log(`extra: ${name}`);
    extraSections.push(await runExtra(name));
  }
}

const info = await machine();
const seconds = (Date.now() - started) / 1000;
const { markdown, panels } = report({
  info,
  runs,
  contenders,
  rounds,
  quick,
  skipped,
  seconds,
  extras: extraSections,
  warnings: warning ? [warning] : [],
});
await Deno.mkdir(`${out}benchmarks`, { recursive: true });
await Deno.writeTextFile(`${out}BENCHMARKS.md`, markdown);
await Deno.writeTextFile(
  `${out}benchmarks/fanout.svg`,
  chart("Fan-out: deliveries per second (median), log scales", panels),
);
// Laid out as `deno fmt` wants, so that both pass `deno fmt --check` in the repository.
await new Deno.Command(Deno.execPath(), {
  args: ["fmt", "-q", `${out}BENCHMARKS.md`, `${out}benchmarks/fanout.svg`],
  cwd: ROOT,
}).output();
await Deno.mkdir(`${ROOT}.bench`, { recursive: true });
const samples = `${ROOT}.bench/bench${quick ? "-quick" : ""}.json`;
await Deno.writeTextFile(samples, JSON.stringify({ info, runs }, null, 1));
log(`wrote ${out}BENCHMARKS.md and ${out}benchmarks/fanout.svg in ${seconds.toFixed(0)}s`);
