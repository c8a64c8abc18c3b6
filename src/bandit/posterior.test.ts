import { describe, expect, it } from "vitest";
import { ArmTable, type PosteriorOptions } from "./index.ts";

const opts = (o: Partial<PosteriorOptions> = {}): PosteriorOptions => ({ priorAlpha: 1, priorBeta: 1, hierarchyStrength: 20, halfLifeMs: 0, ...o });
const T = 1_700_000_000_000;

function feed(t: ArmTable, arm: string, seg: string, successes: number, failures: number, ts = T): void {
  for (let i = 0; i < successes; i++) t.update(arm, seg, 1, ts);
  for (let i = 0; i < failures; i++) t.update(arm, seg, 0, ts);
}

describe("ArmTable", () => {
  it("starts a new arm from the configured prior in every segment (cold start)", () => {
    const t = new ArmTable(opts({ priorAlpha: 2, priorBeta: 3 }));
    t.add("new");
    expect(t.posterior("new", "returning|abandoner", T)).toEqual({ alpha: 2, beta: 3 });
    expect(t.globalPosterior("new", T)).toEqual({ alpha: 2, beta: 3 });
    // An unknown arm reads as the prior too.
    expect(t.posterior("never-added", "x", T)).toEqual({ alpha: 2, beta: 3 });
  });

  it("is the plain conjugate posterior when there is one segment (no double counting)", () => {
    const t = new ArmTable(opts());
    feed(t, "a", "all", 7, 93);
    const p = t.posterior("a", "all", T);
    expect(p.alpha).toBeCloseTo(1 + 7, 10);
    expect(p.beta).toBeCloseTo(1 + 93, 10);
  });

  it("lets a sparse segment borrow the other segments' mean at strength m", () => {
    const t = new ArmTable(opts({ hierarchyStrength: 20 }));
    feed(t, "a", "busy", 99, 899); // others: Beta(100, 900), mean 0.1
    feed(t, "a", "sparse", 1, 1);
    const p = t.posterior("a", "sparse", T);
    expect(p.alpha).toBeCloseTo(20 * 0.1 + 1, 10);
    expect(p.beta).toBeCloseTo(20 * 0.9 + 1, 10);
    // With no data of its own, a segment gets the borrowed prior only; its mean is the others'
    // (here both segments: Beta(1 + 99 + 1, 1 + 899 + 1)).
    const q = t.posterior("a", "empty", T);
    expect(q.alpha / (q.alpha + q.beta)).toBeCloseTo(101 / 1002, 10);
    expect(q.alpha + q.beta).toBeCloseTo(20, 10);
  });

  it("borrows no more strength than the other segments have", () => {
    const t = new ArmTable(opts({ hierarchyStrength: 20 }));
    feed(t, "a", "s1", 1, 2); // others for s2: Beta(2, 3), weight 5 < 20
    expect(t.posterior("a", "s2", T)).toEqual({ alpha: 2, beta: 3 });
  });

  it("forgets toward the prior with the half-life, in event time", () => {
    const h = 3_600_000;
    const t = new ArmTable(opts({ halfLifeMs: h }));
    feed(t, "a", "all", 40, 60);
    // After one half-life the counts are halved: α = 1 + 20, β = 1 + 30.
    const p = t.posterior("a", "all", T + h);
    expect(p.alpha).toBeCloseTo(21, 8);
    expect(p.beta).toBeCloseTo(31, 8);
    // After 40 half-lives it is the prior again (to 1e-9).
    const q = t.posterior("a", "all", T + 40 * h);
    expect(q.alpha).toBeCloseTo(1, 9);
    expect(q.beta).toBeCloseTo(1, 9);
    // Reading does not change the state; time does not run backwards.
    expect(t.posterior("a", "all", T).alpha).toBeCloseTo(41, 8);
  });

  it("weighs a late observation by its age", () => {
    const h = 1_000;
    const t = new ArmTable(opts({ halfLifeMs: h }));
    t.update("a", "all", 0, T + 2 * h);
    t.update("a", "all", 1, T + h); // one half-life older than what the counts hold
    const p = t.posterior("a", "all", T + 2 * h);
    expect(p.alpha).toBeCloseTo(1 + 0.5, 10);
    expect(p.beta).toBeCloseTo(1 + 1, 10);
  });

  it("does not forget with half-life 0", () => {
    const t = new ArmTable(opts({ halfLifeMs: 0 }));
    feed(t, "a", "all", 3, 4);
    expect(t.posterior("a", "all", T + 1e12)).toEqual(t.posterior("a", "all", T));
  });

  it("round-trips through JSON", () => {
    const t = new ArmTable(opts({ halfLifeMs: 5000 }));
    feed(t, "a", "x", 3, 4);
    feed(t, "b", "y", 1, 9, T + 100);
    const u = ArmTable.fromJSON(t.opts, JSON.parse(JSON.stringify(t.toJSON())));
    for (const [arm, seg] of [["a", "x"], ["b", "y"], ["b", "x"]] as const) expect(u.posterior(arm, seg, T + 7000)).toEqual(t.posterior(arm, seg, T + 7000));
  });
});
