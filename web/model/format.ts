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
