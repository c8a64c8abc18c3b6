import type { SegmentRule } from "../config/index.ts";

/** A rule over any named context value: the live processor's features, or a log's columns in evaluation. */
export type Rule =
  | { name: string; feature: string; op: ">=" | ">" | "<=" | "<" | "==" | "!="; value: number | string; then: string; else: string }
  /** Categorical: the feature's value is the label (lower-cased, [a-z0-9-] only), `else` when empty. */
  | { name: string; feature: string; op: "label"; else: string };

function asLabel(v: unknown, fallback: string): string {
  const s = typeof v === "string" || typeof v === "number" ? String(v).toLowerCase().replace(/[^a-z0-9-]+/g, "-").slice(0, 32) : "";
  return s || fallback;
}

function holds(v: unknown, op: Exclude<Rule["op"], "label">, x: number | string): boolean {
  switch (op) {
    case "==":
      return v === x;
    case "!=":
      return v !== x;
    case ">=":
      return typeof v === "number" && v >= (x as number);
    case ">":
      return typeof v === "number" && v > (x as number);
    case "<=":
      return typeof v === "number" && v <= (x as number);
    case "<":
      return typeof v === "number" && v < (x as number);
  }
}

/** The segment label of a context: one label per rule, joined with '|' ("all" with no rules). */
export function segmentOf(ctx: object, rules: readonly (Rule | SegmentRule)[]): string {
  if (rules.length === 0) return "all";
  const c = ctx as Record<string, unknown>;
  let out = "";
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i]!;
    const label = r.op === "label" ? asLabel(c[r.feature], r.else) : holds(c[r.feature], r.op, r.value) ? r.then : r.else;
    out += (i ? "|" : "") + label;
  }
  return out;
}
