// Several processors' snapshots as one (partitioned deployments, issue #8): counts add up, rates and
// intervals are recomputed from the sums, posteriors come from the snapshot that has seen the most
// (each partition's posterior already holds the others' counts, up to the sync delay).
import { newcombeDiff, wilson } from "../bandit/index.ts";
import type { ArmSnapshot, Interval, LiveSnapshot } from "./snapshot.ts";

const sumBy = <T>(xs: readonly T[], f: (x: T) => number) => xs.reduce((a, x) => a + f(x), 0);

function addRecords(rs: readonly Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rs) for (const [k, v] of Object.entries(r)) out[k] = (out[k] ?? 0) + v;
  return out;
}

function conv(k: number, n: number): Interval {
  return { estimate: n ? k / n : 0, ci95: wilson(k, n) };
}

export function mergeSnapshots(snaps: readonly LiveSnapshot[]): LiveSnapshot {
  if (snaps.length === 1) return snaps[0]!;
  if (snaps.length === 0) throw new Error("nothing to merge");
  const decisions = sumBy(snaps, (s) => s.decisions);
  const holdout = { trials: sumBy(snaps, (s) => s.holdout.trials), conversions: sumBy(snaps, (s) => s.holdout.conversions), decisions: sumBy(snaps, (s) => s.holdout.decisions) };
  const marginSum = sumBy(snaps, (s) => s.holdout.meanMarginCents * s.holdout.trials);
  const ids = [...new Set(snaps.flatMap((s) => s.arms.map((a) => a.id)))];
  const arms: ArmSnapshot[] = ids.map((id) => {
    const parts = snaps.map((s) => s.arms.find((a) => a.id === id)).filter((a): a is ArmSnapshot => a !== undefined);
    const richest = parts.reduce((a, b) => (b.posterior.alpha + b.posterior.beta > a.posterior.alpha + a.posterior.beta ? b : a));
    const trials = sumBy(parts, (a) => a.trials);
    const conversions = sumBy(parts, (a) => a.conversions);
    const armDecisions = sumBy(parts, (a) => a.decisions);
    const budgets = parts.map((a) => a.budget).filter((b) => b !== null);
    const stocks = parts.map((a) => a.stock).filter((x): x is number => x !== null);
    return {
      ...richest,
      decisions: armDecisions,
      // Of what the policies chose (holdout apart), as buildSnapshot counts it.
      share: armDecisions / Math.max(1, decisions - holdout.decisions),
      trials,
      conversions,
      conversion: conv(conversions, trials),
      ...(parts.some((a) => a.open !== undefined) ? { open: sumBy(parts, (a) => a.open ?? 0) } : {}),
      // Matched holdout (where the promotion applied), summed over the processors; control: every holdout.
      ...(() => {
        const m = richest.matchedHoldout === null ? null : { trials: sumBy(parts, (a) => a.matchedHoldout?.trials ?? 0), conversions: sumBy(parts, (a) => a.matchedHoldout?.conversions ?? 0) };
        const h = m ?? holdout;
        return { matchedHoldout: m, uplift: trials > 0 && h.trials > 0 ? newcombeDiff(conversions, trials, h.conversions, h.trials) : null };
      })(),
      marginUplift: null,
      upliftBySegment: {},
      stock: stocks.length ? Math.min(...stocks) : null,
      overPromisedUnits: Math.max(0, ...parts.map((a) => a.overPromisedUnits ?? 0)),
      budget: budgets.length
        ? { budgetCents: budgets[0]!.budgetCents, reservedCents: sumBy(budgets, (b) => b.reservedCents), spentCents: sumBy(budgets, (b) => b.spentCents) }
        : null,
      excluded: addRecords(parts.map((a) => a.excluded)),
      guardExclusions: sumBy(parts, (a) => a.guardExclusions),
    };
  });
  const lat = snaps.reduce((a, b) => (b.latencyMs.count > a.latencyMs.count ? b : a)).latencyMs;
  return {
    wallMs: Math.max(...snaps.map((s) => s.wallMs)),
    eventTimeMs: Math.max(...snaps.map((s) => s.eventTimeMs)),
    decisions,
    nothingEligible: sumBy(snaps, (s) => s.nothingEligible),
    outcomes: sumBy(snaps, (s) => s.outcomes),
    pending: sumBy(snaps, (s) => s.pending),
    deadLetters: addRecords(snaps.map((s) => s.deadLetters)),
    arms,
    holdout: { ...holdout, conversion: conv(holdout.conversions, holdout.trials), meanMarginCents: holdout.trials ? marginSum / holdout.trials : 0 },
    segments: [...new Set(snaps.flatMap((s) => s.segments))].sort(),
    cache: {
      customers: sumBy(snaps, (s) => s.cache.customers),
      evictions: sumBy(snaps, (s) => s.cache.evictions),
      expirations: sumBy(snaps, (s) => s.cache.expirations),
      rememberedOffers: sumBy(snaps, (s) => s.cache.rememberedOffers),
    },
    latencyMs: lat,
    consumer: { lag: sumBy(snaps, (s) => s.consumer.lag), ackPending: sumBy(snaps, (s) => s.consumer.ackPending) },
    eventsIn: sumBy(snaps, (s) => s.eventsIn),
    health: {
      ok: snaps.every((s) => s.health.ok),
      consuming: snaps.every((s) => s.health.consuming),
      nats: snaps.every((s) => s.health.nats),
      consumer: snaps.every((s) => s.health.consumer),
      degraded: [...new Set(snaps.flatMap((s) => s.health.degraded))],
    },
    partitions: snaps.flatMap((s) => s.partitions ?? []).sort((a, b) => a - b),
    ...mergeSafe(snaps),
  };
}

/**
 * Safe start across partitions: counts add up; the mode, the evidence (each partition's already holds
 * the others' through sync) and the changes come from the partition that has decided most; the bound
 * is each partition's own (each holding it holds it for the shop), so the tightest is shown.
 */
function mergeSafe(snaps: readonly LiveSnapshot[]): Pick<LiveSnapshot, "safe"> {
  const parts = snaps.map((s) => s.safe).filter((x): x is NonNullable<LiveSnapshot["safe"]> => x !== undefined);
  if (parts.length === 0) return {};
  const richest = parts.reduce((a, b) => (b.decisions > a.decisions ? b : a));
  const decisions = sumBy(parts, (p) => p.decisions);
  const servedByBaseline = sumBy(parts, (p) => p.servedByBaseline);
  const bounds = parts.map((p) => p.bound).filter((b): b is NonNullable<typeof b> => b !== null);
  return {
    safe: {
      ...richest,
      decisions,
      servedByBaseline,
      explored: sumBy(parts, (p) => p.explored),
      baselineShare: decisions > 0 ? servedByBaseline / decisions : 0,
      bound: bounds.length ? bounds.reduce((a, b) => (b.slackLcb < a.slackLcb ? b : a)) : null,
    },
  };
}
