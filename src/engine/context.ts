// The contextual conversion model's features (issue #14): what the engine knows of a customer that
// carries their response to an offer, plus the arm's own terms. Each is scaled to about [0, 1] so one
// prior width suits all. The first is the bias.
import type { CustomerState } from "../features/index.ts";

export const CONTEXT_FEATURES = [
  /** 1. */
  "bias",
  /** The customer's conversion over closed decisions, smoothed ((k + 0.3)/(n + 2)), in bands: one-hot. */
  "rateBelow8",
  "rate8to20",
  "rate20to35",
  "rate35up",
  /** Conversion without a promotion (control, holdout), when seen: low (< 12%) or high: one-hot, both 0 when none. */
  "untreatedLow",
  "untreatedHigh",
  /** How much the bands rest on: n/(n + 3) of all closed decisions. */
  "evidence",
  /** Share of the customer's purchases made with a promotion: k/(n + 1). */
  "promotedShare",
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
  bands: [number, number, number, number];
  untreatedLow: number;
  untreatedHigh: number;
  evidence: number;
  promotedShare: number;
  price: number;
  inCart: number;
  recentBuyer: number;
  message: number;
}

export function emptyContext(): SharedContext {
  return { bands: [0, 0, 0, 0], untreatedLow: 0, untreatedHigh: 0, evidence: 0, promotedShare: 0, price: 0, inCart: 0, recentBuyer: 0, message: 0 };
}

export function sharedContext(c: CustomerState, nowMs: number, priceCents: number | undefined, message: boolean, out: SharedContext): SharedContext {
  const n = c.untreated + c.treated;
  const r = (c.untreatedConverted + c.treatedConverted + 0.3) / (n + 2);
  const b = out.bands;
  b[0] = r < 0.08 ? 1 : 0;
  b[1] = r >= 0.08 && r < 0.2 ? 1 : 0;
  b[2] = r >= 0.2 && r < 0.35 ? 1 : 0;
  b[3] = r >= 0.35 ? 1 : 0;
  const ru = (c.untreatedConverted + 0.1) / (c.untreated + 1);
  out.untreatedLow = c.untreated > 0 && ru < 0.12 ? 1 : 0;
  out.untreatedHigh = c.untreated > 0 && ru >= 0.12 ? 1 : 0;
  out.evidence = n / (n + 3);
  out.promotedShare = c.promoPurchases / (c.purchases + 1);
  out.price = priceCents !== undefined && priceCents > 0 ? Math.log(priceCents / 5000) / 2 : 0;
  out.inCart = c.cartValueCents > 0 ? 1 : 0;
  out.recentBuyer = c.lastPurchaseMs > 0 ? Math.exp(-Math.max(0, nowMs - c.lastPurchaseMs) / 86_400_000) : 0;
  out.message = message ? 1 : 0;
  return out;
}

/** Writes the arm's feature vector (CONTEXT_FEATURES order) into `x` from offset `at`. */
export function armFeatures(s: SharedContext, affinity: number, discountShare: number, x: Float64Array, at: number): void {
  x[at] = 1;
  x[at + 1] = s.bands[0];
  x[at + 2] = s.bands[1];
  x[at + 3] = s.bands[2];
  x[at + 4] = s.bands[3];
  x[at + 5] = s.untreatedLow;
  x[at + 6] = s.untreatedHigh;
  x[at + 7] = s.evidence;
  x[at + 8] = s.promotedShare;
  x[at + 9] = affinity;
  x[at + 10] = s.price;
  x[at + 11] = s.inCart;
  x[at + 12] = s.recentBuyer;
  x[at + 13] = s.message;
  x[at + 14] = discountShare;
}
