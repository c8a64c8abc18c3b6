import { describe, expect, it } from "vitest";
import { newcombeDiff } from "../bandit/index.ts";
import { CONTROL, createEngine, engineFromJSON, engineToJSON, type Outcome, type Pending } from "../engine/index.ts";
import type { Decision } from "../events/index.ts";
import { T0, engineConfig, promo } from "../../test/support/engine.ts";
import { KpiAccumulator, buildSnapshot, mergeSnapshots, type LiveSnapshot } from "./index.ts";

let n = 0;
function decision(promotionId: string, segment: string, holdout = false, reason?: "nothing-eligible", candidates: readonly string[] = []): Decision {
  const id = `d-${++n}`;
  return {
    id,
    ts: T0,
    customerId: "c",
    channel: "web",
    promotionId,
    holdout,
    segment,
    propensity: 0.5,
    eventId: `e-${n}`,
    point: "product-view",
    expiresAt: T0 + 1,
    ...(reason ? { reason } : {}),
    explanation: { candidates: [...candidates, CONTROL].map((c) => ({ promotionId: c, score: 0 })), excluded: [] },
  };
}
function outcome(d: Decision, converted: boolean, cause: Outcome["cause"] = converted ? "purchase" : "expired"): Outcome {
  return {
    decisionId: d.id,
    eventId: d.eventId,
    point: d.point,
    propensity: d.propensity,
    openedAt: d.ts,
    revenueCents: converted ? 2_000 : 0,
    closedBy: converted ? "purchased" : cause === "overflow" ? "overflow" : "expired",
    customerId: d.customerId,
    channel: d.channel,
    promotionId: d.promotionId,
    segment: d.segment,
    holdout: d.holdout,
    ...(d.holdout ? { candidates: d.explanation.candidates.map((c) => c.promotionId).filter((c) => c !== CONTROL) } : {}),
    learn: d.reason !== "nothing-eligible" && cause !== "overflow",
    converted,
    reward: converted ? 1 : 0,
    marginCents: converted ? 1_000 : 0,
    discountCents: 0,
    cause,
    ts: T0 + 1,
  };
}

/** Records `trials` decisions of an arm in a segment, `conversions` of them converting. */
function record(k: KpiAccumulator, arm: string, segment: string, trials: number, conversions: number, holdout = false, candidates: readonly string[] = ["a", "b"]): void {
  for (let i = 0; i < trials; i++) {
    const d = decision(arm, segment, holdout, undefined, candidates);
    k.onDecision(d);
    k.onOutcome(outcome(d, i < conversions));
  }
}

describe("buildSnapshot: uplift against the holdout", () => {
  it("reports each promotion's uplift over the holdout control, overall and per segment, with Newcombe 95% intervals", () => {
    const e = createEngine(engineConfig({ promotions: [promo("a"), promo("b")] }));
    const k = new KpiAccumulator();
    record(k, "a", "new", 400, 40);
    record(k, "a", "returning", 300, 45);
    record(k, "b", "new", 200, 10);
    record(k, CONTROL, "new", 100, 3, true);
    record(k, CONTROL, "returning", 150, 9, true);
    // Control chosen by the policy (not holdout) is not the uplift baseline: it is confounded.
    record(k, CONTROL, "new", 500, 400);
    // Nor are forced control (nothing eligible) and overflowed decisions trials at all.
    const forced = decision(CONTROL, "new", false, "nothing-eligible");
    k.onDecision(forced);
    k.onOutcome(outcome(forced, true));
    const over = decision("a", "new");
    k.onDecision(over);
    k.onOutcome(outcome(over, false, "overflow"));

    const s = buildSnapshot(e, k, 0);
    expect(s.holdout).toMatchObject({ trials: 250, conversions: 12 });
    const a = s.arms.find((x) => x.id === "a")!;
    expect(a.trials).toBe(700);
    expect(a.conversions).toBe(85);
    expect(a.uplift).toEqual(newcombeDiff(85, 700, 12, 250));
    expect(a.uplift!.estimate).toBeCloseTo(85 / 700 - 12 / 250, 12);
    expect(a.uplift!.ci95[0]).toBeLessThan(a.uplift!.estimate);
    expect(a.uplift!.ci95[1]).toBeGreaterThan(a.uplift!.estimate);
    expect(a.upliftBySegment).toEqual({ new: newcombeDiff(40, 400, 3, 100), returning: newcombeDiff(45, 300, 9, 150) });
    const b = s.arms.find((x) => x.id === "b")!;
    expect(b.upliftBySegment).toEqual({ new: newcombeDiff(10, 200, 3, 100) });
    expect(s.nothingEligible).toBe(1);
    expect(s.segments).toEqual(["new", "returning"]);
    // The arms' shares are of what the policy chose (the 250 holdout decisions apart): they add up to 1.
    expect(s.arms.reduce((x, y) => x + y.share, 0)).toBeCloseTo(1, 12);
    expect(a.share).toBeCloseTo(701 / (k.decisions - 250), 12);
  });

  it("keeps a promotion taken out of the engine (the configuration's, at a restart) among the arms while its decisions count, so the shares still add up to 1", () => {
    const e = createEngine(engineConfig({ promotions: [promo("a")] }));
    const k = new KpiAccumulator();
    record(k, "a", "new", 30, 3);
    record(k, "gone", "new", 20, 2);
    record(k, CONTROL, "new", 10, 1);
    const s = buildSnapshot(e, k, 0);
    expect(s.arms.reduce((x, y) => x + y.share, 0)).toBeCloseTo(1, 12);
    expect(s.arms.find((x) => x.id === "gone")).toMatchObject({ decisions: 20, trials: 20, conversions: 2, name: "gone (no longer offered)", budget: null });
    expect(s.arms.find((x) => x.id === CONTROL)!.name).toBe("No promotion");
  });

  it("measures each promotion against the holdout decisions where it applied, not every holdout decision", () => {
    // Holdout at product decisions: where "a" applied (its category) 5% bought; elsewhere 30% did.
    // Against every holdout decision "a" (12%) would look useless; matched, it lifts by 7 points.
    const e = createEngine(engineConfig({ promotions: [promo("a"), promo("b")] }));
    const k = new KpiAccumulator();
    record(k, "a", "all", 600, 72);
    record(k, CONTROL, "all", 200, 10, true, ["a", "b"]);
    record(k, CONTROL, "all", 400, 120, true, ["b"]);
    const s = buildSnapshot(e, k, 0);
    const a = s.arms.find((x) => x.id === "a")!;
    expect(a.matchedHoldout).toEqual({ trials: 200, conversions: 10 });
    expect(a.uplift).toEqual(newcombeDiff(72, 600, 10, 200));
    expect(a.uplift!.ci95[0]).toBeGreaterThan(0);
    expect(s.arms.find((x) => x.id === "b")!.matchedHoldout).toEqual({ trials: 600, conversions: 130 });
    // Control's own row compares with every holdout decision.
    expect(s.arms.find((x) => x.id === CONTROL)!.matchedHoldout).toBeNull();
  });

  it("counts a guard's exclusions apart from a promotion that had nothing to offer (not applicable, no margin)", () => {
    const e = createEngine(engineConfig({ promotions: [promo("a")] }));
    const k = new KpiAccumulator();
    const d = decision(CONTROL, "all");
    d.explanation.excluded = [
      { promotionId: "a", reason: "not-applicable" },
      { promotionId: "a", reason: "out-of-stock" },
      { promotionId: "a", reason: "no-margin" },
      { promotionId: "a", reason: "budget-spent" },
    ];
    k.onDecision(d);
    const a = buildSnapshot(e, k, 0).arms.find((x) => x.id === "a")!;
    expect(a.excluded).toEqual({ "not-applicable": 1, "out-of-stock": 1, "no-margin": 1, "budget-spent": 1 });
    expect(a.guardExclusions).toBe(2);
  });

  it("has no uplift before the holdout has a closed trial", () => {
    const e = createEngine(engineConfig({ promotions: [promo("a")] }));
    const k = new KpiAccumulator();
    record(k, "a", "all", 10, 1);
    const s = buildSnapshot(e, k, 0);
    expect(s.arms.find((x) => x.id === "a")!.uplift).toBeNull();
  });
});

describe("available stock", () => {
  it("is never below 0: units promised beyond a stock that fell show as 0 available and as over-promised", () => {
    const e = createEngine(engineConfig({ promotions: [promo("sku", { productId: "sku-1" }), promo("cat", { category: "toys" })] }));
    e.ledger.setInventory("sku-1", "toys", 5, 1_000, 600, T0);
    for (let i = 0; i < 3; i++) e.ledger.reserveUnit("sku-1");
    const before = buildSnapshot(e, new KpiAccumulator(), 0).arms;
    expect(before.find((a) => a.id === "sku")).toMatchObject({ stock: 2, overPromisedUnits: 0 });
    // The shop sells out elsewhere: 1 left, 3 still promised to open offers.
    e.ledger.setInventory("sku-1", "toys", 1, 1_000, 600, T0 + 1);
    const after = buildSnapshot(e, new KpiAccumulator(), 0).arms;
    expect(after.find((a) => a.id === "sku")).toMatchObject({ stock: 0, overPromisedUnits: 2 });
    expect(after.find((a) => a.id === "cat")).toMatchObject({ stock: 0, overPromisedUnits: 2 });
    expect(after.find((a) => a.id === CONTROL)).toMatchObject({ stock: null, overPromisedUnits: 0 });
  });
});

describe("buildSnapshot: decisions still open", () => {
  // A decision closes at once when bought but only at its window's end otherwise: early in a run the
  // closed ones are the purchases, and conversion over them read 100% for every arm.
  it("counts each arm's policy decisions still open, the ones that will become its trials (holdout and forced control apart)", () => {
    const e = createEngine(engineConfig({ promotions: [promo("a"), promo("b")] }));
    let seq = 0;
    const open = (promotionId: string, holdout = false, learn = true) =>
      e.pending.add({ decisionId: `p-${++seq}`, customerId: `c${seq}`, channel: "web", promotionId, segment: "new", cell: "new", point: "product-view", holdout, propensity: 0.5, learn, ts: T0, expiresAt: T0 + 1_800_000, reservedCents: 0, closed: false, seq: 0 } as Pending);
    open("a");
    open("a");
    open(CONTROL);
    open(CONTROL, true);
    open(CONTROL, false, false);
    const k = new KpiAccumulator();
    record(k, "a", "new", 3, 3);
    const s = buildSnapshot(e, k, 0);
    const by = (id: string) => s.arms.find((x) => x.id === id)!;
    expect([by("a").open, by("b").open, by(CONTROL).open]).toEqual([2, 0, 1]);
    expect([by("a").trials, by("a").conversions]).toEqual([3, 3]);
    // Kept as decisions close (a running count, not a walk of the table per snapshot), and through a checkpoint.
    e.pending.close(e.pending.values().find((p) => p.promotionId === "a")!);
    e.pending.close(e.pending.values().find((p) => p.holdout)!);
    expect(buildSnapshot(e, k, 0).arms.find((x) => x.id === "a")!.open).toBe(1);
    const back = engineFromJSON(e.cfg, engineToJSON(e));
    expect([back.pending.openTrialsOf("a"), back.pending.openTrialsOf(CONTROL)]).toEqual([1, 1]);
  });
});

describe("mergeSnapshots (partitioned processors)", () => {
  it("gives the arms' shares of what the policies chose together, adding up to 1", () => {
    const e = createEngine(engineConfig({ promotions: [promo("a"), promo("b")] }));
    const live = (k: KpiAccumulator): LiveSnapshot => ({
      ...buildSnapshot(e, k, 0),
      latencyMs: { p50: 0, p99: 0, count: 0 },
      consumer: { lag: 0, ackPending: 0 },
      eventsIn: 0,
      health: { ok: true, consuming: true, nats: true, consumer: true, degraded: [] },
    });
    const k1 = new KpiAccumulator();
    record(k1, "a", "new", 30, 3);
    record(k1, CONTROL, "new", 10, 1, true);
    const k2 = new KpiAccumulator();
    record(k2, "b", "new", 50, 5);
    record(k2, CONTROL, "new", 20, 2);
    const m = mergeSnapshots([live(k1), live(k2)]);
    expect(m.arms.reduce((x, y) => x + y.share, 0)).toBeCloseTo(1, 12);
    expect(m.arms.find((x) => x.id === "b")!.share).toBeCloseTo(50 / 100, 12);
  });
  it("adds up the decisions still open", () => {
    const e = createEngine(engineConfig({ promotions: [promo("a")] }));
    const live = (open: number): LiveSnapshot => {
      const s = buildSnapshot(e, new KpiAccumulator(), 0);
      return { ...s, arms: s.arms.map((a) => ({ ...a, open })), latencyMs: { p50: 0, p99: 0, count: 0 }, consumer: { lag: 0, ackPending: 0 }, eventsIn: 0, health: { ok: true, consuming: true, nats: true, consumer: true, degraded: [] } };
    };
    expect(mergeSnapshots([live(4), live(5)]).arms.find((x) => x.id === "a")!.open).toBe(9);
  });
});

describe("KpiAccumulator through a checkpoint", () => {
  it("keeps the events handled beside the decisions (a restart's header compares the two), and reads a checkpoint from before it as 0", () => {
    const k = new KpiAccumulator();
    record(k, "a", "new", 3, 1);
    k.events = 7;
    const back = KpiAccumulator.fromJSON(JSON.parse(JSON.stringify(k.toJSON())));
    expect([back.events, back.decisions]).toEqual([7, 3]);
    const { events: _events, ...older } = k.toJSON();
    expect(KpiAccumulator.fromJSON(older).events).toBe(0);
  });
});
