// Pure: what each chart plots, as functions of one history point. The ChartStore (chart-store.ts)
// turns these into columns; the page only renders them.
import type { ArmPoint, HistoryPoint } from "../../src/kpi/index.ts";
import type { YFormat } from "./format.ts";

export interface SeriesDef {
  label: string;
  color: string;
  /** Drawn as dots only (markers). */
  points?: boolean;
  dash?: number[];
  /** An interval edge: filled as a band, left out of the legend. */
  band?: boolean;
  /** Values may be missing (null); drawn with gaps. */
  gaps: boolean;
}

/** Series per arm, added the first time an arm appears (arms appear when a promotion goes live). */
export interface ArmPart {
  /** Decided once per arm, at its first point. */
  include(id: string, a: ArmPoint): boolean;
  series(id: string, color: string): SeriesDef[];
  /** One value per series() entry. `prev` is the arm at the previous point, if any. */
  values(a: ArmPoint | undefined, prev: ArmPoint | undefined): (number | null)[];
  /** Indexes within series() of an interval's upper and lower edge, filled between. */
  band?: [number, number];
}

export interface LinePart {
  label: string;
  pick(p: HistoryPoint): number | null;
  dash?: number[];
  gaps: boolean;
}

export interface ChartSpec {
  id: string;
  heading: string;
  hint: string;
  yFormat: YFormat;
  lines?: LinePart[];
  arms?: ArmPart;
}

export const CONTROL = "control";
const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777", "#65a30d", "#7c2d12"];
export const CONTROL_COLOR = "#6b7280";
export const MARK_COLOR = "#7c3aed";

/** Line colours: promotions take the palette in order of appearance; control is always grey. */
export function colorOf(id: string, index: number): string {
  return id === CONTROL ? CONTROL_COLOR : PALETTE[index % PALETTE.length]!;
}

/** `#rrggbb` with an alpha, for bands. */
export function fade(hex: string, alpha: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
}

const line = (id: string, color: string): SeriesDef => ({ label: id, color, gaps: true });
const edges = (id: string, color: string): SeriesDef[] => [
  { label: `${id} hi`, color: fade(color, 0.3), band: true, gaps: true },
  { label: `${id} lo`, color: fade(color, 0.3), band: true, gaps: true },
];

/** One line per arm from a field, with its interval as a band when given. */
function perArm(include: (id: string, a: ArmPoint) => boolean, pick: (a: ArmPoint) => number | null, interval?: (a: ArmPoint) => [number | null, number | null]): ArmPart {
  return {
    include,
    series: (id, c) => (interval ? [line(id, c), ...edges(id, c)] : [line(id, c)]),
    values: (a) => {
      if (!interval) return [a ? pick(a) : null];
      if (!a) return [null, null, null];
      const [lo, hi] = interval(a);
      return [pick(a), hi, lo];
    },
    ...(interval ? { band: [1, 2] as [number, number] } : {}),
  };
}

const all = () => true;
const promotionsOnly = (id: string) => id !== CONTROL;

/** Budget spent or reserved as a share of the budget, or null for a promotion without one. */
export function budgetShare(a: ArmPoint): number | null {
  return a.budgetCents ? ((a.spentCents ?? 0) + (a.reservedCents ?? 0)) / a.budgetCents : null;
}

/** True when a guard excluded the arm since the previous point. */
export function newlyExcluded(a: ArmPoint | undefined, prev: ArmPoint | undefined): boolean {
  return a !== undefined && prev !== undefined && a.excluded > prev.excluded;
}

export const CHARTS: readonly ChartSpec[] = [
  {
    id: "chart-posterior",
    heading: "Conversion when offered: posterior mean of each arm (95% interval)",
    hint: "How often each arm's decisions convert, as a Beta posterior over all its decisions (the decision itself uses the conversion model per customer, times the margin if bought). Bands narrow as evidence accumulates.",
    yFormat: "percent",
    arms: perArm(all, (a) => a.mean, (a) => [a.lo, a.hi]),
  },
  {
    id: "chart-uplift",
    heading: "Uplift vs holdout control (conversion, 95% interval)",
    hint: "Conversion minus the random holdout's where the promotion applied. Above zero it causes purchases; a band across zero is not proven yet.",
    yFormat: "percent",
    arms: perArm(promotionsOnly, (a) => a.uplift, (a) => [a.upLo, a.upHi]),
  },
  {
    id: "chart-share",
    heading: "Share of decisions",
    hint: "How often the policy picks each arm, since the start; the arms that pay should take over.",
    yFormat: "percent",
    arms: perArm(all, (a) => a.share),
  },
  {
    id: "chart-regret",
    heading: "Incremental margin: the learner vs the oracle and the best single promotion",
    hint: "Expected incremental margin earned by the engine's choices, by the oracle (dashed: the best candidate for each shopper), and by the best single promotion offered wherever it was a candidate (dotted), on the same decision points; regret is the oracle's minus the engine's. Needs the simulator.",
    yFormat: "cents",
    lines: [
      { label: "regret", pick: (p) => p.regret, gaps: true },
      { label: "incremental margin", pick: (p) => p.incMargin, gaps: true },
      { label: "oracle margin", pick: (p) => p.oracleMargin, dash: [4, 4], gaps: true },
      { label: "best single promotion", pick: (p) => p.bestFixedMargin, dash: [1, 3], gaps: true },
    ],
  },
  {
    id: "chart-stock",
    heading: "Available stock (dots: excluded by a guard)",
    hint: "Units in stock minus units promised to open offers, for promotions tied to stock.",
    yFormat: "number",
    arms: {
      include: (id, a) => id !== CONTROL && a.stock !== null,
      series: (id, c) => [line(id, c), { label: `${id} excluded`, color: c, points: true, gaps: true }],
      values: (a, prev) => [a?.stock ?? null, newlyExcluded(a, prev) ? (a!.stock ?? 0) : null],
    },
  },
  {
    id: "chart-budget",
    heading: "Budget burn (spent + reserved, share of budget)",
    hint: "At 100% a promotion is no longer offered.",
    yFormat: "percent",
    arms: perArm((id, a) => id !== CONTROL && a.budgetCents !== null, budgetShare),
  },
  {
    id: "chart-rate",
    heading: "Decision rate (per second) and dead letters",
    hint: "The processor's throughput, and bad messages set aside since it started.",
    yFormat: "number",
    lines: [
      { label: "decisions/s", pick: (p) => p.decisionRate, gaps: false },
      { label: "dead letters (total)", pick: (p) => p.deadLetters, gaps: false },
    ],
  },
  {
    id: "chart-latency",
    heading: "Decide latency p50 / p99",
    hint: "Time to decide one decision point inside the processor.",
    yFormat: "ms",
    lines: [
      { label: "p50", pick: (p) => p.p50, gaps: false },
      { label: "p99", pick: (p) => p.p99, gaps: false },
    ],
  },
];
