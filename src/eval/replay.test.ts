import { describe, expect, it } from "vitest";
import { rngFromKey, rngFromSeed } from "../random/index.ts";
import { enginePolicy, fixedPolicy } from "./policies.ts";
import { checkpointsFor, replay, shuffled, type LoggedRow, type ReplayPolicy } from "./replay.ts";

const BANDIT = {
  model: "tabular" as const,
  holdoutShare: 0.1,
  priorAlpha: 1,
  priorBeta: 1,
  hierarchyStrength: 20,
  halfLifeMs: 0,
  propensityDraws: 16,
  reward: "conversion" as const,
  defaultMarginShare: 0.3,
  logistic: { priorSd: 1, armPriorSd: 0.3, priorConversion: 0.1 },
};

// Nine rows, three per arm, in a fixed order: the answer for every fixed policy is known by hand.
const NINE: LoggedRow[] = [
  { ctx: { k: 1 }, arm: "A", outcome: 1 },
  { ctx: { k: 2 }, arm: "B", outcome: 0 },
  { ctx: { k: 3 }, arm: "C", outcome: 0 },
  { ctx: { k: 4 }, arm: "A", outcome: 1 },
  { ctx: { k: 5 }, arm: "B", outcome: 1 },
  { ctx: { k: 6 }, arm: "C", outcome: 0 },
  { ctx: { k: 7 }, arm: "A", outcome: 0 },
  { ctx: { k: 8 }, arm: "B", outcome: 0 },
  { ctx: { k: 9 }, arm: "C", outcome: 1 },
];
const opts = { control: "C", startMs: 0, msPerRow: 1000, rngFor: (i: number) => rngFromKey(1, `r${i}`) };

describe("replay (Li et al. 2011) on a hand-made log", () => {
  it("a fixed policy keeps exactly the rows of its arm and its value is their mean", () => {
    for (const [arm, value] of [["A", 2 / 3], ["B", 1 / 3], ["C", 1 / 3]] as const) {
      const r = replay(NINE, fixedPolicy(arm), opts);
      expect(r.value.n).toBe(3);
      expect(r.value.sum / r.value.n).toBeCloseTo(value, 12);
      expect(r.byArm[arm]!.n).toBe(3);
      expect(r.holdoutDraws).toBe(0);
    }
  });

  it("keeps a row only when the choice equals the logged arm, and learns only from kept rows, in order", () => {
    // Picks A on odd k, B on even k: matches rows 1, 2, 7 and 8 only.
    const learned: [number, string, number, number][] = [];
    const p: ReplayPolicy = {
      name: "scripted",
      choose: (ctx) => ({ armId: (ctx.k as number) % 2 ? "A" : "B", holdout: false }),
      learn: (ctx, arm, reward, nowMs) => void learned.push([ctx.k as number, arm, reward, nowMs]),
    };
    const r = replay(NINE, p, { ...opts, checkpoints: [3, 9] });
    expect(learned).toEqual([
      [1, "A", 1, 1000],
      [2, "B", 0, 2000],
      [7, "A", 0, 7000],
      [8, "B", 0, 8000],
    ]);
    expect(r.value).toEqual({ n: 4, sum: 1, sumSq: 1 });
    // After 3 rows: rows 1 and 2 kept, (1 + 0) / 2; after 9: 1 / 4.
    expect(r.curve).toEqual([0.5, 0.25]);
  });

  it("counts holdout draws apart: never in value; control rows among them feed the uplift sample and learning", () => {
    const learned: number[] = [];
    const p: ReplayPolicy = {
      name: "holdout-on-3s",
      // Rows 3, 6, 9 (control rows) and 4 (an A row) go to the holdout draw; otherwise always A.
      choose: (ctx) => ((ctx.k as number) % 3 === 0 || ctx.k === 4 ? { armId: "C", holdout: true } : { armId: "A", holdout: false }),
      learn: (ctx) => void learned.push(ctx.k as number),
    };
    const r = replay(NINE, p, opts);
    expect(r.holdoutDraws).toBe(4);
    expect(r.holdout).toEqual({ n: 3, sum: 1, sumSq: 1 });
    expect(r.value).toEqual({ n: 2, sum: 1, sumSq: 1 }); // rows 1 and 7
    expect(learned).toEqual([1, 3, 6, 7, 9]);
  });

  it("spreads checkpoints evenly and ends at the last row", () => {
    expect(checkpointsFor(9, 3)).toEqual([3, 6, 9]);
    expect(checkpointsFor(5, 10)).toEqual([1, 2, 3, 4, 5]);
  });
});

describe("the engine's policy under replay", () => {
  it("learns the best arm of a synthetic randomised log (seed 5; tolerance: value ≥ 0.42 where the best arm pays 0.5 and uniform 0.27)", () => {
    const rng = rngFromSeed(5);
    const means: Record<string, number> = { A: 0.1, B: 0.5, C: 0.2 };
    const arms = Object.keys(means);
    const rows: LoggedRow[] = [];
    for (let i = 0; i < 6000; i++) {
      const arm = arms[Math.floor(rng.next() * 3)]!;
      rows.push({ ctx: { g: i % 2 }, arm, outcome: rng.next() < means[arm]! ? 1 : 0 });
    }
    const policy = enginePolicy({ name: "ts-segmented", promotions: ["A", "B"], control: "C", model: "tabular", rules: [{ name: "g", feature: "g", op: "==", value: 1, then: "one", else: "zero" }], learnAmount: false, bandit: BANDIT });
    const r = replay(rows, policy, opts);
    expect(r.value.sum / r.value.n).toBeGreaterThanOrEqual(0.42);
    // The holdout share is the configured 10% (± 2 points over 6,000 rows).
    expect(Math.abs(r.holdoutDraws / rows.length - 0.1)).toBeLessThan(0.02);
    // It learned on the engine's own table, per segment.
    expect(policy.table.segmentsOf("B").sort()).toEqual(["one", "zero"]);
  });
});

describe("shuffled", () => {
  it("is a permutation of the rows, its own for each seed and the same for the same seed", () => {
    const rows = Array.from({ length: 200 }, (_, i) => i);
    const a = shuffled(rows, rngFromKey(1, "row-order"));
    const b = shuffled(rows, rngFromKey(2, "row-order"));
    expect([...a].sort((x, y) => x - y)).toEqual(rows);
    expect([...b].sort((x, y) => x - y)).toEqual(rows);
    expect(a).not.toEqual(rows);
    expect(a).not.toEqual(b);
    expect(shuffled(rows, rngFromKey(1, "row-order"))).toEqual(a);
    expect(rows[0]).toBe(0);
  });

  it("a fixed policy's value does not depend on the order (the replay is unbiased for any order)", () => {
    const base = replay(NINE, fixedPolicy("A"), opts);
    for (let s = 1; s <= 5; s++) {
      const r = replay(shuffled(NINE, rngFromSeed(s)), fixedPolicy("A"), opts);
      expect(r.value.sum / r.value.n).toBeCloseTo(base.value.sum / base.value.n, 12);
    }
  });
});
