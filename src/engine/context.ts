// The contextual conversion model's features (issue #14): what the engine knows of a customer that
// carries their response to an offer, plus the arm's own terms. Each is scaled to about [0, 1] so one
// prior width suits all. The first is the bias.
import type { CustomerState } from "../features/index.ts";

export const CONTEXT_FEATURES = [
  /** 1. */
  "bias",
  /** Conversion of the customer's closed decisions without a promotion, smoothed: (k + 0.1)/(n + 1). */
  "untreatedRate",
  /** The same with a promotion. */
  "treatedRate",
  /** How much those rates rest on: n/(n + 3), untreated and treated. */
  "untreatedEvidence",
  "treatedEvidence",
  /** Share of the customer's purchases made with a promotion: k/(n + 1). */
  "promotedShare",
  /** log(1 + visits)/4. */
  "visits",
  /** The customer's share of category views in the category that matters (the product's; with no product, the promotion's chance to apply). */
  "affinity",
  /** log(price / $50)/2 of the product, 0 when none is known. */
  "price",
  /** 1 with an open cart. */
  "inCart",
  /** e^(−hours since the last purchase / 24), 0 with none. */
  "recentBuyer",
  /** 1 off-site (email, sms, push). */
  "message",
  /** The arm's discount as a share of the price (0 for control). */
  "discountShare",
] as const;

export const CONTEXT_DIMS = CONTEXT_FEATURES.length;

/** What every arm of a decision shares; `armFeatures` completes it per arm. */
export interface SharedContext {
  untreatedRate: number;
  treatedRate: number;
  untreatedEvidence: number;
  treatedEvidence: number;
  promotedShare: number;
  visits: number;
  price: number;
  inCart: number;
  recentBuyer: number;
  message: number;
}

export function sharedContext(c: CustomerState, nowMs: number, priceCents: number | undefined, message: boolean, out: SharedContext): SharedContext {
  out.untreatedRate = (c.untreatedConverted + 0.1) / (c.untreated + 1);
  out.treatedRate = (c.treatedConverted + 0.1) / (c.treated + 1);
  out.untreatedEvidence = c.untreated / (c.untreated + 3);
  out.treatedEvidence = c.treated / (c.treated + 3);
  out.promotedShare = c.promoPurchases / (c.purchases + 1);
  out.visits = Math.log1p(c.visits) / 4;
  out.price = priceCents !== undefined && priceCents > 0 ? Math.log(priceCents / 5000) / 2 : 0;
  out.inCart = c.cartValueCents > 0 ? 1 : 0;
  out.recentBuyer = c.lastPurchaseMs > 0 ? Math.exp(-Math.max(0, nowMs - c.lastPurchaseMs) / 86_400_000) : 0;
  out.message = message ? 1 : 0;
  return out;
}

/** Writes the arm's feature vector (CONTEXT_FEATURES order) into `x` from offset `at`. */
export function armFeatures(s: SharedContext, affinity: number, discountShare: number, x: Float64Array, at: number): void {
  x[at] = 1;
  x[at + 1] = s.untreatedRate;
  x[at + 2] = s.treatedRate;
  x[at + 3] = s.untreatedEvidence;
  x[at + 4] = s.treatedEvidence;
  x[at + 5] = s.promotedShare;
  x[at + 6] = s.visits;
  x[at + 7] = affinity;
  x[at + 8] = s.price;
  x[at + 9] = s.inCart;
  x[at + 10] = s.recentBuyer;
  x[at + 11] = s.message;
  x[at + 12] = discountShare;
}
