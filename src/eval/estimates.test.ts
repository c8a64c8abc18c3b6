import { describe, expect, it } from "vitest";
import { newcombeDiff } from "../bandit/index.ts";
import { diffInterval, ipsEstimates, pairedDifference, summariseValue } from "./estimates.ts";
import type { LoggedRow, ReplayRun } from "./replay.ts";

const row = (arm: string, outcome: number): LoggedRow => ({ ctx: {}, arm, outcome });
// Six rows with logging probability 1/3: arm A three times (outcomes 1, 1, 0).
const LOG = [row("A", 1), row("B", 1), row("A", 1), row("C", 0), row("A", 0), row("B", 0)];

describe("IPS and SNIPS on a hand-made log", () => {
  it("fixed policy A: IPS = Σ w·r / n = 3·2 / 6 = 1; SNIPS = Σ w·r / Σ w = 6 / 9", () => {
    const e = ipsEstimates(LOG, (r) => (r.arm === "A" ? 1 : 0), 1 / 3);
    expect(e.ips.value).toBeCloseTo(1, 12);
    expect(e.snips.value).toBeCloseTo(2 / 3, 12);
    expect(e.ips.ci95[0]).toBeLessThan(1);
    expect(e.ips.ci95[1]).toBeGreaterThan(1);
  });

  it("a target equal to the logging policy gives weight 1: both are the plain mean", () => {
    const e = ipsEstimates(LOG, () => 1 / 3, 1 / 3);
    expect(e.ips.value).toBeCloseTo(0.5, 12);
    expect(e.snips.value).toBeCloseTo(0.5, 12);
  });

  it("a policy never matching the log has IPS 0 and SNIPS 0 (no weight)", () => {
    const e = ipsEstimates(LOG, (r) => (r.arm === "D" ? 1 : 0), 1 / 3);
    expect(e.ips.value).toBe(0);
    expect(e.snips.value).toBe(0);
  });
});

const run = (xs: number[]): ReplayRun => ({
  rows: xs.length,
  value: { n: xs.length, sum: xs.reduce((a, b) => a + b, 0), sumSq: xs.reduce((a, b) => a + b * b, 0) },
  byArm: {},
  holdoutDraws: 0,
  holdout: { n: 0, sum: 0, sumSq: 0 },
  curve: [],
  kept: [],
});

describe("value over seeds", () => {
  it("one run: the value is its mean, the seed interval is a point, the interval is the run's normal interval", () => {
    const s = summariseValue([run([1, 0, 1, 0])]);
    expect(s.value).toBe(0.5);
    expect(s.seedCi95).toEqual([0.5, 0.5]);
    // sample variance 1/3, n = 4: se = sqrt(1/12)
    const half = 1.959963984540054 * Math.sqrt(1 / 12);
    expect(s.ci95[0]).toBeCloseTo(0.5 - half, 12);
    expect(s.ci95[1]).toBeCloseTo(0.5 + half, 12);
    expect(s.matched).toBe(4);
  });

  it("several runs: mean of the run means; the seed interval uses Student's t with seeds − 1 degrees of freedom", () => {
    const s = summariseValue([run([1, 1, 0, 0]), run([1, 1, 1, 0])]);
    expect(s.value).toBeCloseTo(0.625, 12);
    // between-seed sd of (0.5, 0.75) = 0.1768; t(0.975, 1) = 12.706
    const half = 12.706204736174698 * Math.sqrt(0.03125 / 2);
    expect(s.seedCi95[1] - s.value).toBeCloseTo(half, 6);
  });
});

describe("differences against the control", () => {
  it("0/1 outcomes use Newcombe's interval", () => {
    const a = { n: 100, sum: 30, sumSq: 30 };
    const b = { n: 80, sum: 12, sumSq: 12 };
    expect(diffInterval(a, b, true)).toEqual(newcombeDiff(30, 100, 12, 80));
  });
  it("other outcomes use a normal interval on the difference of means", () => {
    const a = { n: 4, sum: 10, sumSq: 30 }; // values 1..4: mean 2.5, var 5/3
    const b = { n: 2, sum: 2, sumSq: 2 }; // 1, 1: mean 1, var 0
    const d = diffInterval(a, b, false);
    expect(d.estimate).toBe(1.5);
    expect(d.ci95[1] - 1.5).toBeCloseTo(1.959963984540054 * Math.sqrt(5 / 3 / 4), 12);
  });
});

describe("pairedDifference: the engine against a policy over the same seeds", () => {
  it("differences 1, 2, 3: mean 2, t-interval 2 ± t(0.975, 2)·1/√3, verdict better", () => {
    const p = pairedDifference([11, 12, 13], [10, 10, 10]);
    expect(p.mean).toBeCloseTo(2, 12);
    // t(0.975, 2) = 4.302652729911275; sd of (1, 2, 3) = 1.
    expect(p.ci95[0]).toBeCloseTo(2 - 4.302652729911275 / Math.sqrt(3), 9);
    expect(p.ci95[1]).toBeCloseTo(2 + 4.302652729911275 / Math.sqrt(3), 9);
    expect(p.verdict).toBe("cannot tell");
  });

  it("pairs seed by seed: a shared swing cancels, so a steady lead is told even when each value spreads widely", () => {
    const engine = [0.1, 0.5, 0.9, 0.3, 0.7];
    expect(pairedDifference(engine, engine.map((v) => v - 0.01)).verdict).toBe("better");
    expect(pairedDifference(engine, engine.map((v) => v + 0.01)).verdict).toBe("worse");
    // Unpaired, the same lead would drown in the spread of each policy's values.
    expect(pairedDifference(engine, [...engine].reverse().map((v) => v - 0.01)).verdict).toBe("cannot tell");
  });

  it("a policy with one run stands for every seed; one seed alone cannot tell", () => {
    const p = pairedDifference([0.2, 0.3, 0.25, 0.22], [0.1]);
    expect(p.mean).toBeCloseTo(0.1425, 12);
    expect(p.verdict).toBe("better");
    expect(pairedDifference([0.2], [0.1]).verdict).toBe("cannot tell");
  });
});
