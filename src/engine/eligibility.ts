// The static part of the guards, computed once and reused (issue #16). Of the guards a promotion goes
// through at a decision point, schedule, channel and applicability depend only on the promotions, the
// time and where the decision is made (its channel and product), not on stock, budget or the customer.
// They are the same for every decision at one (channel, product) until a promotion changes or the
// time crosses a promotion's start or end, so they are kept per (channel, product) and recomputed only
// then. With promotions on one category each, seven in eight of them stop at "not-applicable": before
// this, each such promotion cost its three checks and an explanation entry at every decision.
//
// The explanation's entries are shared: one frozen { promotionId, reason } per promotion and reason,
// and, per (channel, product), one frozen array of the static exclusions in promotion order, which is
// a decision's whole `excluded` list whenever no stock, budget, cap or margin guard excludes anything.
import type { Channel, Decision, ExclusionReason } from "../events/index.ts";
import { staticExclusionOf } from "./guards.ts";
import type { DecisionProduct } from "./margin.ts";
import type { Promotion } from "./types.ts";

export type ExcludedEntry = Decision["explanation"]["excluded"][number];

/**
 * How long after its end a promotion is still listed among a decision's exclusions ("off-schedule"):
 * long enough to read why an offer that just ended was not made. Listed for good, every promotion that
 * ever ran stayed in every decision (about 55 bytes each: a shop with a flash sale a day had decisions of
 * 21 KB after a year, 6 KB after 100 days), and promotions cannot be removed, only ended.
 */
export const ENDED_LISTED_MS = 24 * 3_600_000;

/** Whether a static exclusion is listed in the explanation: all are but those of promotions ended over ENDED_LISTED_MS ago. */
export function listed(p: Promotion, reason: ExclusionReason, nowMs: number): boolean {
  return reason !== "off-schedule" || nowMs < p.endsAtMs + ENDED_LISTED_MS;
}

/**
 * The engine's promotions, in the order they were first added (a Map's), with a version that moves on
 * every change, so what was derived from them knows when it is stale. Every way promotions change (the
 * configuration, a promotion event, a checkpoint restored) goes through set, delete or clear.
 */
export class PromotionTable extends Map<string, Promotion> {
  version = 0;
  override set(id: string, p: Promotion): this {
    this.version++;
    return super.set(id, p);
  }
  override delete(id: string): boolean {
    this.version++;
    return super.delete(id);
  }
  override clear(): void {
    this.version++;
    super.clear();
  }
}

/** The static guards at one (channel, product), valid for event times in [fromMs, untilMs). */
export interface StaticEligibility {
  /** Per promotion (the generation's order): its static exclusion, or undefined: it goes on to the dynamic guards. */
  why: (ExclusionReason | undefined)[];
  /** Indices of the promotions with no static exclusion, in order. */
  candidates: number[];
  /** The static exclusions' explanation entries, in promotion order (frozen, shared). */
  excluded: readonly ExcludedEntry[];
  /** The product's category it was computed for (a product's category can change). */
  category: string | undefined;
  fromMs: number;
  untilMs: number;
}

/** What the cache derives from one version of the promotions. */
class Generation {
  readonly promos: Promotion[];
  /** Start and end times of every schedule (and when an ended one stops being listed), ascending: the times at which a static verdict can change. */
  private readonly bounds: number[];
  /** Per promotion, its explanation entry per reason (created on first use, frozen). */
  private readonly entries: Partial<Record<ExclusionReason, ExcludedEntry>>[];
  /** Per channel: the entry of a decision with no product, and entries by product id. */
  private readonly byChannel = new Map<Channel, { none: StaticEligibility | undefined; byProduct: Map<string, StaticEligibility> }>();

  constructor(
    promotions: ReadonlyMap<string, Promotion>,
    readonly version: number,
  ) {
    this.promos = [...promotions.values()];
    this.entries = this.promos.map(() => ({}));
    const b: number[] = [];
    for (const p of this.promos) {
      if (Number.isFinite(p.startsAtMs)) b.push(p.startsAtMs);
      if (Number.isFinite(p.endsAtMs)) b.push(p.endsAtMs, p.endsAtMs + ENDED_LISTED_MS);
    }
    this.bounds = b.sort((x, y) => x - y);
  }

  entry(i: number, reason: ExclusionReason): ExcludedEntry {
    const e = this.entries[i]!;
    return (e[reason] ??= Object.freeze({ promotionId: this.promos[i]!.id, reason }));
  }

  at(channel: Channel, product: DecisionProduct | undefined, nowMs: number): StaticEligibility {
    let ch = this.byChannel.get(channel);
    if (!ch) this.byChannel.set(channel, (ch = { none: undefined, byProduct: new Map() }));
    let s = product ? ch.byProduct.get(product.productId) : ch.none;
    if (s && nowMs >= s.fromMs && nowMs < s.untilMs && (!product || s.category === product.category)) return s;
    s = this.compute(channel, product, nowMs);
    if (!product) ch.none = s;
    else {
      // Bounded: one entry per product seen; a catalog larger than this starts over.
      if (ch.byProduct.size >= MAX_PRODUCTS) ch.byProduct.clear();
      ch.byProduct.set(product.productId, s);
    }
    return s;
  }

  private compute(channel: Channel, product: DecisionProduct | undefined, nowMs: number): StaticEligibility {
    const why: (ExclusionReason | undefined)[] = [];
    const candidates: number[] = [];
    const excluded: ExcludedEntry[] = [];
    for (let i = 0; i < this.promos.length; i++) {
      const r = staticExclusionOf(this.promos[i]!, channel, nowMs, product);
      why.push(r);
      if (r && listed(this.promos[i]!, r, nowMs)) excluded.push(this.entry(i, r));
      else candidates.push(i);
    }
    // The verdicts hold between the schedule bounds around nowMs: [last bound ≤ now, first bound > now).
    let fromMs = -Infinity;
    let untilMs = Infinity;
    for (const t of this.bounds) {
      if (t <= nowMs) fromMs = t;
      else {
        untilMs = t;
        break;
      }
    }
    return { why, candidates, excluded: Object.freeze(excluded), category: product?.category, fromMs, untilMs };
  }
}

const MAX_PRODUCTS = 4096;

/** The static guards of one engine, rebuilt when its promotions change. Owned by the engine (no module state). */
export class EligibilityCache {
  private gen: Generation | undefined;

  /** What is derived from these promotions as they are now (`at` gives the static verdicts). */
  generation(promotions: ReadonlyMap<string, Promotion>): Generation {
    // A plain Map has no version: derive afresh each time (the engine makes a PromotionTable, but
    // Engine is an interface).
    const version = promotions instanceof PromotionTable ? promotions.version : -1;
    let g = this.gen;
    if (!g || version < 0 || g.version !== version) this.gen = g = new Generation(promotions, version);
    return g;
  }
}

export type { Generation as EligibilityGeneration };
