import type { SegmentRule } from "../config/index.ts";

/** A rule over any named context value: the live processor's features, or a log's columns in evaluation. */
export interface Rule {
  name: string;
  feature: string;
  op: ">=" | ">" | "<=" | "<" | "==" | "!=";
  value: number | string;
  then: string;
  else: string;
}

function holds(v: unknown, op: Rule["op"], x: number | string): boolean {
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
    out += (i ? "|" : "") + (holds(c[r.feature], r.op, r.value) ? r.then : r.else);
  }
  return out;
}
