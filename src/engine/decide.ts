// A decision at one decision point (issues #14, #21), in the steps decide() names:
//   begin       where, for whom, which segment;
//   candidates  the promotions the static guards let through here (schedule, channel, applicability);
//   guards      the dynamic guards (stock, budget, frequency cap, margin) over those: the eligible arms,
//               each with its margin if bought and reservation, then control;
//   scores      each arm's score distribution: score(a) = m_a · p_a, m_a the margin if bought (1 with
//               reward "conversion"), p_a the conversion model's (logistic or tabular);
//   draw        the holdout coin, then the policy's pick (Thompson sampling: one draw per arm);
//   propensity  P(this policy picks that arm here), holdout included;
//   record      the explanation, the reservations, the decision and its open entry (attribution.ts).
// The objective is the expected incremental margin, score(a) − m_0 · p_0, the same bar for every arm.
import type { Rng } from "../random/index.ts";
import { marginIfBoughtCents, type Channel, type CustomerEvent, type Decision, type DecisionPoint } from "../events/index.ts";
import { featureView, recordOffer, type CustomerState } from "../features/index.ts";
import { addPending } from "./attribution.ts";
import { armFeatures, sharedContext } from "./context.ts";
import { listed, type StaticEligibility } from "./eligibility.ts";
import { capAllows, dynamicExclusionOf, stockAt } from "./guards.ts";
import { affinityFor, categoryWeights, expectedMargin, reservationCents, unitsPromised, type DecisionProduct } from "./margin.ts";
import { drawPolicy, drawPropensity, policyDistribution, type PolicyDraw } from "./policy.ts";
import type { DecisionWork } from "./scratch.ts";
import { safeActive, serve, type SafeEntry } from "./safe.ts";
import type { Engine } from "./state.ts";
import { CONTROL, type Effect, type PolicyKind, type Promotion } from "./types.ts";
import type { ScoreArms } from "../bandit/index.ts";

export { cellOf } from "./scratch.ts";

/** A decision a shop's log holds, replayed through this engine (what-if evaluation, src/eval/whatif.ts). */
export interface LoggedChoice {
  promotionId: string;
  holdout: boolean;
  /**
   * The logged decision's propensity (the logging policy's probability of its arm): the context
   * evidence's inverse propensity weight for a decision learned from (without it, or with `learnIf`,
   * this engine's own probability of the arm).
   */
  propensity?: number;
  /**
   * Whether the engine learns from this decision, given its policy here (the replay method learns only
   * where its own draw matches the logged arm); default: whenever the arm was among its candidates.
   */
  learnIf?: (probs: readonly number[], arms: readonly string[]) => boolean;
  /** Filled by decide(): what this engine's policy would have done at this decision point. */
  report?: PolicyReport;
  /** Filled by decide(): whether `learnIf` accepted the logged arm (the replay method's match). */
  matched?: boolean;
}

/** This engine's policy at a replayed decision point: its arms, each arm's probability, and the model's expected margin per arm. */
export interface PolicyReport {
  arms: string[];
  /** P(the policy, holdout included, picks the arm). */
  probs: number[];
  /** Margin if bought × the model's mean conversion, cents: the direct method's estimate of what the arm earns. */
  values: number[];
}

/** Scores are reported to the cent, conversions to 4 decimals: the explanation is for people. */
const round2 = (x: number) => Math.round(x * 100) / 100;

function channelOf(ev: CustomerEvent): Channel {
  return ev.type === "send" ? ev.channel : "web";
}

export function decide(e: Engine, ev: CustomerEvent, point: DecisionPoint, product: DecisionProduct | undefined, rng: Rng, out: Effect[], logged?: LoggedChoice, customerState?: CustomerState): void {
  const w = begin(e, ev, point, product, customerState, logged !== undefined);
  guards(e, w, candidates(e, w));
  const d = decisionOf(e, w);
  if (w.ids.length === 0) return forcedControl(e, w, d, rng, out, logged);
  addControl(e, w);
  const A = scores(e, w);
  const kind = e.cfg.policy ?? THOMPSON;
  const fixedIndex = kind.kind === "fixed" ? w.ids.indexOf(kind.promotionId) : -1;
  if (logged) return followLogged(e, w, d, logged, A, kind, fixedIndex, rng, out);
  const pick = drawPolicy(A, kind, fixedIndex, rng, e.cfg.bandit, e.scratch.policy);
  if (safeActive(e)) {
    // Safe start (src/engine/safe.ts): the mode says who serves; the learner's draw is made anyway.
    const s = serve(e, w, A, kind, fixedIndex, pick, rng, d);
    return record(e, w, d, s.draw, rng, out, s.entry);
  }
  d.propensity = drawPropensity(A, kind, pick, rng, e.cfg.bandit, e.scratch.policy);
  record(e, w, d, pick, rng, out);
}

/** Where the decision is made and for whom: channel, customer, segment and the tabular model's cell. */
function begin(e: Engine, ev: CustomerEvent, point: DecisionPoint, product: DecisionProduct | undefined, customerState: CustomerState | undefined, replaying: boolean): DecisionWork {
  const s = e.scratch;
  const w = s.work;
  w.ev = ev;
  w.point = point;
  w.product = product;
  w.channel = channelOf(ev);
  // The caller (step) already looked the customer up: a second LRU lookup was ~3% of decide().
  w.customer = customerState ?? e.features.getOrCreate(ev.customerId);
  w.segment = s.labels.segment(featureView(w.customer, ev.ts), e.cfg.segments);
  w.cell = s.labels.cell(point, w.segment);
  w.needMargins = e.cfg.bandit.reward === "margin" || replaying;
  // The margin if bought: exact for a known product, expected over the customer's categories without
  // one, learned (AmountPosterior) when there is no catalog to price it.
  w.weights = product ? undefined : categoryWeights(w.customer, e.ledger, s.weights);
  // The arm arrays are overwritten by guards(), not emptied here: an array set to length 0 lets its
  // storage go, and refilling the four took ~600 bytes of garbage a decision (heap sampling).
  return w;
}

/** The static guards (schedule, channel, applicability), precomputed per (channel, product) (eligibility.ts). */
function candidates(e: Engine, w: DecisionWork): StaticEligibility {
  return e.scratch.eligibility.generation(e.promotions).at(w.channel, w.product, w.ev.ts);
}

/** The margin if bought of arm p (undefined: control) at this decision. */
function marginOf(e: Engine, w: DecisionWork, p: Promotion | undefined): number {
  return (w.product ? marginIfBoughtCents(p, w.product) : expectedMargin(p, w.weights!, e.ledger)) ?? e.amounts.mean(p ? p.id : CONTROL, w.ev.ts);
}

/**
 * The dynamic guards (stock, budget, frequency cap, margin) over the static candidates: the eligible
 * promotions into w's arms, and the explanation's exclusions in promotion order (the shared static list
 * as it is when no dynamic guard excluded anything, most decisions; else merged with the dynamic ones).
 */
function guards(e: Engine, w: DecisionWork, st: StaticEligibility): void {
  const s = e.scratch;
  const gen = s.eligibility.generation(e.promotions);
  const ledger = e.ledger;
  const marginObjective = e.cfg.bandit.reward === "margin";
  const capOk = capAllows(w.customer, w.channel, w.ev.ts, e.cfg);
  const dyn = s.dynamicWhy;
  let dynamicExcluded = 0;
  const stock = st.candidates.length > 0 ? stockAt(ledger, w.product) : undefined;
  let n = 0;
  for (let c = 0; c < st.candidates.length; c++) {
    const i = st.candidates[c]!;
    const p = gen.promos[i]!;
    const res = reservationCents(p, w.product, ledger);
    let why = dynamicExclusionOf(p, ledger, e.cfg, capOk, w.product, res, stock!);
    let m = 0;
    if (!why && w.needMargins) {
      m = marginOf(e, w, p);
      if (m <= 0 && marginObjective) why = "no-margin";
    }
    dyn[i] = why;
    if (why) {
      dynamicExcluded++;
      continue;
    }
    w.ids[n] = p.id;
    w.promos[n] = p;
    w.margins[n] = m;
    w.reserved[n] = res;
    n++;
  }
  truncate(w.ids, n);
  truncate(w.promos, n);
  truncate(w.margins, n);
  truncate(w.reserved, n);
  let excluded = st.excluded as Decision["explanation"]["excluded"];
  if (dynamicExcluded > 0) {
    excluded = [];
    for (let i = 0; i < gen.promos.length; i++) {
      const r = st.why[i];
      if (r ? listed(gen.promos[i]!, r, w.ev.ts) : dyn[i]) excluded.push(gen.entry(i, (r ?? dyn[i])!));
    }
  }
  w.excluded = excluded;
}

/** Cuts a reused array to n (setting `length` is a runtime call: only when it changes). */
function truncate(a: unknown[], n: number): void {
  if (a.length !== n) a.length = n;
}

/** The decision as published, control until a pick is recorded. */
function decisionOf(e: Engine, w: DecisionWork): Decision {
  const ev = w.ev;
  e.counters.decisions++;
  const d: Decision = {
    id: `d-${ev.id}`,
    ts: ev.ts,
    customerId: ev.customerId,
    channel: w.channel,
    promotionId: CONTROL,
    holdout: false,
    segment: w.segment,
    propensity: 1,
    eventId: ev.id,
    point: w.point,
    expiresAt: ev.ts + e.cfg.attributionWindowMs[w.channel],
    explanation: { candidates: [], excluded: w.excluded },
  };
  if (w.product) d.productId = w.product.productId;
  return d;
}

/**
 * Nothing eligible: control, published (every decision point gets a decision) but not learned from,
 * and certain (propensity 1): no policy chose it.
 */
function forcedControl(e: Engine, w: DecisionWork, d: Decision, rng: Rng, out: Effect[], logged: LoggedChoice | undefined): void {
  d.reason = "nothing-eligible";
  // Safe start: the rule could offer nothing either; both sides of the bound are equal here.
  if (!logged && safeActive(e)) d.policy = { mode: e.safe.mode, served: e.safe.mode === "learner" ? "learner" : "baseline", baseline: CONTROL };
  if (logged) {
    logged.report = { arms: [CONTROL], probs: [1], values: [marginOf(e, w, undefined)] };
    // Nothing is eligible: the engine takes control for sure (and learns nothing, as live).
    logged.matched = logged.promotionId === CONTROL;
  }
  out.push({ kind: "decision", decision: d });
  addPending(e, d, w.cell, undefined, false, 0, undefined, 0, rng, out);
}

/** Control joins the arms, last: the bar every promotion is scored against. */
function addControl(e: Engine, w: DecisionWork): void {
  w.ids.push(CONTROL);
  w.promos.push(undefined);
  w.margins.push(w.needMargins ? marginOf(e, w, undefined) : 0);
  w.reserved.push(0);
}

/**
 * Each arm's score distribution into the engine's ScoreArms: scale (the margin if bought, ≥ 1 cent:
 * control's can be 0 on a product sold at cost; 1 with reward "conversion") × the conversion model's.
 * The logistic model: Thompson sampling draws the arm's intercept; its context terms enter at their
 * mean, weighted by the evidence that they make better decisions (src/bandit/evidence.ts), whose two
 * greedy picks are noted here.
 */
function scores(e: Engine, w: DecisionWork): ScoreArms {
  const s = e.scratch;
  const n = w.ids.length;
  const A = s.arms;
  A.reset(n);
  const marginObjective = e.cfg.bandit.reward === "margin";
  const logistic = e.cfg.bandit.model === "logistic" ? e.logistic : undefined;
  if (!logistic) {
    for (let j = 0; j < n; j++) {
      e.arms.posteriorInto(w.ids[j]!, w.cell, w.ev.ts, s.beta);
      A.setBeta(j, s.beta.alpha, s.beta.beta, marginObjective ? Math.max(1, w.margins[j]!) : 1);
    }
    return A;
  }
  const D = logistic.opts.dims;
  const product = w.product;
  if (s.x.length < n * D) s.x = new Float64Array(Math.max(n * D, 2 * s.x.length));
  sharedContext(w.customer, w.ev.ts, product?.priceCents, w.channel !== "web", s.shared);
  // The affinity feature at a product decision is the same for every arm: the product's category.
  const productAffinity = product ? affinityFor(w.customer, product.category, e.ledger) : 0;
  const lambda = logistic.contextWeight();
  s.contrast.reset();
  for (let j = 0; j < n; j++) {
    const scale = marginObjective ? Math.max(1, w.margins[j]!) : 1;
    const p = w.promos[j];
    const aff = product ? productAffinity : affinityWithout(e, w.customer, p);
    const disc = p && product ? (product.priceCents > 0 ? w.reserved[j]! / product.priceCents : 0) : p ? Math.min(1, w.reserved[j]! / 5000) : 0;
    armFeatures(s.shared, aff, disc, s.x, j * D);
    // The row in place (no subarray view per arm).
    const pr = logistic.predictAt(w.ids[j]!, s.x, j * D, w.ev.ts, s.pred);
    A.setLogit(j, pr.plain + lambda * (pr.full - pr.plain), pr.sd, scale);
    s.contrast.see(j, scale, pr.full, pr.plain);
  }
  return A;
}

/**
 * The pick becomes the decision: the explanation (each arm's drawn score), the reservations (budget,
 * the promotion's product unit, the customer's frequency cap), the offer, and the open entry that
 * learns the outcome.
 */
function record(e: Engine, w: DecisionWork, d: Decision, pick: PolicyDraw, rng: Rng, out: Effect[], safe?: SafeEntry): void {
  const n = w.ids.length;
  const scores = e.scratch.policy.scores;
  const marginObjective = e.cfg.bandit.reward === "margin";
  const candidates = new Array<Decision["explanation"]["candidates"][number]>(n);
  for (let j = 0; j < n; j++) candidates[j] = marginObjective ? { promotionId: w.ids[j]!, score: round2(scores[j]!), marginCents: Math.round(w.margins[j]!) } : { promotionId: w.ids[j]!, score: Math.round(scores[j]! * 1e4) / 1e4 };
  const chosen = w.ids[pick.index]!;
  d.promotionId = chosen;
  d.holdout = pick.holdout;
  d.explanation.candidates = candidates;
  let reservedCents = 0;
  let reservedProductId: string | undefined;
  let reservedUnits = 0;
  if (chosen !== CONTROL) {
    const p = w.promos[pick.index]!;
    reservedCents = w.reserved[pick.index]!;
    e.ledger.reserveBudget(p.id, reservedCents);
    if (p.productId !== undefined) {
      reservedUnits = unitsPromised(p);
      e.ledger.reserveUnit(p.productId, reservedUnits);
      reservedProductId = p.productId;
    }
    const cap = e.cfg.frequencyCaps[w.channel];
    recordOffer(w.customer, w.channel, w.ev.ts, cap.maxOffers, e.watermarkMs - e.cfg.features.allowedLatenessMs - cap.windowMs);
    // The shop honours an offer until expiresAt: not past its promotion's end (an email's 48 h window
    // kept a promotion ended at midnight redeemable for two days). The open entry, and with it the
    // reservation, then closes at the end as well.
    if (p.endsAtMs < d.expiresAt) d.expiresAt = p.endsAtMs;
    const offer: NonNullable<Decision["offer"]> = { kind: p.kind, maxDiscountCents: reservedCents };
    if (p.percentOff !== undefined) offer.percentOff = p.percentOff;
    if (p.amountOffCents !== undefined) offer.amountOffCents = p.amountOffCents;
    if (p.productId !== undefined) offer.productId = p.productId;
    if (p.category !== undefined) offer.category = p.category;
    d.offer = offer;
  }
  out.push({ kind: "decision", decision: d });
  const logistic = e.cfg.bandit.model === "logistic" ? e.logistic : undefined;
  const D = logistic ? logistic.opts.dims : 0;
  const contextFactor = logistic ? e.scratch.contrast.factor(pick.index, d.propensity) : undefined;
  addPending(e, d, w.cell, logistic ? roundedRow(e.scratch.x, pick.index * D, D) : undefined, true, reservedCents, reservedProductId, reservedUnits, rng, out, contextFactor, safe);
}

const THOMPSON: PolicyKind = { kind: "thompson" };

/**
 * The chosen arm's feature row as the open decision keeps it (to 6 decimals). A loop, not
 * Array.from(subarray, fn): that built a view and called a closure per value, ~5% of decide().
 */
function roundedRow(x: Float64Array, at: number, D: number): number[] {
  const r = new Array<number>(D);
  for (let i = 0; i < D; i++) r[i] = Math.round(x[at + i]! * 1e6) / 1e6;
  return r;
}

/** What the policy would do at this decision point, for every arm, and what the model expects each to earn. */
function policyReport(A: ScoreArms, ids: readonly string[], margins: readonly number[], kind: PolicyKind, fixedIndex: number, rng: Rng, e: Engine): PolicyReport {
  const probs = policyDistribution(A, kind, fixedIndex, rng, e.cfg.bandit, e.scratch.policy, []);
  const values = ids.map((_, j) => Math.max(0, margins[j]!) * meanConversion(A, j));
  return { arms: [...ids], probs, values };
}

/** The mean of arm j's conversion: Beta α/(α+β); logit-normal by the probit approximation σ(μ/√(1 + πσ²/8)). */
function meanConversion(A: ScoreArms, j: number): number {
  return A.meanX(j);
}

/**
 * Takes the logged decision as this engine's (what-if replay): the shop's world reacted to it, so the
 * engine's state (reservations, caps, what it learns from the outcome) must follow it. Reports into
 * `logged` what this policy would have done here. The logged arm is learned from when this engine had it
 * among its candidates (its propensity is then this policy's, for the record); an arm it would not have
 * offered is followed but not learned from. A decision learned from feeds the context evidence as a
 * live one does, weighted by the logging policy's propensity (the data's; under the replay method's
 * match, this policy's own): without it the weight of the context terms stayed at its prior, and the
 * logged configuration replayed on its own log drifted from the policy it logged.
 */
function followLogged(e: Engine, w: DecisionWork, d: Decision, logged: LoggedChoice, A: ScoreArms, kind: PolicyKind, fixedIndex: number, rng: Rng, out: Effect[]): void {
  const report = policyReport(A, w.ids, w.margins, kind, fixedIndex, rng, e);
  logged.report = report;
  const j = w.ids.indexOf(logged.promotionId);
  d.promotionId = logged.promotionId;
  d.holdout = logged.holdout;
  d.propensity = j >= 0 ? Math.max(1e-9, report.probs[j]!) : 1e-9;
  let reservedCents = 0;
  let reservedProductId: string | undefined;
  let reservedUnits = 0;
  const p = j >= 0 ? w.promos[j] : e.promotions.get(logged.promotionId);
  if (p) {
    reservedCents = j >= 0 ? w.reserved[j]! : 0;
    e.ledger.reserveBudget(p.id, reservedCents);
    if (p.productId !== undefined) {
      reservedUnits = unitsPromised(p);
      e.ledger.reserveUnit(p.productId, reservedUnits);
      reservedProductId = p.productId;
    }
    const cap = e.cfg.frequencyCaps[w.channel];
    recordOffer(w.customer, w.channel, w.ev.ts, cap.maxOffers, e.watermarkMs - e.cfg.features.allowedLatenessMs - cap.windowMs);
    // As record(): the offer, and its open entry, end with the promotion. Left to the channel's window,
    // the replayed entry stayed open past the end and took a later purchase as the offer's success,
    // which the live engine, its entry closed at the end, had not.
    if (p.endsAtMs < d.expiresAt) d.expiresAt = p.endsAtMs;
  }
  out.push({ kind: "decision", decision: d });
  const learn = j >= 0 && (logged.learnIf ? logged.learnIf(report.probs, report.arms) : true);
  logged.matched = learn;
  const logistic = e.cfg.bandit.model === "logistic" ? e.logistic : undefined;
  const D = logistic ? logistic.opts.dims : 0;
  const xs = logistic && learn ? roundedRow(e.scratch.x, j * D, D) : undefined;
  const contextFactor = logistic && learn ? e.scratch.contrast.factor(j, logged.learnIf || logged.propensity === undefined ? d.propensity : logged.propensity) : undefined;
  addPending(e, d, w.cell, xs, learn, reservedCents, reservedProductId, reservedUnits, rng, out, contextFactor);
}

/**
 * The affinity feature with no product known: the chance the promotion applies to what the customer
 * buys (their weight for its category; 1 for a promotion on everything, and for control). At a product
 * decision it is the customer's weight for the product's category, the same for every arm.
 */
function affinityWithout(e: Engine, c: CustomerState, p: Promotion | undefined): number {
  if (!p) return 1;
  if (p.category !== undefined) return affinityFor(c, p.category, e.ledger);
  if (p.productId !== undefined) {
    const info = e.ledger.products.get(p.productId);
    const n = info ? (e.ledger.catalog.get(info.category)?.products ?? 1) : 1;
    return info ? affinityFor(c, info.category, e.ledger) / n : 0;
  }
  return 1;
}
