import { betaInterval95, newcombeDiff, wilson } from "../bandit/index.ts";
import { CONTROL, safeSnapshot, type Engine, type SafeSnapshot } from "../engine/index.ts";
import type { ArmStats, KpiAccumulator } from "./accumulator.ts";

export interface Interval {
  estimate: number;
  ci95: [number, number];
}

export interface ArmSnapshot {
  id: string;
  name: string;
  posterior: { alpha: number; beta: number; mean: number; ci95: [number, number] };
  decisions: number;
  /** Its decisions over all the policy chose (holdout decisions apart): the arms' shares add up to 1. */
  share: number;
  trials: number;
  conversions: number;
  /**
   * Over the closed decisions (the trials). A decision closes at once when bought but only at its
   * window's end otherwise, so while many are open this reads high (100% early in a run): see `open`.
   */
  conversion: Interval;
  /**
   * The policy's decisions of this arm still open (holdout and forced control apart): the ones that
   * will become its trials. Absent from processors before it was counted.
   */
  open?: number;
  /** Conversion minus the holdout control's where the promotion applied (matched), Newcombe interval. */
  uplift: Interval | null;
  /** The matched holdout: holdout decisions at which this promotion applied (null for control). */
  matchedHoldout: { trials: number; conversions: number } | null;
  /** Mean margin per decision minus the holdout's, normal interval (cents). */
  marginUplift: Interval | null;
  upliftBySegment: Record<string, Interval>;
  /** Units available to promise (in stock, not promised to open offers), never below 0; null when the promotion is tied to no stock. */
  stock: number | null;
  /**
   * Units promised to open offers beyond what is in stock: the stock fell (sales, an inventory update)
   * after the offers were made. Available shows 0 then, and this says why; 0 otherwise.
   */
  overPromisedUnits?: number;
  budget: { budgetCents: number; reservedCents: number; spentCents: number } | null;
  excluded: Record<string, number>;
  /**
   * Decision points where a guard (schedule, channel, stock, budget, frequency cap) kept it out: the
   * exclusions above but for "not-applicable" and "no-margin", which say the promotion had nothing to
   * offer there, not that a limit was reached.
   */
  guardExclusions: number;
}

/** Exclusion reasons that are not a guard reaching a limit. */
const NOT_GUARDS = new Set(["not-applicable", "no-margin"]);
export function guardExclusionsOf(excluded: Record<string, number>): number {
  let n = 0;
  for (const [reason, k] of Object.entries(excluded)) if (!NOT_GUARDS.has(reason)) n += k;
  return n;
}

export interface KpiSnapshot {
  /** Wall-clock time the snapshot was taken (set by the shell). */
  wallMs: number;
  /** Event time: the newest event the engine has seen. */
  eventTimeMs: number;
  decisions: number;
  nothingEligible: number;
  outcomes: number;
  pending: number;
  deadLetters: Record<string, number>;
  arms: ArmSnapshot[];
  holdout: { decisions: number; trials: number; conversions: number; conversion: Interval; meanMarginCents: number };
  segments: string[];
  /** The feature store: customers held, dropped by the LRU bound, dropped after idle TTL, and customers
   *  whose features are gone but whose recent offer times are kept for frequency caps. */
  cache: { customers: number; evictions: number; expirations: number; rememberedOffers: number };
  /** Safe start (issue 23): the policy's mode, who served, the learner against the shop's rule, the bound, the mode changes. */
  safe?: SafeSnapshot;
}

/** Available units as shown: never below 0, and how far below 0 the count went (units over-promised). */
function stockOf(available: number | null): { stock: number | null; overPromisedUnits: number } {
  if (available === null) return { stock: null, overPromisedUnits: 0 };
  return { stock: Math.max(0, available), overPromisedUnits: Math.max(0, -available) };
}

function conv(a: ArmStats): Interval {
  return { estimate: a.trials ? a.conversions / a.trials : 0, ci95: wilson(a.conversions, a.trials) };
}

function marginDiff(a: ArmStats, b: ArmStats): Interval | null {
  if (a.trials < 2 || b.trials < 2) return null;
  const ma = a.marginSum / a.trials;
  const mb = b.marginSum / b.trials;
  const va = Math.max(0, a.marginSumSq / a.trials - ma * ma) / (a.trials - 1);
  const vb = Math.max(0, b.marginSumSq / b.trials - mb * mb) / (b.trials - 1);
  const se = Math.sqrt(va + vb);
  return { estimate: ma - mb, ci95: [ma - mb - 1.96 * se, ma - mb + 1.96 * se] };
}

/** What the processor publishes on kpi.snapshot: the engine's view plus the shell's own figures. */
export interface LiveSnapshot extends KpiSnapshot {
  /** Who published it (an instance id; absent for a single processor). */
  source?: string;
  /** Partitions it covers (partitioned deployments). */
  partitions?: number[];
  latencyMs: { p50: number; p99: number; count: number };
  consumer: { lag: number; ackPending: number };
  eventsIn: number;
  health: { ok: boolean; consuming: boolean; nats: boolean; consumer: boolean; degraded: string[] };
}

const EMPTY: ArmStats = { decisions: 0, trials: 0, conversions: 0, rewardSum: 0, marginSum: 0, marginSumSq: 0, discountSum: 0 };

/** A JSON-ready view of what the engine has learned; pure. */
export function buildSnapshot(e: Engine, k: KpiAccumulator, wallMs: number): KpiSnapshot {
  const now = e.watermarkMs;
  // A promotion the engine no longer has (taken out of the configuration, at a restart) stays while its
  // decisions count in the total: without it the shares stopped adding up to 1.
  const gone = [...k.arms.keys()].filter((id) => id !== CONTROL && !e.promotions.has(id) && (k.arms.get(id)?.decisions ?? 0) > 0);
  const ids = [...e.promotions.keys(), ...gone, CONTROL];
  // Shares of the policy's own choices: the holdout draw (its own figures below) is no arm's choice, and
  // counted in the denominator it kept the shares from adding up to 100%.
  const total = Math.max(1, k.decisions - k.holdout.decisions);
  const arms: ArmSnapshot[] = ids.map((id) => {
    const p = e.promotions.get(id);
    const post = e.arms.globalPosterior(id, now);
    const st = k.arms.get(id) ?? EMPTY;
    const upliftBySegment: Record<string, Interval> = {};
    // Uplift against the holdout decisions where this arm applied; control against every holdout.
    const matchedIn = (s: { holdout: ArmStats; holdoutFor: Map<string, ArmStats> }) => (id === CONTROL ? s.holdout : (s.holdoutFor.get(id) ?? EMPTY));
    for (const [seg, s] of k.segments) {
      const a = s.arms.get(id);
      const h = matchedIn(s);
      if (a && a.trials > 0 && h.trials > 0) upliftBySegment[seg] = newcombeDiff(a.conversions, a.trials, h.conversions, h.trials);
    }
    const h = matchedIn(k);
    const product = p?.productId !== undefined ? e.ledger.products.get(p.productId) : undefined;
    const budget = p ? e.ledger.budgets.get(id) : undefined;
    return {
      id,
      name: p?.name ?? (id === CONTROL ? "No promotion" : `${id} (no longer offered)`),
      posterior: { alpha: post.alpha, beta: post.beta, mean: post.alpha / (post.alpha + post.beta), ci95: betaInterval95(post.alpha, post.beta) },
      decisions: st.decisions,
      share: st.decisions / total,
      trials: st.trials,
      conversions: st.conversions,
      conversion: conv(st),
      open: e.pending.openTrialsOf(id),
      uplift: st.trials > 0 && h.trials > 0 ? newcombeDiff(st.conversions, st.trials, h.conversions, h.trials) : null,
      matchedHoldout: id === CONTROL ? null : { trials: h.trials, conversions: h.conversions },
      marginUplift: marginDiff(st, h),
      upliftBySegment,
      ...stockOf(p?.productId !== undefined ? (product ? product.stock - product.reserved : 0) : p?.category !== undefined ? e.ledger.categoryAvailableUnits(p.category) : null),
      // The promotion's own budget (partitioned, the ledger holds only this partition's grant of it).
      budget: budget && p ? { budgetCents: p.budgetCents, reservedCents: budget.reservedCents, spentCents: budget.spentCents } : null,
      excluded: { ...(k.exclusions.get(id) ?? {}) },
      guardExclusions: guardExclusionsOf(k.exclusions.get(id) ?? {}),
    };
  });
  return {
    wallMs,
    eventTimeMs: now,
    decisions: k.decisions,
    nothingEligible: k.nothingEligible,
    outcomes: k.outcomes,
    pending: e.pending.open,
    deadLetters: { ...k.deadLetters },
    arms,
    holdout: {
      decisions: k.holdout.decisions,
      trials: k.holdout.trials,
      conversions: k.holdout.conversions,
      conversion: conv(k.holdout),
      meanMarginCents: k.holdout.trials ? k.holdout.marginSum / k.holdout.trials : 0,
    },
    segments: [...k.segments.keys()].sort(),
    cache: { customers: e.features.size, evictions: e.features.evictions, expirations: e.features.expirations, rememberedOffers: e.features.rememberedOffers },
    safe: safeSnapshot(e),
  };
}
