// Offline evaluation of a logged randomised experiment: every policy is replayed over the same log
// with several seeds; the report follows issue #10's shape.
import { rngFromKey } from "../random/index.ts";
import type { Rule, SafeConfig } from "../engine/index.ts";
import type { EvalConfig } from "./config.ts";
import { diffInterval, ipsEstimates, meanOf, pairedDifference, summariseValue, type IpsEstimate, type PairedDifference } from "./estimates.ts";
import { HILLSTROM_FEATURES } from "./hillstrom.ts";
import { enginePolicy, epsilonGreedyPolicy, fixedPolicy, uniformPolicy, type BanditSettings } from "./policies.ts";
import { addTo, checkpointsFor, emptyTally, replay, shuffled, type LoggedRow, type Metric, type ReplayPolicy, type ReplayRun, type Tally } from "./replay.ts";

type Interval = [number, number];

export interface PolicyReport {
  value: number;
  ci95: Interval;
  matched: number;
  seedCi95: Interval;
  perSeed: number[];
  /** Learning policies with a random control draw: the share of rows it took, and how many of them matched a logged control row. */
  controlShare?: number;
  controlMatched?: number;
  ips?: IpsEstimate;
  snips?: IpsEstimate;
}

export interface UpliftReport {
  /** The engine's estimate: the arm's outcome on the policy's own decisions minus the holdout control's (mean over seeds). */
  estimate: number;
  /** Mean over seeds of each run's interval (Newcombe for 0/1 outcomes, normal for spend). */
  ci95: Interval;
  /** The experiment's difference in means over the whole log, arm minus control. */
  experiment: number;
  experimentCi95: Interval;
  /** Share of seeds whose interval covers the experiment's difference. */
  coverage: number;
  /** Mean over seeds of the rows behind the estimate. */
  armRows: number;
  holdoutRows: number;
  policy: string;
}

export interface OfflineReport {
  dataset: string;
  rows: number;
  metric: Metric;
  seeds: number;
  /** Each seed walked the rows in its own random order (--shuffle); else every seed walked the file's order. */
  shuffle: boolean;
  unit: string;
  policies: Record<string, PolicyReport>;
  /** Every other policy against the engine over the same seeds: engine − policy, and the engine's verdict. */
  paired: Record<string, PairedDifference>;
  uplift: Record<string, UpliftReport>;
  experiment: { control: string; arms: Record<string, { rows: number; mean: number }> };
  summary: { bestFixed: string; engineShareOfBestFixed: number; upliftCoversExperiment: Record<string, boolean> };
  curves: { rows: number[]; series: Record<string, (number | null)[]> };
  /** Safe start against a logged arm as the shop's rule (issue 23, `--baseline`); see ReplayBaselineReport. */
  baseline?: ReplayBaselineReport;
  settings: { segments: readonly Rule[]; bandit: BanditSettings; msPerRow: number; epsilon: number; loggingPropensity: number; features: readonly string[] };
}

/**
 * Safe start against "always that arm" on a log (issue 23): at each checkpoint (the curves' row
 * counts), each policy's cumulative value (mean outcome of its kept rows) over the rule's on the same
 * seed's order, the mean over seeds; its lowest over the checkpoints at which the policy had kept at
 * least `minKept` rows (and any one seed's lowest); the row at which the apprentice graduated (median over seeds, null
 * when fewer than half did), and per seed.
 */
export interface ReplayBaselineReport {
  name: string;
  checkpoints: number[];
  shareOfBaseline: Record<string, (number | null)[]>;
  graduatedAt: { apprentice: number | null };
  graduatedAtBySeed: { apprentice: (number | null)[] };
  minKept: number;
  /** The lowest of the seeds' mean share over the checkpoints where the policy had kept `minKept` rows on average. */
  worstShareOfBaseline: Record<string, number>;
  /** The lowest share of any one seed at a checkpoint where it had kept `minKept` rows (a rare outcome's ratio of two means over 1,000 rows is mostly noise). */
  worstShareOfBaselineAnySeed: Record<string, number>;
}

export interface OfflineOptions {
  dataset: string;
  rows: readonly LoggedRow[];
  metric: Metric;
  seeds: number;
  /** Each seed replays the rows in its own random order (the same order for every policy at that seed). */
  shuffle?: boolean;
  eval: Readonly<EvalConfig>;
  bandit: BanditSettings;
  progress?: (text: string) => void;
  /** Safe start against this logged arm as the shop's rule: runs engine, apprentice, conservative and the rule itself. */
  baseline?: { arm: string; safe: SafeConfig } | undefined;
}

/** The engine as configured (bandit.model): the policy the summary and the uplift estimates are about. */
export const LEARNING_POLICY = "engine";

interface Spec {
  make: () => ReplayPolicy;
  /** No random draws: one run stands for every seed. */
  deterministic: boolean;
  learning: boolean;
}

export function evaluateLog(o: OfflineOptions): OfflineReport {
  const h = o.eval.hillstrom;
  const arms = [...h.promotions, h.control];
  const rules = h.segments as readonly Rule[];
  const binary = o.metric !== "spend";
  // Hillstrom assigned each arm uniformly at random.
  const loggingPropensity = 1 / arms.length;
  // Spend: the conversion model learns P(spend > 0) and the amount posterior what a buyer spends.
  const learnAmount = !binary;
  const engine = (name: string, model: "tabular" | "logistic", r: readonly Rule[]) => () =>
    enginePolicy({ name, promotions: h.promotions, control: h.control, model, rules: r, features: HILLSTROM_FEATURES, learnAmount, bandit: o.bandit });
  const safeSpec = (name: string, mode: "apprentice" | "conservative"): [string, Spec] => [
    name,
    {
      make: () =>
        enginePolicy({ name, promotions: h.promotions, control: h.control, model: o.bandit.model, rules: o.bandit.model === "tabular" ? rules : [], features: HILLSTROM_FEATURES, learnAmount, bandit: o.bandit, safe: { cfg: { ...o.baseline!.safe, mode }, baseline: o.baseline!.arm } }),
      deterministic: false,
      learning: true,
    },
  ];
  const baselineSpecs: [string, Spec][] | undefined = o.baseline
    ? [
        [LEARNING_POLICY, { make: engine(LEARNING_POLICY, o.bandit.model, o.bandit.model === "tabular" ? rules : []), deterministic: false, learning: true }],
        safeSpec("apprentice", "apprentice"),
        safeSpec("conservative", "conservative"),
        // The rule itself, run on every seed's order (its curve is the denominator seed by seed).
        ["baseline", { make: () => fixedPolicy(o.baseline!.arm), deterministic: false, learning: false }],
      ]
    : undefined;
  const specs: [string, Spec][] = baselineSpecs ?? [
    ["uniform", { make: () => uniformPolicy(arms), deterministic: false, learning: false }],
    [LEARNING_POLICY, { make: engine(LEARNING_POLICY, o.bandit.model, o.bandit.model === "tabular" ? rules : []), deterministic: false, learning: true }],
    ["ts", { make: engine("ts", "tabular", []), deterministic: false, learning: true }],
    ["ts-segmented", { make: engine("ts-segmented", "tabular", rules), deterministic: false, learning: true }],
    ["ts-logistic", { make: engine("ts-logistic", "logistic", []), deterministic: false, learning: true }],
    ["epsilon-greedy", { make: () => epsilonGreedyPolicy({ arms, epsilon: h.epsilon }), deterministic: false, learning: true }],
    ...arms.map((a): [string, Spec] => [`fixed:${a}`, { make: () => fixedPolicy(a), deterministic: true, learning: false }]),
  ];
  const checkpoints = checkpointsFor(o.rows.length, o.eval.curvePoints);
  const shuffle = o.shuffle ?? false;
  // Seed s's order, the same for every policy, so differences between policies are paired.
  const orders = new Map<number, readonly LoggedRow[]>();
  const rowsFor = (s: number): readonly LoggedRow[] => {
    if (!shuffle) return o.rows;
    let r = orders.get(s);
    if (!r) orders.set(s, (r = shuffled(o.rows, rngFromKey(s, "row-order"))));
    return r;
  };
  const policies: Record<string, PolicyReport> = {};
  const series: Record<string, (number | null)[]> = {};
  let engineRuns: ReplayRun[] = [];
  const runsOf: Record<string, ReplayRun[]> = {};
  const graduatedAt: (number | null)[] = [];
  for (const [name, spec] of specs) {
    const runs: ReplayRun[] = [];
    const n = spec.deterministic ? 1 : o.seeds;
    const t0 = performance.now();
    for (let s = 1; s <= n; s++) {
      const policy = spec.make();
      runs.push(replay(rowsFor(s), policy, { control: h.control, startMs: 0, msPerRow: h.msPerRow, rngFor: (i) => rngFromKey(s, `row-${i}`), checkpoints }));
      if (name === "apprentice") graduatedAt.push((policy as { graduatedAt?: number | null }).graduatedAt ?? null);
    }
    runsOf[name] = runs;
    const sum = summariseValue(runs);
    const rep: PolicyReport = { value: sum.value, ci95: sum.ci95, matched: sum.matched, seedCi95: sum.seedCi95, perSeed: sum.perSeed };
    if (spec.learning) {
      rep.controlShare = runs.reduce((a, r) => a + r.holdoutDraws / Math.max(1, r.rows), 0) / runs.length;
      rep.controlMatched = Math.round(runs.reduce((a, r) => a + r.holdout.n, 0) / runs.length);
    }
    if (name.startsWith("fixed:")) {
      const arm = name.slice("fixed:".length);
      const e = ipsEstimates(o.rows, (r) => (r.arm === arm ? 1 : 0), loggingPropensity);
      rep.ips = e.ips;
      rep.snips = e.snips;
    }
    policies[name] = rep;
    series[name] = checkpoints.map((_, k) => {
      const xs = runs.map((r) => r.curve[k]!).filter((x) => !Number.isNaN(x));
      return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
    });
    if (name === LEARNING_POLICY) engineRuns = runs;
    o.progress?.(`${name}: value ${sum.value.toFixed(4)} over ${n} run(s), ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }

  // The experiment: every row, by assigned arm.
  const byArm = new Map<string, Tally>(arms.map((a) => [a, emptyTally()]));
  for (const r of o.rows) addTo(byArm.get(r.arm)!, r.outcome);
  const control = byArm.get(h.control)!;
  const uplift: Record<string, UpliftReport> = {};
  for (const a of h.promotions) {
    const exp = diffInterval(byArm.get(a)!, control, binary);
    const per = engineRuns.map((r) => diffInterval(r.byArm[a] ?? emptyTally(), r.holdout, binary));
    const k = per.length;
    uplift[a] = {
      estimate: per.reduce((s, x) => s + x.estimate, 0) / k,
      ci95: [per.reduce((s, x) => s + x.ci95[0], 0) / k, per.reduce((s, x) => s + x.ci95[1], 0) / k],
      experiment: exp.estimate,
      experimentCi95: exp.ci95,
      coverage: per.filter((x) => x.ci95[0] <= exp.estimate && exp.estimate <= x.ci95[1]).length / k,
      armRows: Math.round(engineRuns.reduce((s, r) => s + (r.byArm[a]?.n ?? 0), 0) / k),
      holdoutRows: Math.round(engineRuns.reduce((s, r) => s + r.holdout.n, 0) / k),
      policy: LEARNING_POLICY,
    };
  }
  const baseline = o.baseline ? replayBaselineReport(o.baseline.arm, checkpoints, runsOf, graduatedAt) : undefined;
  if (baseline) {
    // The rule (a fixed arm): its inverse-propensity estimates, like every fixed policy's.
    const e = ipsEstimates(o.rows, (r) => (r.arm === o.baseline!.arm ? 1 : 0), loggingPropensity);
    policies["baseline"]!.ips = e.ips;
    policies["baseline"]!.snips = e.snips;
  }
  const engineSeeds = policies[LEARNING_POLICY]!.perSeed;
  const paired: Record<string, PairedDifference> = {};
  // A run that kept no rows has no value (its mean reads 0): against it no verdict holds. A tiny or
  // subset log made the engine "better" than a policy never observed.
  const unobserved = (name: string) => runsOf[name]!.some((r) => r.value.n === 0);
  for (const [name, p] of Object.entries(policies))
    if (name !== LEARNING_POLICY)
      paired[name] = unobserved(name) || unobserved(LEARNING_POLICY) ? { mean: Number.NaN, ci95: [-Infinity, Infinity], verdict: "cannot tell" } : pairedDifference(engineSeeds, p.perSeed);
  const fixedNames = o.baseline ? ["baseline"] : arms.map((a) => `fixed:${a}`);
  const bestFixed = fixedNames.reduce((b, x) => (policies[x]!.value > policies[b]!.value ? x : b));
  return {
    dataset: o.dataset,
    rows: o.rows.length,
    metric: o.metric,
    seeds: o.seeds,
    shuffle,
    unit: binary ? `share of customers with ${o.metric} = 1` : "dollars spent per customer",
    policies,
    paired,
    uplift,
    experiment: { control: h.control, arms: Object.fromEntries(arms.map((a) => [a, { rows: byArm.get(a)!.n, mean: meanOf(byArm.get(a)!) }])) },
    summary: {
      bestFixed,
      engineShareOfBestFixed: policies[LEARNING_POLICY]!.value / policies[bestFixed]!.value,
      upliftCoversExperiment: Object.fromEntries(Object.entries(uplift).map(([a, u]) => [a, u.ci95[0] <= u.experiment && u.experiment <= u.ci95[1]])),
    },
    curves: { rows: checkpoints, series },
    ...(baseline ? { baseline } : {}),
    settings: { segments: rules, bandit: o.bandit, msPerRow: h.msPerRow, epsilon: h.epsilon, loggingPropensity, features: HILLSTROM_FEATURES.names },
  };
}

/** At least this many kept rows before a policy's share of the rule counts toward its worst (issue 23's Hillstrom target). */
export const MIN_KEPT_FOR_SHARE = 1_000;

function replayBaselineReport(arm: string, checkpoints: number[], runsOf: Record<string, ReplayRun[]>, graduatedAt: (number | null)[]): ReplayBaselineReport {
  const base = runsOf["baseline"]!;
  const shareOfBaseline: Record<string, (number | null)[]> = {};
  const worst: Record<string, number> = {};
  const worstBySeed: Record<string, number> = {};
  for (const name of [LEARNING_POLICY, "apprentice", "conservative"]) {
    const runs = runsOf[name]!;
    let w = Infinity;
    let ws = Infinity;
    shareOfBaseline[name] = checkpoints.map((_, k) => {
      const xs: number[] = [];
      let kept = 0;
      runs.forEach((r, s) => {
        const b = base[s]!.curve[k]!;
        const v = r.curve[k]!;
        kept += r.kept[k]!;
        if (!Number.isFinite(v) || !(b > 0)) return;
        xs.push(v / b);
        if (r.kept[k]! >= MIN_KEPT_FOR_SHARE) ws = Math.min(ws, v / b);
      });
      const mean = xs.length ? xs.reduce((a, x) => a + x, 0) / xs.length : null;
      if (mean !== null && kept / runs.length >= MIN_KEPT_FOR_SHARE) w = Math.min(w, mean);
      return mean;
    });
    worst[name] = w;
    worstBySeed[name] = ws;
  }
  const done = graduatedAt.filter((x): x is number => x !== null).sort((a, b) => a - b);
  const median = done.length * 2 > graduatedAt.length ? done[Math.floor(graduatedAt.length / 2)] ?? null : null;
  return { name: arm, checkpoints, shareOfBaseline, graduatedAt: { apprentice: median }, graduatedAtBySeed: { apprentice: graduatedAt }, minKept: MIN_KEPT_FOR_SHARE, worstShareOfBaseline: worst, worstShareOfBaselineAnySeed: worstBySeed };
}
