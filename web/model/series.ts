// Pure: history points → uPlot's columnar data (x in ms, one column per series; null for gaps).
import type { ArmPoint, HistoryPoint } from "../../src/kpi/index.ts";

export type Column = (number | null)[];
export interface SeriesDef {
  label: string;
  color: string;
  /** Draw as points only (markers). */
  points?: boolean;
  dash?: number[];
  /** Hidden from the legend (interval edges). */
  band?: boolean;
  scale?: string;
}
export interface ChartData {
  series: SeriesDef[];
  data: Column[];
  /** uPlot bands: pairs of series indexes (1-based, x is 0) to fill between. */
  bands: [number, number, string][];
}

const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777", "#4b5563", "#65a30d"];
export function colorOf(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}
function fade(hex: string, a: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${a})`;
}

export function armIds(history: HistoryPoint[]): string[] {
  const last = history[history.length - 1];
  return last ? Object.keys(last.arms) : [];
}

/** One line per arm from a field, optionally with its interval as a band. */
export function perArm(history: HistoryPoint[], ids: string[], pick: (a: ArmPoint) => number | null, interval?: (a: ArmPoint) => [number | null, number | null]): ChartData {
  const x: Column = history.map((p) => p.t);
  const series: SeriesDef[] = [];
  const data: Column[] = [x];
  const bands: [number, number, string][] = [];
  ids.forEach((id, i) => {
    const c = colorOf(i);
    series.push({ label: id, color: c });
    data.push(history.map((p) => (p.arms[id] ? pick(p.arms[id]!) : null)));
    if (interval) {
      const hiIdx = data.length;
      series.push({ label: `${id} hi`, color: fade(c, 0.25), band: true });
      data.push(history.map((p) => (p.arms[id] ? interval(p.arms[id]!)[1] : null)));
      series.push({ label: `${id} lo`, color: fade(c, 0.25), band: true });
      data.push(history.map((p) => (p.arms[id] ? interval(p.arms[id]!)[0] : null)));
      bands.push([hiIdx, hiIdx + 1, fade(c, 0.07)]);
    }
  });
  return { series, data, bands };
}

/** Stock per promotion with markers where a guard excluded it (the cumulative exclusions rose). */
export function stockWithMarkers(history: HistoryPoint[], ids: string[]): ChartData {
  const x: Column = history.map((p) => p.t);
  const series: SeriesDef[] = [];
  const data: Column[] = [x];
  ids.forEach((id, i) => {
    const col = history.map((p) => p.arms[id]?.stock ?? null);
    if (col.every((v) => v === null)) return;
    const c = colorOf(i);
    series.push({ label: id, color: c });
    data.push(col);
    series.push({ label: `${id} excluded`, color: c, points: true });
    data.push(history.map((p, k) => (k > 0 && (p.arms[id]?.excluded ?? 0) > (history[k - 1]!.arms[id]?.excluded ?? 0) ? (p.arms[id]?.stock ?? 0) : null)));
  });
  return { series, data, bands: [] };
}

/** Budget burn: share of each promotion's budget spent or reserved. */
export function budgetBurn(history: HistoryPoint[], ids: string[]): ChartData {
  return perArm(history, ids.filter((id) => id !== "control"), (a) => (a.budgetCents ? ((a.spentCents ?? 0) + (a.reservedCents ?? 0)) / a.budgetCents : null));
}

export function lines(history: HistoryPoint[], defs: { label: string; pick: (p: HistoryPoint) => number | null; scale?: string; dash?: number[] }[]): ChartData {
  return {
    series: defs.map((d, i) => ({ label: d.label, color: colorOf(i), ...(d.scale ? { scale: d.scale } : {}), ...(d.dash ? { dash: d.dash } : {}) })),
    data: [history.map((p) => p.t), ...defs.map((d) => history.map(d.pick))],
    bands: [],
  };
}

/** Count of non-null values in the first data series (what the tests read as "the chart has data"). */
export function pointCount(c: ChartData): number {
  let n = 0;
  for (let s = 1; s < c.data.length; s++) for (const v of c.data[s]!) if (v !== null && Number.isFinite(v)) n++;
  return n;
}
