// The context evidence (issue #21): each decision's IPS factor, the weight it gives the context terms,
// its memory, and its sharing between partitions. Fixed seeds.
import { describe, expect, it } from "vitest";
import { rngFromSeed, type Rng } from "../random/index.ts";
import { CONTEXT_WEIGHT_PRIOR, ContextEvidence, DecisionContrast } from "./evidence.ts";

describe("DecisionContrast", () => {
  it("compares the greedy pick with context terms and without, weighted by the pick's propensity", () => {
    const c = new DecisionContrast();
    c.reset();
    // Arm 0: best without context (plain), arm 1: best with it (full); arm 2 neither.
    c.see(0, 1, -2, -1);
    c.see(1, 1, -0.5, -1.5);
    c.see(2, 1, -3, -3);
    expect(c.factor(1, 0.25)).toBe(4);
    expect(c.factor(0, 0.5)).toBe(-2);
    expect(c.factor(2, 0.1)).toBe(0);
    // The scale (a margin) weighs the conversion: arm 2 with a large margin wins both rules: they agree.
    c.see(2, 100, -3, -3);
    expect(c.factor(2, 0.1)).toBe(0);
    expect(c.factor(1, 0.1)).toBe(0);
    c.reset();
    c.see(0, 1, 0, 0);
    expect(c.factor(0, 1)).toBe(0);
  });
});

/**
 * A stream of decisions where the two greedy rules disagree: the policy takes either with probability
 * 1/2, and each converts at its own rate (reward 1). Returns the evidence's weight after `n` decisions.
 */
function stream(ev: ContextEvidence, n: number, rateWith: number, rateWithout: number, rng: Rng): number {
  const c = new DecisionContrast();
  for (let i = 0; i < n; i++) {
    c.reset();
    c.see(0, 1, 1, 0);
    c.see(1, 1, 0, 1);
    const pick = rng.next() < 0.5 ? 0 : 1;
    const factor = c.factor(pick, 0.5);
    const at = ev.open();
    if (rng.next() < (pick === 0 ? rateWith : rateWithout)) ev.convert(factor, 1, at);
  }
  return ev.weight();
}

describe("ContextEvidence", () => {
  it("starts at the prior and goes to the rule that earns more (seed 1; 3,000 decisions, 0.30 against 0.20)", () => {
    expect(new ContextEvidence().weight()).toBe(CONTEXT_WEIGHT_PRIOR);
    // Mean term 0.1, sd about 1: over the evidence's memory (about 1,900 decisions' worth after 3,000)
    // z ≈ 4.4, so the weight is beyond 0.999 / below 0.001.
    expect(stream(new ContextEvidence(), 3_000, 0.3, 0.2, rngFromSeed(1))).toBeGreaterThan(0.999);
    expect(stream(new ContextEvidence(), 3_000, 0.2, 0.3, rngFromSeed(1))).toBeLessThan(0.001);
  });

  it("with nothing to choose between the rules it stays undecided (seeds 1–20: the mean weight within 0.5 ± 0.15)", () => {
    let sum = 0;
    for (let s = 1; s <= 20; s++) sum += stream(new ContextEvidence(), 3_000, 0.25, 0.25, rngFromSeed(s));
    expect(Math.abs(sum / 20 - 0.5)).toBeLessThan(0.15);
  });

  it("forgets: when the context terms start earning more, the weight follows within a few memories (seed 2)", () => {
    const ev = new ContextEvidence(1_000);
    const rng = rngFromSeed(2);
    // A memory of 1,000 decisions: z ≈ −3.2 at the end of the losing stretch.
    expect(stream(ev, 10_000, 0.2, 0.3, rng)).toBeLessThan(0.01);
    // Without memory the 10,000 losing decisions would take about as many winning ones to undo.
    expect(stream(ev, 5_000, 0.3, 0.2, rng)).toBeGreaterThan(0.99);
    const never = new ContextEvidence(Infinity);
    const rng2 = rngFromSeed(2);
    stream(never, 10_000, 0.2, 0.3, rng2);
    expect(stream(never, 5_000, 0.3, 0.2, rng2)).toBeLessThan(0.01);
  });

  it("a decision that will never report leaves the sample", () => {
    const ev = new ContextEvidence();
    ev.open();
    const at = ev.open();
    ev.withdraw(at);
    expect(ev.sums().n).toBeCloseTo(1 * (1 - 1 / 3_000), 12);
  });

  it("partitions add their sums: the shared evidence rests on both halves and tells sooner (seed 3)", () => {
    const [left, right] = [new ContextEvidence(), new ContextEvidence()];
    const rng = rngFromSeed(3);
    const a = stream(left, 600, 0.3, 0.2, rng);
    const b = stream(right, 600, 0.3, 0.2, rng);
    left.setExternal([right.share()]);
    const s = left.sums();
    expect(s.n).toBeCloseTo(left.toJSON().n + right.toJSON().n, 3);
    expect(left.weight()).toBeGreaterThan(Math.min(a, b));
    left.setExternal([]);
    expect(left.weight()).toBe(a);
  });

  it("round-trips through its JSON", () => {
    const ev = new ContextEvidence();
    const w = stream(ev, 500, 0.3, 0.2, rngFromSeed(4));
    const back = new ContextEvidence();
    back.restore(JSON.parse(JSON.stringify(ev.toJSON())));
    expect(back.weight()).toBe(w);
    expect(back.clock).toBe(500);
  });
});
