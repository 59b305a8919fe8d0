// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// The fan-out chart of BENCHMARKS.md: deliveries per second against the number
// of spokes, one line per contender, one panel per payload size, both axes in
// log scale. Plain SVG text, no dependency.

/** One contender's line in one panel. */
export interface Series {
  label: string;
  color: string;
  /** Spokes and deliveries per second; a missing point is left out. */
  points: [n: number, perSecond: number][];
  /** Dashed: a baseline rather than the library. */
  dashed?: boolean;
}

/** One panel: a title and its lines. */
export interface Panel {
  title: string;
  series: Series[];
}

const PANEL_WIDTH = 420;
const PANEL_HEIGHT = 300;
const MARGIN = { left: 70, right: 20, top: 40, bottom: 50 };
const LEGEND_ROW = 18;

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A number as the axis shows it: 1k, 20k, 1.5M. */
export function shortNumber(value: number): string {
  if (value >= 1e6) return `${+(value / 1e6).toPrecision(2)}M`;
  if (value >= 1e3) return `${+(value / 1e3).toPrecision(2)}k`;
  return `${+value.toPrecision(2)}`;
}

/** 1, 2 and 5 times the powers of ten around `value`: the decade below to the decade above. */
function roundNumbers(value: number): number[] {
  const decade = 10 ** Math.floor(Math.log10(value));
  return [decade / 10, decade / 5, decade / 2, decade, decade * 2, decade * 5, decade * 10];
}

/** Renders the panels side by side, with one legend for all of them. */
export function chart(title: string, panels: Panel[]): string {
  const all = panels.flatMap((panel) => panel.series.flatMap((series) => series.points));
  const ns = [...new Set(all.map(([n]) => n))].sort((a, b) => a - b);
  const values = all.map(([, value]) => value).filter((value) => value > 0);
  if (ns.length === 0 || values.length === 0) throw new Error("the chart has no points");
  // The y axis ends on round numbers (1, 2 or 5 times a power of ten) around the data.
  const low = roundNumbers(Math.min(...values)).filter((tick) => tick <= Math.min(...values)).at(
    -1,
  )!;
  const high = roundNumbers(Math.max(...values)).find((tick) => tick >= Math.max(...values))!;
  const plotWidth = PANEL_WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const logSpan = (from: number, to: number, value: number) =>
    (Math.log10(value) - Math.log10(from)) / Math.max(1e-9, Math.log10(to) - Math.log10(from));
  // Coordinates to a tenth of a pixel: enough for the eye, short in the file.
  const round = (value: number) => Math.round(value * 10) / 10;
  const x = (n: number) =>
    round(
      MARGIN.left + (ns.length === 1 ? plotWidth / 2 : logSpan(ns[0], ns.at(-1)!, n) * plotWidth),
    );
  const y = (value: number) =>
    round(MARGIN.top + plotHeight - logSpan(low, high, value) * plotHeight);

  const legend = panels[0].series;
  const width = PANEL_WIDTH * panels.length;
  const height = PANEL_HEIGHT + 20 + legend.length * LEGEND_ROW;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="15">${escape(title)}</text>`,
  ];
  panels.forEach((panel, index) => {
    out.push(`<g transform="translate(${index * PANEL_WIDTH},0)">`);
    out.push(
      `<text x="${MARGIN.left + plotWidth / 2}" y="${MARGIN.top - 8}" text-anchor="middle">${
        escape(panel.title)
      }</text>`,
    );
    for (let decade = 10 ** Math.floor(Math.log10(low)); decade <= high; decade *= 10) {
      for (const step of [1, 2, 5]) {
        const tick = decade * step;
        if (tick < low || tick > high) continue;
        const strong = step === 1;
        out.push(
          `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${y(tick)}" y2="${
            y(tick)
          }" stroke="${strong ? "#ccc" : "#eee"}"/>`,
          `<text x="${MARGIN.left - 6}" y="${y(tick) + 4}" text-anchor="end" fill="#555">${
            shortNumber(tick)
          }</text>`,
        );
      }
    }
    for (const n of ns) {
      out.push(
        `<line x1="${x(n)}" x2="${x(n)}" y1="${MARGIN.top}" y2="${
          MARGIN.top + plotHeight
        }" stroke="#eee"/>`,
        `<text x="${x(n)}" y="${
          MARGIN.top + plotHeight + 16
        }" text-anchor="middle" fill="#555">${n}</text>`,
      );
    }
    out.push(
      `<text x="${MARGIN.left + plotWidth / 2}" y="${
        PANEL_HEIGHT - 12
      }" text-anchor="middle">spokes (N)</text>`,
      `<text transform="translate(16,${
        MARGIN.top + plotHeight / 2
      }) rotate(-90)" text-anchor="middle">deliveries per second</text>`,
    );
    for (const series of panel.series) {
      const points = series.points.filter(([, value]) => value > 0);
      if (points.length === 0) continue;
      const path = points.map(([n, value]) => `${x(n)},${y(value)}`);
      out.push(
        `<polyline fill="none" stroke="${series.color}" stroke-width="2"${
          series.dashed ? ' stroke-dasharray="6 4"' : ""
        } points="${path.join(" ")}"/>`,
        ...points.map(([n, value]) =>
          `<circle cx="${x(n).toFixed(1)}" cy="${
            y(value).toFixed(1)
          }" r="3" fill="${series.color}"/>`
        ),
      );
    }
    out.push(`</g>`);
  });
  legend.forEach((series, index) => {
    const top = PANEL_HEIGHT + 10 + index * LEGEND_ROW;
    out.push(
      `<line x1="${MARGIN.left}" x2="${
        MARGIN.left + 30
      }" y1="${top}" y2="${top}" stroke="${series.color}" stroke-width="2"${
        series.dashed ? ' stroke-dasharray="6 4"' : ""
      }/>`,
      `<text x="${MARGIN.left + 38}" y="${top + 4}">${escape(series.label)}</text>`,
    );
  });
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}
