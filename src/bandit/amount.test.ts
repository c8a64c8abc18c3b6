import { describe, expect, it } from "vitest";
import { rngFromSeed } from "../random/index.ts";
import { AmountPosterior } from "./index.ts";

describe("AmountPosterior", () => {
  it("starts an arm from the amount pooled over every arm and moves to its own as purchases come in", () => {
    const a = new AmountPosterior({ priorStrength: 5, initialMean: 10, halfLifeMs: 0 });
    expect(a.mean("x", 0)).toBe(10);
    for (let i = 0; i < 20; i++) a.add("big", 200, 0);
    for (let i = 0; i < 20; i++) a.add("small", 50, 0);
    expect(a.pooledMean(0)).toBe(125);
    // 5 pooled purchases' weight against 20 of its own: (5·125 + 20·200)/25.
    expect(a.mean("big", 0)).toBeCloseTo((5 * 125 + 20 * 200) / 25, 10);
    expect(a.mean("new", 0)).toBe(125);
  });

  it("gives a 95% interval that covers the true mean about 95% of the time (seed 5; 400 samples of 30 skewed amounts; 0.90–0.98: a t interval under-covers a little on skewed data, measured 0.92)", () => {
    const rng = rngFromSeed(5);
    let covered = 0;
    for (let k = 0; k < 400; k++) {
      const a = new AmountPosterior({ priorStrength: 0.01, initialMean: 1, halfLifeMs: 0 });
      // Log-normal amounts, mean e^(μ + σ²/2) with μ = 4, σ = 0.6.
      for (let i = 0; i < 30; i++) {
        const z = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
        a.add("x", Math.exp(4 + 0.6 * z), 0);
      }
      const { ci95 } = a.interval95("x", 0);
      const truth = Math.exp(4 + 0.18);
      if (ci95[0] <= truth && truth <= ci95[1]) covered++;
    }
    expect(covered / 400).toBeGreaterThan(0.9);
    expect(covered / 400).toBeLessThan(0.98);
  });
});
