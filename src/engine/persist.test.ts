import { describe, expect, it } from "vitest";
import { loadConfig } from "../config/index.ts";
import type { ShopEvent } from "../events/index.ts";
import { rngFromKey, rngFromSeed } from "../random/index.ts";
import { createEngine, engineConfigFrom, engineFromJSON, engineToJSON, EngineSnapshot, step, type Effect } from "./index.ts";

/** A seeded stream of shop events: inventory, visits, sends, views, carts, purchases (some promoted). */
function events(seed: number, n: number): ShopEvent[] {
  const r = rngFromSeed(seed);
  const cats = ["electronics", "home", "toys", "fashion"];
  const out: ShopEvent[] = [];
  let ts = Date.parse("2026-03-02T08:00:00Z");
  for (let i = 1; i <= 10; i++)
    out.push({ type: "inventory", id: `inv-${i}`, ts, productId: `sku-00${i - 1}`, category: cats[i % 4]!, stock: 5 + Math.floor(r.next() * 20), priceCents: 1000 + Math.floor(r.next() * 5000), costCents: 800 });
  const promos = ["pct10-electronics", "amt5-home", "free-shipping", "pct30-fashion", "bundle-toys"];
  for (let i = 0; out.length < n; i++) {
    ts += Math.floor(r.next() * 20_000);
    const c = `c${Math.floor(r.next() * 60)}`;
    const u = r.next();
    const id = `e${i}`;
    const sku = `sku-00${Math.floor(r.next() * 10)}`;
    if (u < 0.3) out.push({ type: "visit", id, ts, customerId: c, channel: "web" });
    else if (u < 0.35) out.push({ type: "send", id, ts, customerId: c, channel: r.next() < 0.5 ? "email" : "push" });
    else if (u < 0.6) out.push({ type: "view", id, ts, customerId: c, productId: sku });
    else if (u < 0.75) out.push({ type: "cart", id, ts, customerId: c, productId: sku, quantity: 1, priceCents: 2500 });
    else if (u < 0.85) {
      const promoted = r.next() < 0.5;
      out.push({ type: "purchase", id, ts, customerId: c, totalCents: 2500, items: [{ productId: sku, quantity: 1, priceCents: 2500 }], ...(promoted ? { promotionId: promos[Math.floor(r.next() * promos.length)]!, discountCents: 300 } : {}) });
    } else if (u < 0.9) out.push({ type: "view", id, ts: ts - 400_000, customerId: c }); // late (beyond 300 s)
    else out.push({ type: "inventory", id, ts, productId: sku, category: "toys", stock: Math.floor(r.next() * 8), priceCents: 2500, costCents: 1500 });
  }
  return out;
}

function run(cfgSeed: number, evs: ShopEvent[], from: number, to: number, engine = createEngine(engineConfigFrom(loadConfig({ env: {} })))): { engine: ReturnType<typeof createEngine>; effects: Effect[] } {
  const effects: Effect[] = [];
  for (let i = from; i < to; i++) effects.push(...step(engine, evs[i]!, rngFromKey(cfgSeed, evs[i]!.id)));
  return { engine, effects };
}

describe("engine checkpoints", () => {
  // Small caches so eviction and expiry happen within the run, and a short half-life so decay matters.
  const cfg = engineConfigFrom(
    loadConfig({ env: {}, overrides: { features: { maxCustomers: 40, idleTtlSec: 3600, recentEventIds: 500 }, bandit: { halfLifeSec: 7200 }, attribution: { maxPending: 200 } } }),
  );
  const evs = events(11, 6000);

  it.each([1, 777, 2500, 5999])("an engine restored from a checkpoint after %i events continues exactly like one that never stopped", (k) => {
    const whole = run(1, evs, 0, evs.length, createEngine(cfg));
    const first = run(1, evs, 0, k, createEngine(cfg));
    const restored = engineFromJSON(cfg, JSON.parse(JSON.stringify(engineToJSON(first.engine))));
    const rest = run(1, evs, k, evs.length, restored);
    expect([...first.effects, ...rest.effects]).toEqual(whole.effects);
    expect(engineToJSON(restored)).toEqual(engineToJSON(whole.engine));
    // The run exercised what a checkpoint must carry.
    expect(whole.engine.features.evictions).toBeGreaterThan(0);
    expect(whole.effects.some((e) => e.kind === "outcome" && e.outcome.cause === "expired")).toBe(true);
    expect(whole.effects.some((e) => e.kind === "deadletter" && e.reason === "late")).toBe(true);
  });

  it.each([
    [777, "finished at the end"],
    [2500, "stepped a little after every event"],
  ])("a snapshot begun after %i events, %s, is the state at its start while the engine goes on", (k, how) => {
    const whole = run(1, evs, 0, evs.length, createEngine(cfg));
    const { engine, effects: upToK } = run(1, evs, 0, k, createEngine(cfg));
    const atStart = JSON.parse(JSON.stringify(engineToJSON(engine)));
    const snap = new EngineSnapshot(engine);
    const evictionsBefore = engine.features.evictions;
    // 400 more events change customers that are not yet written out, evict some and bring others back.
    for (let i = k; i < k + 400; i++) {
      run(1, evs, i, i + 1, engine);
      if (how.startsWith("stepped")) snap.step(() => true);
    }
    expect(engine.features.evictions).toBeGreaterThan(evictionsBefore);
    const json = snap.json();
    expect(JSON.parse(json)).toEqual(atStart);
    // The engine it restores continues exactly like one that never stopped.
    const restored = engineFromJSON(cfg, JSON.parse(json));
    const rest = run(1, evs, k, evs.length, restored);
    expect([...upToK, ...rest.effects]).toEqual(whole.effects);
    expect(engineToJSON(restored)).toEqual(engineToJSON(whole.engine));
  });
});
