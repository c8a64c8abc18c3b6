// Pure: the outcomes of the decisions on show (joined by decision id), and the decisions of one customer
// the dashboard follows (the person using /shop: `/?customer=<id>`), kept after they have scrolled out of
// the newest-first feed. Both bounded by what is shown.
import type { Decision } from "../../src/events/index.ts";
import type { OutcomeBrief } from "../../src/server/index.ts";

/** Decisions of the followed customer kept, newest first. */
export const MAX_FOLLOWED = 50;

/**
 * The outcomes known for the decisions in `shown`: the ones known before and the incoming ones, for
 * those decisions only (an outcome of a decision no longer shown is let go, so the map never outgrows
 * the lists on the page).
 */
export function joinOutcomes(known: ReadonlyMap<string, OutcomeBrief>, incoming: readonly OutcomeBrief[] | undefined, shown: Iterable<readonly Decision[]>): ReadonlyMap<string, OutcomeBrief> {
  const ids = new Set<string>();
  for (const list of shown) for (const d of list) ids.add(d.id);
  const out = new Map<string, OutcomeBrief>();
  for (const [id, b] of known) if (ids.has(id)) out.set(id, b);
  for (const b of incoming ?? []) if (ids.has(b.decisionId)) out.set(b.decisionId, b);
  if (out.size === known.size && [...out].every(([id, b]) => known.get(id) === b)) return known; // unchanged: no new render
  return out;
}

/** The followed customer's decisions among `incoming`, merged into `kept`: once each, newest first, bounded. */
export function followDecisions(kept: readonly Decision[], incoming: readonly Decision[], customerId: string, max = MAX_FOLLOWED): Decision[] {
  if (!customerId) return [];
  const mine = incoming.filter((d) => d.customerId === customerId);
  if (mine.length === 0) return kept as Decision[];
  return mergeDecisions(mine, kept, max);
}

/**
 * The incoming decisions (newest first by their time) above the held ones, once each, at most `max`.
 * Newest first is by arrival, as the server's own feed is: a decision's `ts` is the shop's clock, which
 * starts again when the whole system restarts on a fresh store, and sorting the held and the incoming
 * together by it kept the old run's rows on top and dropped every new decision.
 */
export function mergeDecisions(incoming: readonly Decision[], held: readonly Decision[], max: number): Decision[] {
  const seen = new Set<string>();
  const out: Decision[] = [];
  for (const d of [...[...incoming].sort((x, y) => y.ts - x.ts), ...held]) {
    if (seen.has(d.id)) continue;
    seen.add(d.id);
    out.push(d);
    if (out.length === max) break;
  }
  return out;
}

/** A decision's outcome as its row shows it: open while it is, else how it closed (with what it earned after a purchase). */
export function formatOutcome(b: OutcomeBrief | undefined): string {
  if (!b) return "open";
  if (b.closedBy === "redeemed" || b.closedBy === "purchased") return `${b.closedBy} $${(b.revenueCents / 100).toFixed(2)}`;
  return b.closedBy;
}
