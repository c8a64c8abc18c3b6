// Pure: how numbers read on the page.
import type { Speed } from "./speed.ts";

export type YFormat = "number" | "percent" | "cents" | "ms";

const pad = (n: number) => String(n).padStart(2, "0");

/** A chart axis or table value. */
export function formatValue(v: number, f: YFormat): string {
  if (!Number.isFinite(v)) return "–";
  switch (f) {
    case "percent": {
      const p = v * 100;
      return `${p.toFixed(Math.abs(p) >= 10 || p === 0 ? 0 : 1)}%`;
    }
    case "cents": {
      const d = v / 100;
      return Math.abs(d) >= 1000 ? `$${(d / 1000).toFixed(1)}k` : `$${d.toFixed(Math.abs(d) >= 10 || d === 0 ? 0 : 2)}`;
    }
    case "ms":
      if (v === 0) return "0 ms";
      return `${v >= 10 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2)} ms`;
    default:
      return Math.abs(v) >= 1000 ? `${(v / 1000).toFixed(1)}k` : String(Math.round(v * 1000) / 1000);
  }
}

/** `v` in format `f` with `decimals` digits after the point, for every magnitude (tick labels). */
function formatFixed(v: number, f: YFormat, decimals: number): string {
  switch (f) {
    case "percent":
      return `${(v * 100).toFixed(decimals)}%`;
    case "cents": {
      const d = v / 100;
      return Math.abs(d) >= 1000 ? `$${(d / 1000).toFixed(decimals + 1)}k` : `$${d.toFixed(decimals)}`;
    }
    case "ms":
      return `${v.toFixed(decimals)} ms`;
    default:
      return Math.abs(v) >= 1000 ? `${(v / 1000).toFixed(decimals + 1)}k` : v.toFixed(decimals);
  }
}

const allDiffer = (labels: readonly string[]) => new Set(labels).size === labels.length;

/** `v` in the unit its label shows (percent points, dollars or thousands of them, ms, thousands). */
function shownNumber(v: number, f: YFormat): number {
  const x = f === "percent" ? v * 100 : f === "cents" ? v / 100 : v;
  return (f === "cents" || f === "number") && Math.abs(x) >= 1000 ? x / 1000 : x;
}

/** True when `label` shows `v` without rounding it (a tick at 0.25% must not read "0.3%"). */
function exact(v: number, label: string, f: YFormat): boolean {
  const x = shownNumber(v, f);
  const decimals = /\.(\d+)/.exec(label)?.[1]!.length ?? 0;
  return Math.abs(Number(x.toFixed(decimals)) - x) <= 1e-9 * Math.max(1, Math.abs(x));
}

/**
 * A y axis's tick labels. formatValue's few decimals suit one value but can make neighbouring ticks
 * read alike (budget burn at 0.05% steps read "0.1%, 0.1%, 0.1%, 0%") or round a tick to a value it is
 * not (0.25% steps read "0%, 0.3%, 0.5%, 0.8%"); then every tick gets the fewest decimals that tell them
 * all apart and show each exactly.
 */
export function formatTicks(values: readonly (number | null)[], f: YFormat): string[] {
  const plain = values.map((v) => (v == null ? "" : formatValue(v, f)));
  const fine = (labels: readonly string[]) => {
    const i = values.flatMap((v, j) => (v != null && Number.isFinite(v) ? [j] : []));
    return allDiffer(i.map((j) => labels[j]!)) && i.every((j) => exact(values[j]!, labels[j]!, f));
  };
  if (fine(plain)) return plain;
  let labels = plain;
  for (let decimals = 0; decimals <= 6; decimals++) {
    labels = values.map((v) => (v == null ? "" : Number.isFinite(v) ? formatFixed(v, f, decimals) : "–"));
    if (fine(labels)) break;
  }
  return labels;
}

/** Wall-clock time of day in the browser's zone, HH:MM:SS (chart x axes). */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** The simulator's clock (UTC), to the minute. */
export function formatSimTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace("T", " ");
}

/** A decision's time (UTC), to the second. */
export function formatTimeOfDay(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

export function formatSpeed(s: Speed): string {
  return s === "max" ? "max" : `${s}×`;
}

const unitless = (s: string) => s.replace(/^\$|%$| ms$/g, "");

/** An interval as "12% [10, 15]": the unit once, on the estimate. */
export function formatInterval(estimate: number, ci: readonly [number, number], f: YFormat): string {
  return `${formatValue(estimate, f)} [${unitless(formatValue(ci[0], f))}, ${unitless(formatValue(ci[1], f))}]`;
}

/** Width in CSS pixels for a y axis showing these labels (uPlot calls it with null before it has any). */
export function axisWidth(labels: readonly (string | null)[] | null | undefined): number {
  let n = 0;
  for (const l of labels ?? []) n = Math.max(n, l?.length ?? 0);
  return Math.max(40, Math.ceil(n * 7 + 18));
}

/**
 * One candidate of a decision's explanation: its sampled score as expected margin (dollars), and what
 * it is made of, margin if bought × sampled conversion; with no margin (reward "conversion") the score
 * is the sampled conversion itself.
 */
export function formatCandidate(c: { promotionId: string; score: number; marginCents?: number | undefined }): string {
  if (c.marginCents === undefined || c.marginCents <= 0) return `${c.promotionId} ${c.score.toFixed(3)}`;
  const dollars = (cents: number) => `$${(cents / 100).toFixed(2)}`;
  return `${c.promotionId} ${dollars(c.score)} (${dollars(c.marginCents)} × ${(c.score / c.marginCents).toFixed(3)})`;
}
