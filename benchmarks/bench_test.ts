// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// Benchmarks are not tests: this only checks that `deno task bench --quick`
// runs and reports sane figures. `deno task test bench` runs it (deno.json
// keeps benchmarks/ out of the plain `deno test`, being slow and CPU-bound).

import { equal, ok } from "node:assert/strict";
import { CONTENDERS } from "./_report.ts";

const RUN = new URL("./run.ts", import.meta.url).pathname;
const LIMIT_MS = 240_000;

/** The cells of the table under `heading`, by the row's first cell. */
function tableUnder(markdown: string, heading: string): Map<string, string[]> {
  const section = markdown.split(`\n## ${heading}\n`)[1]?.split("\n## ")[0] ?? "";
  const rows = new Map<string, string[]>();
  for (const line of section.split("\n")) {
    if (!line.startsWith("|")) continue;
    // `deno fmt` pads the cells to align the columns.
    const cells = line.split("|").slice(1, -1).map((cell) => cell.trim());
    rows.set(cells[0], cells.slice(1));
  }
  return rows;
}

/** "12,345", "1.23" or "1,024 B" as a number; NaN for anything else. */
function figure(cell: string): number {
  return /^[\d,.]+( B)?$/.test(cell) ? Number(cell.replace(/,| B$/g, "")) : NaN;
}

Deno.test("deno task bench --quick reports every contender with figures above zero", async () => {
  const out = await Deno.makeTempDir({ prefix: "alkdev-pubsub-bench-" });
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", RUN, "--quick", "--out", out],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), LIMIT_MS);
    const { success, stderr } = await child.output().finally(() => clearTimeout(timer));
    ok(success, `run.ts failed:\n${new TextDecoder().decode(stderr).slice(-3000)}`);

    const markdown = await Deno.readTextFile(`${out}/BENCHMARKS.md`);
    ok(!markdown.includes("\n## Problems\n"), markdown.split("\n## Problems\n")[1]);
    // Which cells of each table must be figures: the "/ raw" ratios of a raw row and its
    // "extra heap over raw" are "—" by design, and RSS need not grow with 100 idle spokes.
    const checks: [heading: string, from: number, to: number][] = [
      ["Fan-out: deliveries per second", 0, 4],
      ["Aggregation: messages per second", 0, 2],
      ["Round trip", 0, 3],
      ["Memory", 1, 2],
    ];
    for (const [heading, from, to] of checks) {
      const rows = tableUnder(markdown, heading);
      for (const { label } of CONTENDERS) {
        const cells = rows.get(label);
        ok(cells, `"${heading}" has no row for ${label}`);
        equal(cells.length >= to, true, `"${heading}", ${label}: too few cells`);
        for (const cell of cells.slice(from, to)) {
          ok(figure(cell) > 0, `"${heading}", ${label}: "${cell}" is not a figure above zero`);
        }
      }
    }
    const svg = await Deno.readTextFile(`${out}/benchmarks/fanout.svg`);
    // One line per contender in each of the two panels (64 B and 1 KiB).
    equal(svg.match(/<polyline /g)?.length, CONTENDERS.length * 2);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
