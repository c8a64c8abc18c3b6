// Pure: the safe-start panel (issue 23): the policy's mode, who serves, the learner against the shop's
// rule with its interval, the bound, and the buttons a person may press in each mode.
import type { LiveSnapshot } from "../../src/kpi/index.ts";
import type { ChartSpec } from "./charts.ts";
import type { YFormat } from "./format.ts";

type Safe = NonNullable<LiveSnapshot["safe"]>;

export interface SafeView {
  mode: Safe["mode"];
  baseline: string;
  /** One line each: label and value. */
  facts: [string, string][];
  /** Whether there is a chart: in learner mode no rule serves, nothing to compare or bound (it was drawn empty). */
  chart: boolean;
  /** What the chart plots in this mode, or, without one, why there is none. */
  chartNote: string;
  /** The chart's heading and the unit of its axis: the objective's (bandit.reward), margin or conversions. */
  chartHeading: string;
  yFormat: YFormat;
  /** The mode changes a person may ask for here: the button's label and the mode it asks for. */
  actions: { label: string; mode: Safe["mode"] }[];
  /** The last graduation, if any: when (decision count) and on what evidence. */
  graduated: string | null;
}

const dollars = (c: number) => (Number.isFinite(c) ? `${c < 0 ? "−" : ""}$${Math.abs(c / 100).toFixed(2)}` : "–");
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/**
 * The evidence and the bound count the objective's reward (bandit.reward): cents of margin, or
 * conversions (a converted decision counts 1). With the conversion objective they were shown as
 * dollars: an apprentice 0.012 conversions per decision ahead of the rule read "$0.00".
 */
interface Units {
  /** What a decision earns: in the labels. */
  noun: string;
  /** One decision's figure (the evidence's): dollars, or conversions per decision as a rate. */
  perDecision: (x: number) => string;
  /** A sum over decisions (the bound's slack): dollars, or conversions. */
  total: (x: number) => string;
  /** Zero, where graduation's condition names it. */
  zero: string;
  yFormat: YFormat;
}
const MARGIN: Units = { noun: "margin", perDecision: dollars, total: dollars, zero: "$0", yFormat: "cents" };
const CONVERSION: Units = {
  noun: "conversion",
  perDecision: (x) => (Number.isFinite(x) ? `${x < 0 ? "−" : ""}${Math.abs(100 * x).toFixed(2)}%` : "–"),
  total: (x) => (Number.isFinite(x) ? `${x < 0 ? "−" : ""}${Math.abs(x).toFixed(1)} conversions` : "–"),
  zero: "0%",
  yFormat: "percent",
};

export function safeView(s: Safe | undefined | null): SafeView | null {
  if (!s) return null;
  const u = s.objective === "conversion" ? CONVERSION : MARGIN;
  const facts: [string, string][] = [["shop's rule", s.baseline || "–"]];
  // The engine counts a mode's decisions on the safe-start path only: in learner mode the count stays 0
  // however many decisions are made, so it is not shown there.
  if (s.mode !== "learner") facts.push(["decisions in this mode", String(s.decisions)]);
  facts.push([s.mode === "conservative" ? "served by the rule (the bound's fallback)" : "served by the rule", s.mode === "learner" ? "–" : pct(s.baselineShare)]);
  if (s.mode === "apprentice") facts.push(["explored", pct(s.decisions ? s.explored / s.decisions : 0)]);
  if (s.evidence) {
    const e = s.evidence;
    const f = u.perDecision;
    facts.push([
      `learner − rule, ${u.noun} per decision (95%)`,
      e.decisions > 0 ? `${f(e.mean)} [${f(e.lo)}, ${f(e.hi)}] over ${e.decisions} closed (graduates when the interval is above ${u.zero} over ${s.graduateAfter})` : `no closed decision yet (graduates when the interval is above ${u.zero} over ${s.graduateAfter})`,
    ]);
  }
  if (s.bound) facts.push([`bound's slack (α = ${s.alpha}), lower confidence bound`, s.bound.closed > 0 ? `${u.total(s.bound.slackLcb)} over ${s.bound.closed} closed decisions` : "no closed decision yet"]);
  const actions: SafeView["actions"] =
    s.mode === "apprentice" ? [{ label: "Graduate now", mode: "conservative" }] : s.mode === "conservative" ? [{ label: "Back to apprentice", mode: "apprentice" }] : [{ label: "Start as apprentice", mode: "apprentice" }];
  const g = [...s.changes].reverse().find((c) => c.reason === "graduated");
  return {
    mode: s.mode,
    baseline: s.baseline,
    facts,
    chart: s.mode !== "learner",
    chartNote:
      s.mode === "apprentice"
        ? `Learner − rule, ${u.noun} per decision: doubly robust estimate and its 95% interval (graduation when the lower line is above 0).`
        : s.mode === "conservative"
          ? `The bound's slack per closed decision, ${u.noun} (estimate, and the lower confidence bound that must stay above the next decision's worst case).`
          : "Learner mode: no shop's rule serves, so there is nothing to compare the learner with or to bound. Start as apprentice to measure it against the rule.",
    chartHeading: `Learner against the shop's rule (${u.noun} per decision)`,
    yFormat: u.yFormat,
    actions,
    graduated: g ? `graduated to ${g.mode} at decision ${g.atDecision}${g.evidence ? `: learner − rule ${u.perDecision(g.evidence.mean)} [${u.perDecision(g.evidence.lo)}, ${u.perDecision(g.evidence.hi)}] over ${g.evidence.decisions} closed decisions` : ""}` : null,
  };
}

/**
 * The panel's chart: the learner against the rule over time (a history point's `safe`). Its heading and
 * axis unit here are the margin objective's; the panel shows the objective's (SafeView.chartHeading, .yFormat).
 */
export const SAFE_CHART: ChartSpec = {
  id: "chart-safe",
  heading: "Learner against the shop's rule (margin per decision)",
  hint: "Apprentice: learner − rule, doubly robust, 95% interval. Conservative: the bound's slack per closed decision, and its lower confidence bound.",
  yFormat: "cents",
  lines: [
    { label: "estimate", pick: (p) => p.safe?.mean ?? null, gaps: true },
    { label: "lower 95%", pick: (p) => p.safe?.lo ?? null, dash: [4, 3], gaps: true },
    { label: "upper 95%", pick: (p) => p.safe?.hi ?? null, dash: [4, 3], gaps: true },
  ],
};
