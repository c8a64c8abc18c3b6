// Pure: the "now" table, one row per arm from the latest KPI snapshot.
import type { ArmSnapshot, LiveSnapshot } from "../../src/kpi/index.ts";
import { formatInterval, formatValue } from "./format.ts";

export type Verdict = "helps" | "hurts" | "unproven" | "no data" | "baseline";

/**
 * Why control has no verdict. Its uplift is there, but it is not a promotion's effect: it compares the
 * decisions where the policy chose no promotion with the random holdout's, i.e. whom the policy leaves
 * alone, so "helps" or "hurts" would misread it (and "no data" contradicted the interval beside it).
 */
export const BASELINE_NOTE = "control is no promotion: its uplift compares the policy's choices of no promotion with the random holdout, which tells how the policy picks whom to leave alone, not an effect";

export interface ArmRow {
  id: string;
  name: string;
  posterior: string;
  conversion: string;
  uplift: string;
  /** From the uplift interval: entirely above zero, entirely below, or across it; control: "baseline". */
  verdict: Verdict;
  /** What the verdict means, for its cell's title. */
  verdictNote: string;
  share: string;
  trials: number;
  stock: string;
  /** Why available stock shows 0 when more units are promised than are in stock; "" otherwise. */
  stockNote: string;
  budget: string;
  excluded: number;
  /**
   * Highest posterior mean among the arms with at least one closed decision. An arm with none sits at
   * its prior, which can be above every learned mean (at start, untried arms were bold); none is bold
   * before any decision has closed.
   */
  leader: boolean;
}

export function verdictOf(ci: readonly [number, number] | undefined): Verdict {
  if (!ci) return "no data";
  if (ci[0] > 0) return "helps";
  if (ci[1] < 0) return "hurts";
  return "unproven";
}

/**
 * Open decisions, as a share of the arm's closed and open ones, above which its conversion is not shown.
 * A decision closes at once when bought but only at its window's end otherwise, so the closed ones hold
 * the purchases of decisions whose failures are still open: over them the conversion reads up to
 * 1 / (1 − open share) times too high (100% early in a run). At a tenth open it is at most ~11% high.
 */
export const MAX_OPEN_SHARE = 0.1;

/** The conversion over the arm's closed decisions, or none while too many are still open. */
export function conversionText(a: Pick<ArmSnapshot, "trials" | "conversion" | "open">): string {
  const open = a.open ?? 0;
  if (!a.trials) return open ? `– (0 closed, ${open} open)` : "–";
  if (open > MAX_OPEN_SHARE * (a.trials + open)) return `– (${a.trials} closed, ${open} open)`;
  const figure = formatInterval(a.conversion.estimate, a.conversion.ci95, "percent");
  return open ? `${figure} (${open} open)` : figure;
}

export function armRows(kpi: LiveSnapshot | null): ArmRow[] {
  if (!kpi) return [];
  let best = -Infinity;
  for (const a of kpi.arms) if (a.trials > 0) best = Math.max(best, a.posterior.mean);
  return kpi.arms.map((a) => ({
    id: a.id,
    name: a.name,
    posterior: formatInterval(a.posterior.mean, a.posterior.ci95, "percent"),
    conversion: conversionText(a),
    uplift: a.uplift ? formatInterval(a.uplift.estimate, a.uplift.ci95, "percent") : "–",
    verdict: a.id === "control" ? "baseline" : verdictOf(a.uplift?.ci95),
    verdictNote: a.id === "control" ? BASELINE_NOTE : "from the uplift interval: helps above zero, hurts below, unproven across it",
    share: formatValue(a.share, "percent"),
    trials: a.trials,
    stock: a.stock === null ? "–" : a.overPromisedUnits ? `${Math.max(0, a.stock)} (${a.overPromisedUnits} over)` : String(Math.max(0, a.stock)),
    stockNote: a.overPromisedUnits ? `${a.overPromisedUnits} more units are promised to open offers than are in stock: the stock fell after the offers were made. No new offer is made until it is back.` : "",
    budget: a.budget && a.budget.budgetCents > 0 ? formatValue((a.budget.spentCents + a.budget.reservedCents) / a.budget.budgetCents, "percent") : "–",
    excluded: a.guardExclusions,
    leader: a.trials > 0 && a.posterior.mean === best,
  }));
}
