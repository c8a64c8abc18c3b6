// Small numeric helpers shared by the sections: the median and spread of repeated runs.

/** Repeated measurements of one figure: the median is the figure quoted, min and max its spread. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function spread(xs: readonly number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length === 0 ? NaN : s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN, runs: [...xs] };
}

/** Rounds to `digits` decimals (figures in results.json and tables). */
export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** "median (min–max)" for tables. */
export function showSpread(s: Spread, digits = 0): string {
  if (s.runs.length <= 1) return String(round(s.median, digits));
  return `${round(s.median, digits)} (${round(s.min, digits)}–${round(s.max, digits)})`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
