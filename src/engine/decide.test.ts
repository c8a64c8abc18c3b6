// decide() with the logistic model (issue #21): the logged propensity is the probability of what the
// policy does with the scores it builds (the intercept drawn, the context terms at their weighted mean),
// and every learned decision feeds the context evidence: a sample when made, its term when it converts.
import { describe, expect, it } from "vitest";
import { rngFromKey, rngFromSeed } from "../random/index.ts";
import type { Decision, ShopEvent } from "../events/index.ts";
import { HOUR, MIN, T0, engineConfig, ev, promo } from "../../test/support/engine.ts";
import { CONTROL, cellOf, createEngine, drawPolicy, engineFromJSON, engineToJSON, policyDistribution, step, type Effect, type Engine } from "./index.ts";

const run = (e: Engine, x: ShopEvent): Effect[] => step(e, x, rngFromKey(e.cfg.seed, x.id));
const decisionOf = (fx: Effect[]): Decision | undefined => fx.flatMap((f) => (f.kind === "decision" ? [f.decision] : []))[0];

/** An engine with the logistic model that has decided and learned at `n` visits (promotion p2 converts best). */
function learned(n: number, seed: number): { e: Engine; ts: number } {
  const e = createEngine(engineConfig({ bandit: { model: "logistic" }, promotions: [promo("p1"), promo("p2"), promo("p3")], frequencyCaps: { web: { maxOffers: 1000, windowMs: MIN } } }));
  const rng = rngFromSeed(seed);
  const rate: Record<string, number> = { control: 0.05, p1: 0.08, p2: 0.2, p3: 0.1 };
  let ts = T0;
  for (let i = 0; i < n; i++) {
    ts += 1_000;
    const customerId = `c${Math.floor(rng.next() * 300)}`;
    const d = decisionOf(run(e, ev.visit(customerId, ts)));
    if (d && rng.next() < rate[d.promotionId]!) run(e, ev.purchase({ ts: ts + 1, customerId, totalCents: 2_000, ...(d.offer ? { promotionId: d.promotionId, decisionId: d.id, discountCents: 500 } : {}) }));
  }
  return { e, ts };
}

describe("decide() with the logistic model", () => {
  it("logs the probability of what it does: each arm's propensity against 200,000 draws from the decision's own scores (seed 1; within 0.004)", () => {
    const { e, ts } = learned(3_000, 1);
    const d = decisionOf(run(e, ev.visit("c-new", ts + 1_000)))!;
    // The scores the decision drew from stay in the engine's scratch until the next decision.
    const A = e.scratch.arms;
    const ids = d.explanation.candidates.map((c) => c.promotionId);
    const probs = policyDistribution(A, { kind: "thompson" }, -1, rngFromSeed(2), e.cfg.bandit, e.scratch.policy, []);
    expect(probs[ids.indexOf(d.promotionId)]).toBeCloseTo(d.propensity, 9);
    const counts = new Array<number>(ids.length).fill(0);
    const rng = rngFromSeed(3);
    const N = 200_000;
    for (let k = 0; k < N; k++) counts[drawPolicy(A, { kind: "thompson" }, -1, rng, e.cfg.bandit, e.scratch.policy).index]!++;
    // Binomial sd at most √(0.25/200,000) = 0.0011; the quadrature's own error is below 0.002.
    ids.forEach((id, j) => expect(Math.abs(counts[j]! / N - probs[j]!), id).toBeLessThan(0.004));
    // The model learned p2's lead: it is the arm the policy takes most.
    expect(ids[probs.indexOf(Math.max(...probs))]).toBe("p2");
  });

  it("opens a sample of the context evidence at each learned decision and adds its term when it converts", () => {
    const { e, ts } = learned(200, 4);
    const ev0 = e.logistic!.evidence.toJSON();
    const fx = run(e, ev.visit("c-x", ts + 1_000));
    const d = decisionOf(fx)!;
    const p = e.pending.values().find((x) => x.decisionId === d.id)!;
    expect(typeof p.contextFactor).toBe("number");
    expect(p.contextAt).toBe(ev0.t + 1);
    expect(e.logistic!.evidence.toJSON().n).toBeCloseTo(ev0.n * (1 - 1 / 3_000) + 1, 9);
    const before = e.logistic!.evidence.toJSON();
    run(e, ev.purchase({ ts: ts + 2_000, customerId: "c-x", totalCents: 2_000, ...(d.offer ? { promotionId: d.promotionId, decisionId: d.id, discountCents: 500 } : {}) }));
    const after = e.logistic!.evidence.toJSON();
    // Reward "conversion": the term is the decision's factor × 1.
    expect(after.s1 - before.s1).toBeCloseTo(p.contextFactor!, 9);
    expect(after.n).toBe(before.n);
  });

  it("scores each arm with its context terms weighted by the evidence: at weight 0 the policy is the intercepts' alone", () => {
    const { e, ts } = learned(2_000, 5);
    const saved = JSON.parse(JSON.stringify(engineToJSON(e)));
    // The same decision by copies of the engine whose evidence says w.
    const at = (w: number) => {
      const copy = engineFromJSON(e.cfg, saved);
      (copy.logistic!.evidence as { weight(): number }).weight = () => w;
      run(copy, ev.visit("c7", ts + 5_000, "probe"));
      return Array.from(copy.scratch.arms.a.subarray(0, copy.scratch.arms.n));
    };
    const plain = at(0);
    const full = at(1);
    const half = at(0.5);
    expect(plain).not.toEqual(full);
    // The scores' centres move linearly with the weight, from the intercepts' to the full model's.
    half.forEach((m, j) => expect(m).toBeCloseTo((plain[j]! + full[j]!) / 2, 9));
  });
});

describe("an offer's validity", () => {
  it("ends when its promotion ends: an email sent an hour before the end is not told valid for 48 h, and its reservation goes back at the end", () => {
    const endsAtMs = T0 + HOUR;
    const e = createEngine(engineConfig({ promotions: [promo("p", { endsAtMs, budgetCents: 10_000 })], bandit: { holdoutShare: 0 } }));
    // Control's posterior far below p's: the decision offers p.
    for (let i = 0; i < 200_000; i++) e.arms.update(CONTROL, cellOf("send", "all"), 0, T0);
    const d = decisionOf(run(e, ev.send("c1", "email", T0)))!;
    expect(d.promotionId).toBe("p");
    expect(d.expiresAt).toBe(endsAtMs);
    expect(e.ledger.budgets.get("p")!.reservedCents).toBe(500);
    // Past the end (and the allowed lateness), the offer can no longer be used: its budget is free.
    run(e, ev.view("c2", endsAtMs + 6 * MIN));
    expect(e.ledger.budgets.get("p")!.reservedCents).toBe(0);
    // No promotion, no end: control's window is the channel's.
    const c = decisionOf(run(e, ev.send("c3", "email", endsAtMs + 7 * MIN)))!;
    expect(c.promotionId).toBe(CONTROL);
    expect(c.expiresAt).toBe(endsAtMs + 7 * MIN + 48 * HOUR);
  });
});

describe("decide() following a logged decision (what-if replay)", () => {
  it("closes the logged offer when its promotion ends, as the live decision did: a purchase after the end is not credited to it", () => {
    // One promotion ending 10 minutes after the visit; the web window is 30 minutes. The live decision's
    // offer (and its open entry) ends with the promotion; the replayed one stayed open the whole window
    // and took the full-price purchase at 20 minutes as the offer's success.
    const cfg = engineConfig({ promotions: [promo("p", { endsAtMs: T0 + 10 * MIN })], bandit: { holdoutShare: 0 } });
    const events: ShopEvent[] = [ev.visit("c1", T0, "visit-end"), ev.purchase({ ts: T0 + 20 * MIN, customerId: "c1", totalCents: 2_000 }), ev.view("c9", T0 + 2 * HOUR)];
    const closings = (e: Engine, logged: boolean) => {
      for (let i = 0; i < 200_000; i++) e.arms.update(CONTROL, cellOf("visit", "all"), 0, T0);
      const out: { decision?: Decision; closed: string[] } = { closed: [] };
      for (const x of events) {
        const fx = step(e, x, rngFromKey(e.cfg.seed, x.id), logged && x.id === "visit-end" ? { promotionId: "p", holdout: false } : logged ? null : undefined);
        out.decision ??= decisionOf(fx);
        for (const f of fx) if (f.kind === "outcome") out.closed.push(`${f.outcome.closedBy}@${f.outcome.ts - T0}`);
      }
      return out;
    };
    const live = closings(createEngine(cfg), false);
    expect(live.decision).toMatchObject({ promotionId: "p", expiresAt: T0 + 10 * MIN });
    expect(live.closed).toEqual([`expired@${10 * MIN}`]);
    const replayed = closings(createEngine(cfg), true);
    expect(replayed.decision).toMatchObject({ promotionId: "p", expiresAt: T0 + 10 * MIN });
    expect(replayed.closed).toEqual(live.closed);
  });
});
