import { describe, expect, it } from "vitest";
import { rngFromSeed, sampleBeta, sampleExponential, sampleGamma, sampleNormal } from "./index.ts";
import { sampleBetaByGammas } from "./distributions.ts";

function moments(draw: () => number, n: number): { mean: number; variance: number } {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const x = draw();
    s += x;
    s2 += x * x;
  }
  const mean = s / n;
  return { mean, variance: s2 / n - mean * mean };
}

const N = 200_000;

describe("sampleBeta (Cheng 1978, BB and BC)", () => {
  // Both branches (BB: both shapes > 1; BC: one ≤ 1) and both orientations (a < b, a > b), from a cold
  // Beta(1, 1) to a learned Beta(400, 9600).
  const cases: [number, number][] = [[1, 1], [2, 5], [5, 2], [0.5, 0.5], [0.3, 8], [8, 0.3], [0.6, 25], [1.5, 1.5], [40, 960], [400, 9600]];
  it.each(cases)("Beta(%s, %s) has the right mean and variance", (a, b) => {
    const rng = rngFromSeed(Math.round(a * 1000 + b));
    const m = moments(() => sampleBeta(a, b, rng), N);
    const mean = a / (a + b);
    const variance = (a * b) / ((a + b) ** 2 * (a + b + 1));
    // Tolerance: 5 standard errors of the sample mean, and 3% (about 5 standard errors at N = 2·10⁵
    // for these shapes) of the variance.
    expect(Math.abs(m.mean - mean)).toBeLessThan(5 * Math.sqrt(variance / N));
    expect(Math.abs(m.variance - variance) / variance).toBeLessThan(0.03);
  });

  it("matches the X/(X+Y) construction in distribution (two-sample Kolmogorov–Smirnov)", () => {
    const rng = rngFromSeed(99);
    for (const [a, b] of [[3, 40], [0.7, 2]] as const) {
      const n = 20_000;
      const x = Float64Array.from({ length: n }, () => sampleBeta(a, b, rng)).sort();
      const y = Float64Array.from({ length: n }, () => sampleBetaByGammas(a, b, rng)).sort();
      let i = 0;
      let j = 0;
      let d = 0;
      while (i < n && j < n) {
        if (x[i]! <= y[j]!) i++;
        else j++;
        d = Math.max(d, Math.abs(i - j) / n);
      }
      // KS critical value at α = 0.001 for two samples of n: 1.95·√(2/n) = 0.0195.
      expect(d).toBeLessThan(0.0195);
    }
  });

  it("stays inside (0, 1) for extreme shapes", () => {
    const rng = rngFromSeed(5);
    const bad: number[] = [];
    for (const [a, b] of [[0.01, 0.01], [1e-3, 50], [1e5, 1], [2, 1e6]] as const)
      for (let i = 0; i < 1000; i++) {
        const x = sampleBeta(a, b, rng);
        if (!(x >= 0 && x <= 1)) bad.push(x);
      }
    expect(bad).toEqual([]);
  });
});

describe("sampleGamma, sampleNormal, sampleExponential", () => {
  it("have the right moments", () => {
    const rng = rngFromSeed(11);
    for (const shape of [0.4, 1, 3.5, 50]) {
      const m = moments(() => sampleGamma(shape, rng), N);
      // 5 standard errors of the mean (sd √shape / √N); variance within 4%.
      expect(Math.abs(m.mean - shape)).toBeLessThan(5 * Math.sqrt(shape / N));
      expect(Math.abs(m.variance - shape) / shape).toBeLessThan(0.04);
    }
    const z = moments(() => sampleNormal(rng), N);
    expect(Math.abs(z.mean)).toBeLessThan(5 / Math.sqrt(N));
    expect(Math.abs(z.variance - 1)).toBeLessThan(0.02);
    const e = moments(() => sampleExponential(4, rng), N);
    expect(Math.abs(e.mean - 0.25)).toBeLessThan(5 * (0.25 / Math.sqrt(N)));
  });
});
