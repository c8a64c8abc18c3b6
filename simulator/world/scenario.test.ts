// Each scenario file has the effect its description claims, measured on the world model (fixed seed,
// simulated time; no NATS).
import { describe, expect, it } from "vitest";
import { loadConfig, type PromotionConfig } from "../../src/config/index.ts";
import { CONTROL, listScenarios, loadScenario, World, worldFromConfig, type Truth, type WorldOutput } from "./index.ts";

const cfg = loadConfig({ env: {} });
const MIN = 60_000;
const HOUR = 60 * MIN;

function makeWorld(scenario: string, seed = 7): World {
  return worldFromConfig(cfg, loadScenario(scenario), { seed });
}

interface Timed<T> {
  atMs: number;
  value: T;
}

/** Runs in one-minute steps; outputs are stamped with sim time since the start. */
function run(w: World, durationMs: number, policy?: (t: Truth) => string): Timed<WorldOutput>[] {
  const t0 = w.nowMs;
  const out: Timed<WorldOutput>[] = [];
  while (w.nowMs < t0 + durationMs) {
    for (const o of w.advance(w.nowMs + MIN)) {
      out.push({ atMs: (o.kind === "event" ? o.event.ts : o.kind === "truth" ? o.truth.ts : w.nowMs) - t0, value: o });
      if (policy && o.kind === "truth") w.onDecision({ id: `d-${o.truth.eventId}`, eventId: o.truth.eventId, promotionId: policy(o.truth) });
    }
  }
  return out;
}

const truthsIn = (out: Timed<WorldOutput>[], fromMs: number, toMs: number): Truth[] =>
  out.flatMap((o) => (o.value.kind === "truth" && o.atMs >= fromMs && o.atMs < toMs ? [o.value.truth] : []));

/** The promotion worth most on average over these decision points (what one offer for all should be). */
function topArm(ts: Truth[]): string {
  const sum = new Map<string, number>();
  for (const t of ts) for (const [a, v] of Object.entries(t.arms)) if (a !== CONTROL) sum.set(a, (sum.get(a) ?? 0) + v);
  return [...sum.entries()].sort((a, b) => b[1] - a[1])[0]![0];
}

const meanValue = (ts: Truth[], arm: string) => ts.reduce((s, t) => s + (t.arms[arm] ?? 0), 0) / ts.length;
const share = (ts: Truth[], arm: string) => ts.filter((t) => t.best === arm).length / ts.length;

describe("scenario files", () => {
  it("has the six scenarios of issue #5 and issue 23's rule-is-best, each valid and named after its file", () => {
    const names = listScenarios();
    for (const n of ["steady", "taste-shift", "stock-out", "budget-crunch", "new-promotion", "holiday", "rule-is-best"]) expect(names).toContain(n);
    for (const n of names) expect(loadScenario(n).name).toBe(n);
  });

  it("rejects a malformed scenario name or file with a message naming it", () => {
    expect(() => loadScenario("../default")).toThrow(/scenario '\.\.\/default'/);
    expect(() => loadScenario("no-such-scenario")).toThrow(/available: .*steady/);
  });
});

describe("scenario effects", () => {
  it("steady: the truth's top promotion stays the same from hour to hour", () => {
    const out = run(makeWorld("steady"), 2 * HOUR);
    expect(topArm(truthsIn(out, 0, HOUR))).toBe(topArm(truthsIn(out, HOUR, 2 * HOUR)));
  });

  it("taste-shift: the truth's best promotion changes at 30 minutes (bundle-toys → amt5-home)", () => {
    const out = run(makeWorld("taste-shift"), 2 * HOUR);
    const before = truthsIn(out, 0, 30 * MIN);
    const after = truthsIn(out, 40 * MIN, 2 * HOUR);
    expect(topArm(before)).toBe("bundle-toys");
    expect(topArm(after)).toBe("amt5-home");
    expect(meanValue(after, "amt5-home")).toBeGreaterThan(3 * meanValue(before, "amt5-home"));
    expect(meanValue(after, "bundle-toys")).toBeLessThan(0);
    expect(meanValue(before, "bundle-toys")).toBeGreaterThan(0);
  });

  it("stock-out: the flash sale sells sku-007 out, its promotion leaves the truth, and a delivery restocks it", () => {
    const w = makeWorld("stock-out");
    const out = run(w, 2 * HOUR + 10 * MIN);
    const stock = out.flatMap((o) =>
      o.value.kind === "event" && o.value.event.type === "inventory" && o.value.event.productId === "sku-007" ? [{ atMs: o.atMs, stock: o.value.event.stock }] : [],
    );
    const soldOut = stock.find((s) => s.stock === 0);
    expect(soldOut).toBeDefined();
    expect(soldOut!.atMs).toBeGreaterThan(10 * MIN);
    expect(soldOut!.atMs).toBeLessThan(40 * MIN);
    // While it is out, pct20-sku-007 is offered to nobody in the truth.
    const restock = stock.find((s) => s.atMs > soldOut!.atMs && s.stock > 0)!;
    expect(restock.atMs).toBe(70 * MIN);
    expect(restock.stock).toBe(loadScenario("stock-out").restockTo);
    const during = truthsIn(out, soldOut!.atMs + 1, restock.atMs);
    expect(during.length).toBeGreaterThan(1000);
    expect(during.filter((t) => t.arms["pct20-sku-007"] !== undefined)).toEqual([]);
    expect(truthsIn(out, restock.atMs + 1, restock.atMs + MIN).some((t) => t.arms["pct20-sku-007"] !== undefined)).toBe(true);
    // The hourly restock goes on afterwards.
    expect(stock.some((s) => s.atMs === 2 * HOUR && s.stock === loadScenario("stock-out").restockTo)).toBe(true);
    expect(w.counts.stockOuts).toBeGreaterThan(0);
  });

  it("budget-crunch: budgets are cut at the start, announced, and run dry under a policy that spends", () => {
    const w = makeWorld("budget-crunch");
    const out = run(w, HOUR, (t) => t.best);
    const announced = out.flatMap((o) => (o.value.kind === "promotion" ? [{ atMs: o.atMs, p: o.value.promotion }] : []));
    const cut = new Map(announced.map((a) => [a.p.id, a.p]));
    expect([...cut.keys()].sort()).toEqual(["free-shipping", "pct20-sku-007", "pct30-fashion"]);
    expect(announced.every((a) => a.atMs <= MIN)).toBe(true);
    const base = new Map(cfg.promotions.map((p) => [p.id, p]));
    for (const [id, p] of cut) expect(p.budgetCents).toBeLessThan(base.get(id)!.budgetCents / 20);
    // free-shipping is the most offered promotion: its small budget is spent and it leaves the truth.
    expect(w.budgetLeftCents("free-shipping")).toBeLessThan(cut.get("free-shipping")!.maxDiscountCents);
    const last = truthsIn(out, 50 * MIN, HOUR);
    expect(last.length).toBeGreaterThan(1000);
    expect(last.filter((t) => t.arms["free-shipping"] !== undefined)).toEqual([]);
    expect(truthsIn(out, 0, 5 * MIN).filter((t) => t.arms["free-shipping"] !== undefined).length).toBeGreaterThan(100);
  });

  it("new-promotion: pct15-beauty launches at 30 minutes, is announced, and is then the best offer for some shoppers", () => {
    const out = run(makeWorld("new-promotion"), HOUR);
    const launches = out.filter((o) => o.value.kind === "promotion");
    expect(launches).toHaveLength(1);
    expect(launches[0]!.atMs).toBe(30 * MIN);
    expect((launches[0]!.value as { promotion: PromotionConfig }).promotion.id).toBe("pct15-beauty");
    expect(truthsIn(out, 0, 30 * MIN).filter((t) => t.arms["pct15-beauty"] !== undefined)).toEqual([]);
    const after = truthsIn(out, 30 * MIN, HOUR);
    expect(after.filter((t) => t.arms["pct15-beauty"] !== undefined).length).toBeGreaterThan(0.9 * after.filter((t) => t.channel !== "sms").length);
    expect(share(after, "pct15-beauty")).toBeGreaterThan(0.02);
  });

  it("rule-is-best (issue 23): no promotion is worth anything to anyone, so no promotion (the seed rule at first-view decisions) is the oracle", () => {
    const out = run(makeWorld("rule-is-best"), HOUR, () => "free-shipping");
    const ts = truthsIn(out, 0, HOUR);
    expect(ts.length).toBeGreaterThan(10_000);
    for (const t of ts) {
      expect(t.best).toBe(CONTROL);
      for (const v of Object.values(t.arms)) expect(v).toBeLessThanOrEqual(0);
    }
    // Total margin = no promotion's + the arm's increment: promotions only take from it.
    expect(meanValue(ts, "free-shipping")).toBeLessThan(0);
    expect(ts.every((t) => t.baseMargin >= 0)).toBe(true);
  });

  it("holiday: about ten times the visits of steady, without selling out", () => {
    const visits = (name: string) => {
      const w = makeWorld(name);
      run(w, 20 * MIN);
      return w.counts;
    };
    const steady = visits("steady");
    const holiday = visits("holiday");
    const ratio = holiday.visits / steady.visits;
    expect(ratio).toBeGreaterThan(8);
    expect(ratio).toBeLessThan(12);
    expect(holiday.stockOuts).toBe(0);
  });

  it("switching scenario at runtime restores the promotions the previous one changed and retires the ones it launched", () => {
    const announced = (out: Timed<WorldOutput>[]) =>
      new Map(out.flatMap((o) => (o.value.kind === "promotion" ? [[o.value.promotion.id, o.value.promotion] as const] : [])));
    const w = makeWorld("new-promotion");
    run(w, 31 * MIN);
    expect(w.promotions.has("pct15-beauty")).toBe(true);
    w.setScenario(loadScenario("steady"));
    const retired = announced(run(w, MIN));
    expect([...retired.keys()]).toEqual(["pct15-beauty"]);
    expect(Date.parse(retired.get("pct15-beauty")!.endsAt!)).toBeLessThan(w.nowMs);
    w.setScenario(loadScenario("budget-crunch"));
    run(w, 2 * MIN);
    expect(w.promotions.get("free-shipping")!.budgetCents).toBeLessThan(100_000);
    w.setScenario(loadScenario("steady"));
    const out = run(w, MIN);
    const restored = announced(out);
    expect([...restored.keys()].sort()).toEqual(["free-shipping", "pct20-sku-007", "pct30-fashion"]);
    for (const [id, p] of restored) expect(p).toEqual(cfg.promotions.find((b) => b.id === id));
    expect(truthsIn(out, 0, Infinity).filter((t) => t.arms["pct15-beauty"] !== undefined)).toEqual([]);
  });
});
