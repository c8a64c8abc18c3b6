import { describe, expect, it } from "vitest";
import { FeatureStore, offerFits, recordOffer } from "./index.ts";

const T = 1_700_000_000_000;
const H = 3_600_000;

describe("FeatureStore", () => {
  it("holds at most maxCustomers and counts the evictions", () => {
    const s = new FeatureStore({ maxCustomers: 3, idleTtlMs: 100 * H });
    s.setNow(T);
    for (const id of ["a", "b", "c", "d", "e"]) s.getOrCreate(id);
    expect(s.size).toBe(3);
    expect(s.evictions).toBe(2);
    // Least recently used went first.
    expect(s.get("a")).toBeUndefined();
    expect(s.get("e")).toBeDefined();
  });

  it("forgets customers idle longer than the TTL, in event time, and counts them", () => {
    const s = new FeatureStore({ maxCustomers: 10, idleTtlMs: H });
    s.setNow(T);
    s.getOrCreate("idle");
    s.getOrCreate("busy");
    s.setNow(T + 0.5 * H);
    s.get("busy"); // touching resets its idle time
    s.setNow(T + 1.2 * H);
    expect(s.get("idle")).toBeUndefined();
    expect(s.get("busy")).toBeDefined();
    expect(s.expirations).toBe(1);
    // The clock never goes backwards.
    s.setNow(T);
    expect(s.get("busy")).toBeDefined();
  });

  it("keeps recent offer times past eviction, so caps still hold when the customer returns", () => {
    const s = new FeatureStore({ maxCustomers: 2, idleTtlMs: 100 * H, offerMemoryMs: 25 * H });
    s.setNow(T);
    recordOffer(s.getOrCreate("x"), "email", T, 1, T - 25 * H);
    s.getOrCreate("y");
    s.getOrCreate("z"); // evicts x
    expect(s.evictions).toBe(1);
    expect(s.rememberedOffers).toBe(1);
    expect(s.offersOf("x", "email")).toEqual([T]);
    s.setNow(T + H);
    const back = s.getOrCreate("x");
    expect(offerFits(back, "email", T + H, 1, 24 * H)).toBe(false);
    expect(s.rememberedOffers).toBe(0);
  });

  it("does not keep offers older than the memory", () => {
    const s = new FeatureStore({ maxCustomers: 1, idleTtlMs: 100 * H, offerMemoryMs: H });
    s.setNow(T);
    recordOffer(s.getOrCreate("x"), "web", T, 4, T - H);
    s.setNow(T + 2 * H);
    s.getOrCreate("y"); // evicts x, whose offer is 2 h old
    expect(s.rememberedOffers).toBe(0);
  });
});
