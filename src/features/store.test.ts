import { describe, expect, it } from "vitest";
import { FeatureStore, observe, offerFits, recordOffer } from "./index.ts";

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

  it("keeps past eviction only the offers a cap can still reach: each channel's own horizon", () => {
    // Web caps reach back 1 h (plus lateness), e-mail 24 h: a web offer 2 h old can never bind again.
    const s = new FeatureStore({ maxCustomers: 1, idleTtlMs: 100 * H, offerMemoryMs: 25 * H, offerMemoryMsByChannel: { web: H, email: 25 * H } });
    s.setNow(T);
    recordOffer(s.getOrCreate("web-only"), "web", T, 4, T - H);
    s.setNow(T + 2 * H);
    s.release();
    const both = s.getOrCreate("both"); // evicts web-only, whose offer is 2 h old
    expect(s.evictions).toBe(1);
    expect(s.rememberedOffers).toBe(0);
    recordOffer(both, "web", T + 2 * H, 4, T + H);
    recordOffer(both, "email", T + 2 * H, 1, T - 23 * H);
    s.setNow(T + 4 * H);
    s.release();
    s.getOrCreate("next"); // evicts both: its e-mail offer still counts, its web offer no longer
    expect(s.rememberedOffers).toBe(1);
    expect(s.offersOf("both", "email")).toEqual([T + 2 * H]);
    expect(s.offersOf("both", "web")).toEqual([]);
    // Within its horizon a web offer is kept as before.
    s.setNow(T + 4.5 * H);
    s.release();
    recordOffer(s.getOrCreate("next"), "web", T + 4.5 * H, 4, T + 3.5 * H);
    s.setNow(T + 5 * H);
    s.release();
    s.getOrCreate("last");
    expect(s.offersOf("next", "web")).toEqual([T + 4.5 * H]);
  });

  it("keeps decoded only customers touched again within hotCustomers touches; the others are written back at release", () => {
    const s = new FeatureStore({ idleTtlMs: 100 * H, hotCustomers: 4 });
    s.setNow(T);
    // Ten customers once each: none is admitted to the hot set, every change is in the records.
    for (let k = 0; k < 10; k++) {
      s.release();
      observe(s.getOrCreate(`c${k}`), { type: "view", ts: T + k, category: `cat${k}` }, 3);
    }
    s.release();
    expect(s.stats().hot).toBe(0);
    // c9 again at once (1 touch since its last): admitted; its second change is kept.
    observe(s.getOrCreate("c9"), { type: "view", ts: T + 20, category: "again" }, 3);
    s.release();
    expect(s.stats().hot).toBe(1);
    // c0 again (10 touches since, more than 4): decoded for this touch only, its change still kept.
    observe(s.getOrCreate("c0"), { type: "view", ts: T + 21, category: "back" }, 3);
    s.release();
    expect(s.stats().hot).toBe(1);
    expect(s.get("c9")?.cats).toEqual(["cat9", "again"]);
    expect(s.get("c0")?.cats).toEqual(["cat0", "back"]);
    // The same customer twice in one event is one object, whether transient or hot.
    s.release();
    expect(s.getOrCreate("c5")).toBe(s.getForUpdate("c5"));
    expect(s.getOrCreate("c9")).toBe(s.getForUpdate("c9"));
    // c1…c8 were never hot: what a copy of the store reads for them comes from their records.
    s.release();
    const restored = FeatureStore.fromJSON({ idleTtlMs: 100 * H }, s.toJSON());
    for (let k = 1; k < 9; k++) expect(restored.get(`c${k}`)?.cats).toEqual([`cat${k}`]);
  });
});
