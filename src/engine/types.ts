import { resolveBaseline, type Config, type PolicyMode, type PromotionConfig, type SegmentRule } from "../config/index.ts";
import type { Channel, Decision, DeadLetterReason, DecisionPoint, ExclusionReason } from "../events/index.ts";

import type { Evidence, SafeConfig, SafeEntry } from "./safe.ts";

export const CONTROL = "control";

/** A promotion as the engine uses it: times in ms. */
export interface Promotion {
  id: string;
  name: string;
  kind: PromotionConfig["kind"];
  percentOff?: number | undefined;
  amountOffCents?: number | undefined;
  productId?: string | undefined;
  category?: string | undefined;
  channels: readonly Channel[];
  budgetCents: number;
  maxDiscountCents: number;
  bundleQuantity?: number | undefined;
  startsAtMs: number;
  endsAtMs: number;
  /** The time of the promotion change (a `promotion` event) that set it; absent: the configuration's. */
  changedAtMs?: number | undefined;
}

/** The engine's promotion from its configuration, or from a change asked for at `changedAtMs`. */
export function promotionFrom(p: PromotionConfig, changedAtMs?: number): Promotion {
  return {
    id: p.id,
    name: p.name,
    kind: p.kind,
    percentOff: p.percentOff,
    amountOffCents: p.amountOffCents,
    productId: p.productId,
    category: p.category,
    channels: p.channels,
    budgetCents: p.budgetCents,
    maxDiscountCents: p.maxDiscountCents,
    bundleQuantity: p.bundleQuantity,
    startsAtMs: p.startsAt ? Date.parse(p.startsAt) : -Infinity,
    endsAtMs: p.endsAt ? Date.parse(p.endsAt) : Infinity,
    ...(changedAtMs === undefined ? {} : { changedAtMs }),
  };
}

/**
 * How the policy picks among the eligible arms. The engine's own is Thompson sampling; the others are
 * the baselines the evaluation runs through the same pipeline (src/eval): greedy on the model's mean
 * (never control), uniform among the eligible arms and control, or always one promotion when eligible.
 */
export type PolicyKind = { kind: "thompson" } | { kind: "greedy" } | { kind: "uniform" } | { kind: "fixed"; promotionId: string };

export interface DecisionPointsConfig {
  visit: boolean;
  productView: { enabled: boolean; minViews: number; maxPerVisit: number };
  cart: boolean;
  visitGapMs: number;
}

export interface EngineConfig {
  /** Partitioned processors (issue #8): budgets and product units come as grants from a global ledger. */
  partitioned?: boolean;
  seed: number;
  promotions: readonly Promotion[];
  segments: readonly SegmentRule[];
  decisionPoints: DecisionPointsConfig;
  /** Default Thompson sampling. */
  policy?: PolicyKind | undefined;
  /** Safe start (issue 23): the mode, the shop's rule and the bound (absent: learner, no rule). */
  safe?: SafeConfig | undefined;
  features: { maxCustomers?: number | undefined; maxMemoryMb?: number | undefined; hotCustomers?: number | undefined; idleTtlMs: number; allowedLatenessMs: number; maxFutureSkewMs: number; topCategories: number; recentEventIds: number };
  bandit: {
    model: "logistic" | "tabular";
    holdoutShare: number;
    priorAlpha: number;
    priorBeta: number;
    hierarchyStrength: number;
    halfLifeMs: number;
    propensityDraws: number;
    /** Default "quadrature" (see PolicyOptions). */
    propensityMethod?: "quadrature" | "monte-carlo" | undefined;
    /** Default 12. */
    propensityNodes?: number | undefined;
    /** margin: score = margin if bought × conversion; conversion: conversion alone. */
    reward: "conversion" | "margin";
    defaultMarginShare: number;
    /** armPriorSd: each arm's intercept; contextPriorSd (default armPriorSd): each of its context terms. */
    logistic: { priorSd: number; armPriorSd: number; contextPriorSd?: number | undefined; priorConversion: number };
  };
  attributionWindowMs: Record<Channel, number>;
  maxPending: number;
  stockReserve: number;
  frequencyCaps: Record<Channel, { maxOffers: number; windowMs: number }>;
}

export function engineConfigFrom(c: Config): EngineConfig {
  const caps = c.guards.frequencyCaps;
  const w = c.attribution.windowSecByChannel;
  const cap = (x: { maxOffers: number; windowSec: number }) => ({ maxOffers: x.maxOffers, windowMs: x.windowSec * 1000 });
  return {
    partitioned: c.scale.enabled,
    seed: c.processor.seed,
    promotions: c.promotions.map(promotionFrom),
    segments: c.segments,
    decisionPoints: { ...c.decisionPoints, productView: { ...c.decisionPoints.productView }, visitGapMs: c.decisionPoints.visitGapSec * 1000 },
    features: {
      maxCustomers: c.features.maxCustomers,
      maxMemoryMb: c.features.maxMemoryMb,
      hotCustomers: c.features.hotCustomers,
      idleTtlMs: c.features.idleTtlSec * 1000,
      allowedLatenessMs: c.features.allowedLatenessSec * 1000,
      maxFutureSkewMs: c.features.maxFutureSkewSec * 1000,
      topCategories: c.features.topCategories,
      recentEventIds: c.features.recentEventIds,
    },
    bandit: { ...c.bandit, logistic: { ...c.bandit.logistic }, halfLifeMs: c.bandit.halfLifeSec * 1000 },
    safe: {
      mode: c.policy.mode,
      baseline: resolveBaseline(c),
      explore: c.policy.apprenticeExplore,
      graduateAfter: c.policy.graduateAfter,
      graduateTo: c.policy.graduateTo,
      alpha: c.policy.conservativeAlpha,
    },
    attributionWindowMs: { web: w.web * 1000, email: w.email * 1000, sms: w.sms * 1000, push: w.push * 1000 },
    maxPending: c.attribution.maxPending,
    stockReserve: c.guards.stockReserve,
    frequencyCaps: { web: cap(caps.web), email: cap(caps.email), sms: cap(caps.sms), push: cap(caps.push) },
  };
}

/**
 * A decision waiting for its outcome. Not changed once opened, but for `closed` (a checkpoint's delta
 * takes the entries opened since the last one and writes them beside the loop, after later events ran).
 */
export interface Pending {
  decisionId: string;
  customerId: string;
  channel: Channel;
  promotionId: string;
  segment: string;
  /** The tabular model's cell the decision learns into. */
  cell: string;
  /** The logistic model's context of the chosen arm (absent for the tabular model). */
  x?: number[] | undefined;
  point: DecisionPoint;
  productId?: string | undefined;
  /** A holdout decision's candidate promotions: those that applied, for uplift matched on them. */
  candidates?: string[] | undefined;
  holdout: boolean;
  /** The decision's logged propensity. */
  propensity: number;
  /** false for forced control (nothing eligible): not a policy choice, so nothing to learn. */
  learn: boolean;
  ts: number;
  expiresAt: number;
  reservedCents: number;
  reservedProductId?: string | undefined;
  /** Units of reservedProductId held (a bundle's all; absent in checkpoints before it: 1). */
  reservedUnits?: number | undefined;
  /**
   * The decision's factor in the context evidence (src/bandit/evidence.ts): (1[its arm = the full
   * model's greedy pick] − 1[= the intercepts' greedy pick]) / propensity; learned decisions of the
   * logistic model only.
   */
  contextFactor?: number | undefined;
  /** The context evidence's clock when the decision was opened (it weighs the decision's term by its age). */
  contextAt?: number | undefined;
  closed: boolean;
  /** Safe start: what the decision adds to its mode's sums when it closes (src/engine/safe.ts). */
  safe?: SafeEntry | undefined;
  /** Order of adding, set by PendingTable (ties in expiry close in this order). */
  seq: number;
}

export interface Outcome {
  decisionId: string;
  eventId: string;
  point: DecisionPoint;
  productId?: string | undefined;
  propensity: number;
  /** When the decision was made (event time). */
  openedAt: number;
  /** The purchase's total after discount, cents (0 without a purchase). */
  revenueCents: number;
  /** redeemed: a purchase used its offer; purchased: a purchase credited to it without. */
  closedBy: "redeemed" | "purchased" | "expired" | "overflow";
  customerId: string;
  channel: Channel;
  promotionId: string;
  segment: string;
  holdout: boolean;
  /** A holdout decision's candidate promotions (the promotions that applied and were eligible). */
  candidates?: string[] | undefined;
  learn: boolean;
  converted: boolean;
  /** What the conversion model learned: 1 for a conversion, 0 otherwise. */
  reward: number;
  marginCents: number;
  discountCents: number;
  /** How it closed: a purchase, the window's end, or overflow of the pending table. */
  cause: "purchase" | "expired" | "overflow";
  /** When it closed (event time). */
  ts: number;
}

export type Effect =
  | { kind: "decision"; decision: Decision }
  /** An apprentice's graduation is due: the shell puts the mode change in the log (a `mode` event per partition, ids from `eventId`; `since`: the apprenticeship that earned it). */
  | { kind: "mode"; mode: PolicyMode; reason: "graduated"; evidence: Evidence; eventId: string; ts: number; since: string }
  | { kind: "deadletter"; reason: DeadLetterReason; detail: string }
  | { kind: "outcome"; outcome: Outcome };

/** Wire form of a table's counts (partitions' sync events): arm → cell ("" for arm-wide) → [successes, failures, time]. */
export type SyncArms = Record<string, Record<string, [number, number, number]>>;

export type { ExclusionReason };
