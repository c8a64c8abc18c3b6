import { describe, expect, it } from "vitest";
import type { ArmPoint, HistoryPoint } from "../../src/kpi/index.ts";
import { ChartStore } from "./chart-store.ts";
import { CHARTS, CONTROL_COLOR } from "./charts.ts";
import { countValues } from "./columns.ts";

function arm(over: Partial<ArmPoint> = {}): ArmPoint {
  return { mean: 0.5, lo: 0.4, hi: 0.6, share: 0.25, conv: 0.1, uplift: null, upLo: null, upHi: null, stock: null, spentCents: null, reservedCents: null, budgetCents: null, excluded: 0, ...over };
}
function point(t: number, arms: Record<string, ArmPoint>, over: Partial<HistoryPoint> = {}): HistoryPoint {
  return { t, eventTimeMs: t, decisions: t, decisionRate: 10, deadLetters: 0, p50: 0.2, p99: 1.5, regret: null, incMargin: null, oracleMargin: null, bestFixedMargin: null, arms, ...over };
}
const twoArms = (t: number, over: Partial<ArmPoint> = {}) =>
  point(t, { "pct10": arm({ stock: 40, budgetCents: 1000, spentCents: 100, reservedCents: 50, uplift: 0.02, upLo: -0.01, upHi: 0.05, ...over }), control: arm({ mean: 0.3 }) });

const col = (s: ChartStore, id: string, i: number) => Array.from(s.get(id)!.data()[i]!);

describe("ChartStore", () => {
  it("gives every chart an x column plus one column per series, all the same length", () => {
    const s = new ChartStore(CHARTS, 10);
    s.append([twoArms(1000), twoArms(2000)]);
    for (const id of s.ids) {
      const v = s.get(id)!;
      const data = v.data();
      expect(data.length, id).toBe(v.series.length + 1);
      for (const c of data) expect(c.length, id).toBe(2);
      expect(Array.from(data[0]!)).toEqual([1000, 2000]);
    }
  });

  it("plots each arm with its interval as a band, and keeps control grey", () => {
    const s = new ChartStore(CHARTS, 10);
    s.append([twoArms(1000)]);
    const post = s.get("chart-posterior")!;
    expect(post.series.map((x) => x.label)).toEqual(["pct10", "pct10 hi", "pct10 lo", "control", "control hi", "control lo"]);
    expect(post.bands.map(([a, b]) => [a, b])).toEqual([[2, 3], [5, 6]]);
    expect(post.series[3]!.color).toBe(CONTROL_COLOR);
    expect(col(s, "chart-posterior", 1)).toEqual([0.5]);
    expect(col(s, "chart-posterior", 2)).toEqual([0.6]);
    expect(col(s, "chart-posterior", 3)).toEqual([0.4]);
    // Uplift, stock and budget are about promotions: no control.
    for (const id of ["chart-uplift", "chart-stock", "chart-budget"]) expect(s.get(id)!.series.some((x) => x.label.startsWith("control")), id).toBe(false);
    expect(col(s, "chart-budget", 1)).toEqual([0.15]);
  });

  it("leaves out of the stock chart a promotion that has no stock", () => {
    const s = new ChartStore(CHARTS, 10);
    s.append([point(1, { "free-shipping": arm(), "sku-promo": arm({ stock: 5 }) })]);
    expect(s.get("chart-stock")!.series.map((x) => x.label)).toEqual(["sku-promo", "sku-promo excluded"]);
  });

  it("marks the stock chart where a guard excluded a promotion since the previous point", () => {
    const s = new ChartStore(CHARTS, 10);
    s.append([twoArms(1, { excluded: 0 }), twoArms(2, { excluded: 0 }), twoArms(3, { excluded: 4, stock: 2 })]);
    expect(col(s, "chart-stock", 2)).toEqual([null, null, 2]);
  });

  it("adds an arm that appears later with gaps before it, and bumps the layout", () => {
    const s = new ChartStore(CHARTS, 10);
    s.append([twoArms(1)]);
    const layout = s.get("chart-share")!.layout;
    s.append([point(2, { ...twoArms(2).arms, "new-promo": arm({ share: 0.1 }) })]);
    const share = s.get("chart-share")!;
    expect(share.layout).toBeGreaterThan(layout);
    expect(share.series.map((x) => x.label)).toEqual(["pct10", "control", "new-promo"]);
    expect(col(s, "chart-share", 3)).toEqual([null, 0.1]);
    // Its colour is the next promotion colour on every chart.
    expect(s.get("chart-posterior")!.series.find((x) => x.label === "new-promo")!.color).toBe(share.series[2]!.color);
  });

  it("ignores points at or before the newest it holds (a snapshot and a delta overlap)", () => {
    const s = new ChartStore(CHARTS, 10);
    s.append([twoArms(1), twoArms(2)]);
    const v = s.get("chart-rate")!.version;
    s.append([twoArms(2), twoArms(1), twoArms(3)]);
    expect(col(s, "chart-rate", 0)).toEqual([1, 2, 3]);
    expect(s.get("chart-rate")!.version).toBe(v + 1);
  });

  it("slides: holds at most its capacity, newest last", () => {
    const s = new ChartStore(CHARTS, 5);
    s.append(Array.from({ length: 12 }, (_, i) => twoArms(i + 1)));
    expect(col(s, "chart-latency", 0)).toEqual([8, 9, 10, 11, 12]);
  });

  it("replaces what it holds with a snapshot that reaches back as far", () => {
    const s = new ChartStore(CHARTS, 10);
    s.append([twoArms(10), twoArms(20), twoArms(30)]);
    s.load([twoArms(5), twoArms(25)]);
    expect(col(s, "chart-rate", 0)).toEqual([5, 25]);
  });

  it("keeps what it holds before a snapshot from a restarted server that remembers less", () => {
    const s = new ChartStore(CHARTS, 10);
    s.append([twoArms(10), twoArms(20), twoArms(30)]);
    s.load([twoArms(25, { stock: 1 }), twoArms(35)]);
    expect(col(s, "chart-rate", 0)).toEqual([10, 20, 25, 35]);
    // An empty snapshot (a server that has not heard from the processor yet) changes nothing.
    s.load([]);
    expect(col(s, "chart-rate", 0)).toEqual([10, 20, 25, 35]);
  });

  it("plots the regret chart only once the simulator's truth arrives (gaps before)", () => {
    const s = new ChartStore(CHARTS, 10);
    s.append([twoArms(1), point(2, twoArms(2).arms, { regret: 10, incMargin: 90, oracleMargin: 100 })]);
    expect(col(s, "chart-regret", 1)).toEqual([null, 10]);
    expect(countValues(s.get("chart-regret")!.data())).toBe(3);
  });
});
