// A decision at one decision point (issue #14): guards, the margin if bought under each eligible arm,
// the conversion model's distribution for each, the policy's pick and its propensity, the decision and
// the open entry that waits for its outcome. The objective is the expected incremental margin,
//   score(a) = m_a · p_a  (− m_0 · p_0, the same for every arm),
// m_a known at decision time (margin.ts) and p_a learned (the logistic or the tabular model); with
// reward "conversion" m_a is 1. Thompson sampling draws p_a, so each arm's score is m_a times a draw.
import type { SegmentRule } from "../config/index.ts";
import type { Rng } from "../random/index.ts";
import { marginIfBoughtCents, type Channel, type CustomerEvent, type Decision, type DecisionPoint, type ExclusionReason } from "../events/index.ts";
import { featureView, recordOffer, type CustomerState } from "../features/index.ts";
import { addPending } from "./attribution.ts";
import { armFeatures, emptyContext, sharedContext, type SharedContext } from "./context.ts";
import type { Engine } from "./engine.ts";
import { EligibilityCache } from "./eligibility.ts";
import { capAllows, dynamicExclusionOf, stockAt } from "./guards.ts";
import { affinityFor, categoryWeights, expectedMargin, reservationCents, type DecisionProduct } from "./margin.ts";
import { choose, policyDistribution } from "./policy.ts";
import { segmentOf } from "./segments.ts";
import { CONTROL, type Effect, type PolicyKind, type Promotion } from "./types.ts";
import { DIST_LOGIT, DecisionContrast, sigmoid, type ArmPrediction, type ScoreArms } from "../bandit/index.ts";

/**
 * The few distinct segment labels and cells, one string each. segmentOf builds the label by
 * concatenating its rules' labels at every decision, and the open decision keeps it and its cell
 * until it closes (minutes to days): a chain of concatenated pieces per decision, ~180 bytes that
 * every young-generation collection copied (bench/decide.bench.ts heap sampling, issue #16). Here
 * each rule's label (segmentOf of that rule alone: the same evaluation, no concatenation) leads
 * through a trie to the one string of the whole label, built once by segmentOf. Bounded: past
 * MAX_LABELS labels (only "label" rules take theirs from the data) it starts over.
 */
class Labels {
  private rules: readonly SegmentRule[] | undefined;
  private single: (readonly SegmentRule[])[] = [];
  private trie = new Map<string, unknown>();
  private count = 0;
  private readonly cells = new Map<string, Map<string, string>>();

  segment(ctx: object, rules: readonly SegmentRule[]): string {
    if (rules.length === 0) return segmentOf(ctx, rules);
    if (rules !== this.rules) {
      this.rules = rules;
      this.single = rules.map((r) => [r]);
      this.forget();
    }
    let node = this.trie;
    const last = rules.length - 1;
    for (let i = 0; ; i++) {
      const label = segmentOf(ctx, this.single[i]!);
      let next = node.get(label);
      if (next === undefined) {
        if (this.count >= MAX_LABELS) {
          this.forget();
          return this.segment(ctx, rules);
        }
        // A label not seen yet: the whole of it as segmentOf writes it, kept at its leaf.
        next = i === last ? segmentOf(ctx, rules) : new Map<string, unknown>();
        node.set(label, next);
        this.count++;
      }
      if (i === last) return next as string;
      node = next as Map<string, unknown>;
    }
  }

  private forget(): void {
    this.trie = new Map();
    this.count = 0;
    this.cells.clear();
  }

  cell(point: DecisionPoint, segment: string): string {
    let byPoint = this.cells.get(segment);
    if (!byPoint) this.cells.set(segment, (byPoint = new Map()));
    let c = byPoint.get(point);
    if (c === undefined) byPoint.set(point, (c = cellOf(point, segment)));
    return c;
  }
}

const MAX_LABELS = 4096;

/** Per-decision buffers an engine reuses (no allocation per arm, no module-level state). */
export class DecideScratch {
  ids: string[] = [];
  promos: (Promotion | undefined)[] = [];
  margins: number[] = [];
  reserved: number[] = [];
  /** Feature rows, one per arm (logistic model). */
  x = new Float64Array(0);
  shared: SharedContext = emptyContext();
  weights = new Map<string, number>();
  pred: ArmPrediction = { full: 0, plain: 0, sd: 0 };
  /** The decision's two greedy picks, with and without the arms' context terms (the context evidence). */
  contrast = new DecisionContrast();
  beta = { alpha: 0, beta: 0 };
  /** Segment labels and cells, one string each. */
  labels = new Labels();
  /** The static guards per (channel, product) (eligibility.ts). */
  eligibility = new EligibilityCache();
  /** Per promotion (the eligibility generation's order): its dynamic exclusion at this decision. */
  dynamicWhy: (ExclusionReason | undefined)[] = [];
}

/** A decision a shop's log holds, replayed through this engine (what-if evaluation, src/eval/whatif.ts). */
export interface LoggedChoice {
  promotionId: string;
  holdout: boolean;
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

/** The tabular model's cell: the decision point's kind and the customer's segment. */
export function cellOf(point: DecisionPoint, segment: string): string {
  return `${point}|${segment}`;
}

export function decide(e: Engine, ev: CustomerEvent, point: DecisionPoint, product: DecisionProduct | undefined, rng: Rng, out: Effect[], logged?: LoggedChoice, customerState?: CustomerState): void {
  const channel = channelOf(ev);
  // The caller (step) already looked the customer up: a second LRU lookup was ~3% of decide().
  const customer = customerState ?? e.features.getOrCreate(ev.customerId);
  const s = e.scratch;
  const segment = s.labels.segment(featureView(customer, ev.ts), e.cfg.segments);
  const cell = s.labels.cell(point, segment);
  const ids = s.ids;
  const promos = s.promos;
  const margins = s.margins;
  const reserved = s.reserved;
  ids.length = promos.length = margins.length = reserved.length = 0;
  const marginObjective = e.cfg.bandit.reward === "margin";
  const ledger = e.ledger;
  // The margin if bought: exact for a known product, expected over the customer's categories without
  // one, learned (AmountPosterior) when there is no catalog to price it.
  const weights = product ? undefined : categoryWeights(customer, ledger, s.weights);
  const capOk = capAllows(customer, channel, ev.ts, e.cfg);
  // Guards: the static ones (schedule, channel, applicability) come precomputed per (channel,
  // product) (eligibility.ts); the dynamic ones (stock, budget, cap, margin) run for what is left.
  const gen = s.eligibility.generation(e.promotions);
  const st = gen.at(channel, product, ev.ts);
  const dyn = s.dynamicWhy;
  let dynamicExcluded = 0;
  const stock = st.candidates.length > 0 ? stockAt(ledger, product) : undefined;
  for (let c = 0; c < st.candidates.length; c++) {
    const i = st.candidates[c]!;
    const p = gen.promos[i]!;
    const res = reservationCents(p, product, ledger);
    let why = dynamicExclusionOf(p, ledger, e.cfg, capOk, product, res, stock!);
    let m = 0;
    if (!why && (marginObjective || logged)) {
      m = (product ? marginIfBoughtCents(p, product) : expectedMargin(p, weights!, ledger)) ?? e.amounts.mean(p.id, ev.ts);
      if (m <= 0 && marginObjective) why = "no-margin";
    }
    dyn[i] = why;
    if (why) {
      dynamicExcluded++;
      continue;
    }
    ids.push(p.id);
    promos.push(p);
    margins.push(m);
    reserved.push(res);
  }
  // The explanation's exclusions, in promotion order: the shared static list as it is when no dynamic
  // guard excluded anything (most decisions), else merged with the dynamic ones.
  let excluded = st.excluded as Decision["explanation"]["excluded"];
  if (dynamicExcluded > 0) {
    excluded = [];
    for (let i = 0; i < gen.promos.length; i++) {
      const r = st.why[i] ?? dyn[i];
      if (r) excluded.push(gen.entry(i, r));
    }
  }
  const id = `d-${ev.id}`;
  const expiresAt = ev.ts + e.cfg.attributionWindowMs[channel];
  e.counters.decisions++;
  const base: Decision = {
    id,
    ts: ev.ts,
    customerId: ev.customerId,
    channel,
    promotionId: CONTROL,
    holdout: false,
    segment,
    propensity: 1,
    eventId: ev.id,
    point,
    expiresAt,
    explanation: { candidates: [], excluded },
  };
  if (product) base.productId = product.productId;
  if (ids.length === 0) {
    // Forced control: published (every decision point gets a decision) but not learned from, and
    // certain (propensity 1): no policy chose it.
    base.reason = "nothing-eligible";
    if (logged) {
      logged.report = { arms: [CONTROL], probs: [1], values: [(product ? marginIfBoughtCents(undefined, product) : expectedMargin(undefined, weights!, ledger)) ?? e.amounts.mean(CONTROL, ev.ts)] };
      // Nothing is eligible: the engine takes control for sure (and learns nothing, as live).
      logged.matched = logged.promotionId === CONTROL;
    }
    out.push({ kind: "decision", decision: base });
    addPending(e, base, cell, undefined, false, 0, undefined, rng, out);
    return;
  }
  ids.push(CONTROL);
  promos.push(undefined);
  margins.push(marginObjective || logged ? ((product ? marginIfBoughtCents(undefined, product) : expectedMargin(undefined, weights!, ledger)) ?? e.amounts.mean(CONTROL, ev.ts)) : 0);
  reserved.push(0);
  const n = ids.length;
  const A = e.scratch.arms;
  A.reset(n);
  const logistic = e.cfg.bandit.model === "logistic" ? e.logistic : undefined;
  const D = logistic ? logistic.opts.dims : 0;
  // The affinity feature at a product decision is the same for every arm: the product's category.
  let productAffinity = 0;
  // The weight of the arms' context terms in the score: the evidence that they make better decisions.
  const lambda = logistic ? logistic.contextWeight() : 0;
  s.contrast.reset();
  if (logistic) {
    if (s.x.length < n * D) s.x = new Float64Array(Math.max(n * D, 2 * s.x.length));
    sharedContext(customer, ev.ts, product?.priceCents, channel !== "web", s.shared);
    if (product) productAffinity = affinityFor(customer, product.category, ledger);
  }
  for (let j = 0; j < n; j++) {
    // Scale: the margin if bought (≥ 1 cent: control's margin can be 0 on a product sold at cost).
    const scale = marginObjective ? Math.max(1, margins[j]!) : 1;
    if (logistic) {
      const p = promos[j];
      const aff = product ? productAffinity : affinityWithout(e, customer, p);
      const disc = p && product ? (product.priceCents > 0 ? reserved[j]! / product.priceCents : 0) : p ? Math.min(1, reserved[j]! / 5000) : 0;
      armFeatures(s.shared, aff, disc, s.x, j * D);
      // The row in place (no subarray view per arm).
      const pr = logistic.predictAt(ids[j]!, s.x, j * D, ev.ts, s.pred);
      A.setLogit(j, pr.plain + lambda * (pr.full - pr.plain), pr.sd, scale);
      s.contrast.see(j, scale, pr.full, pr.plain);
    } else {
      e.arms.posteriorInto(ids[j]!, cell, ev.ts, s.beta);
      A.setBeta(j, s.beta.alpha, s.beta.beta, scale);
    }
  }
  const kind = e.cfg.policy ?? THOMPSON;
  const fixedIndex = kind.kind === "fixed" ? ids.indexOf(kind.promotionId) : -1;
  if (logged) {
    const report = policyReport(A, ids, margins, kind, fixedIndex, rng, e);
    logged.report = report;
    recordLogged(e, ev, base, logged, report, ids, promos, reserved, cell, logistic ? s.x : undefined, D, customer, channel, rng, out);
    return;
  }
  const pick = choose(A, kind, fixedIndex, rng, e.cfg.bandit, s.policy);
  const scores = s.policy.scores;
  const candidates = new Array<Decision["explanation"]["candidates"][number]>(n);
  for (let j = 0; j < n; j++) candidates[j] = marginObjective ? { promotionId: ids[j]!, score: round2(scores[j]!), marginCents: Math.round(margins[j]!) } : { promotionId: ids[j]!, score: Math.round(scores[j]! * 1e4) / 1e4 };
  const chosen = ids[pick.index]!;
  const d = base;
  d.promotionId = chosen;
  d.holdout = pick.holdout;
  d.propensity = pick.propensity;
  d.explanation.candidates = candidates;
  let reservedCents = 0;
  let reservedProductId: string | undefined;
  if (chosen !== CONTROL) {
    const p = promos[pick.index]!;
    reservedCents = reserved[pick.index]!;
    ledger.reserveBudget(p.id, reservedCents);
    if (p.productId !== undefined) {
      ledger.reserveUnit(p.productId);
      reservedProductId = p.productId;
    }
    const cap = e.cfg.frequencyCaps[channel];
    recordOffer(customer, channel, ev.ts, cap.maxOffers, e.watermarkMs - e.cfg.features.allowedLatenessMs - cap.windowMs);
    const offer: NonNullable<Decision["offer"]> = { kind: p.kind, maxDiscountCents: reservedCents };
    if (p.percentOff !== undefined) offer.percentOff = p.percentOff;
    if (p.amountOffCents !== undefined) offer.amountOffCents = p.amountOffCents;
    if (p.productId !== undefined) offer.productId = p.productId;
    if (p.category !== undefined) offer.category = p.category;
    d.offer = offer;
  }
  out.push({ kind: "decision", decision: d });
  const contextFactor = logistic ? s.contrast.factor(pick.index, pick.propensity) : undefined;
  addPending(e, d, cell, logistic ? roundedRow(s.x, pick.index * D, D) : undefined, true, reservedCents, reservedProductId, rng, out, contextFactor);
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
  if (A.kind[j] === DIST_LOGIT) return sigmoid(A.a[j]! / Math.sqrt(1 + (Math.PI * A.b[j]! * A.b[j]!) / 8));
  return A.a[j]! / (A.a[j]! + A.b[j]!);
}

/**
 * Takes the logged decision as this engine's: the shop's world reacted to it, so the engine's state
 * (reservations, caps, what it learns from the outcome) must follow it. The logged arm is learned from
 * when this engine had it among its candidates (its propensity is then this policy's, for the record);
 * an arm it would not have offered is followed but not learned from.
 */
function recordLogged(
  e: Engine,
  ev: CustomerEvent,
  d: Decision,
  logged: LoggedChoice,
  report: PolicyReport,
  ids: readonly string[],
  promos: readonly (Promotion | undefined)[],
  reserved: readonly number[],
  cell: string,
  x: Float64Array | undefined,
  D: number,
  customer: CustomerState,
  channel: Channel,
  rng: Rng,
  out: Effect[],
): void {
  const j = ids.indexOf(logged.promotionId);
  d.promotionId = logged.promotionId;
  d.holdout = logged.holdout;
  d.propensity = j >= 0 ? Math.max(1e-9, report.probs[j]!) : 1e-9;
  let reservedCents = 0;
  let reservedProductId: string | undefined;
  const p = j >= 0 ? promos[j] : e.promotions.get(logged.promotionId);
  if (p) {
    reservedCents = j >= 0 ? reserved[j]! : 0;
    e.ledger.reserveBudget(p.id, reservedCents);
    if (p.productId !== undefined) {
      e.ledger.reserveUnit(p.productId);
      reservedProductId = p.productId;
    }
    const cap = e.cfg.frequencyCaps[channel];
    recordOffer(customer, channel, ev.ts, cap.maxOffers, e.watermarkMs - e.cfg.features.allowedLatenessMs - cap.windowMs);
  }
  out.push({ kind: "decision", decision: d });
  const learn = j >= 0 && (logged.learnIf ? logged.learnIf(report.probs, report.arms) : true);
  logged.matched = learn;
  const xs = x && learn ? roundedRow(x, j * D, D) : undefined;
  addPending(e, d, cell, xs, learn, reservedCents, reservedProductId, rng, out);
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
