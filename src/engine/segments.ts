import type { SegmentRule } from "../config/index.ts";
import type { FeatureVector } from "../features/index.ts";

/** The segment label of a context: one label per rule, joined with '|' ("all" with no rules). */
export function segmentOf(f: FeatureVector, rules: readonly SegmentRule[]): string {
  if (rules.length === 0) return "all";
  let out = "";
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i]!;
    const v = f[r.feature];
    const hit = r.op === ">=" ? v >= r.value : r.op === ">" ? v > r.value : r.op === "<=" ? v <= r.value : v < r.value;
    out += (i ? "|" : "") + (hit ? r.then : r.else);
  }
  return out;
}
