// An engine whose customer store is bounded by memory (features.maxMemoryMb), restored from a
// checkpoint, must evict the same customers at the same events as the engine that never stopped:
// otherwise a replay from the checkpoint decides on other features than the run it replays.
import { describe, expect, it } from "vitest";
import { loadConfig } from "../config/index.ts";
import type { ShopEvent } from "../events/index.ts";
import { rngFromKey, rngFromSeed } from "../random/index.ts";
import { concat, PartSink } from "../features/index.ts";
import { createEngine, EngineBase, EngineDelta, engineConfigFrom, engineFromJSON, engineToJSON, restoreEngine, startTracking, step, type Effect, type Engine } from "./index.ts";

/** `categories` > 0: views name one of that many categories (strings the customers' records refer to by number). */
function events(seed: number, n: number, customers: number, categories = 0): ShopEvent[] {
  const r = rngFromSeed(seed);
  const out: ShopEvent[] = [];
  let ts = Date.parse("2026-03-02T08:00:00Z");
  for (let i = 1; i <= 10; i++) out.push({ type: "inventory", id: `inv-${i}`, ts, productId: `sku-00${i - 1}`, category: "toys", stock: 500, priceCents: 3000, costCents: 800 });
  for (let i = 0; out.length < n; i++) {
    ts += Math.floor(r.next() * 2_000);
    // Most events from a few regulars (kept hot), the rest from many passers-by (records only).
    const c = r.next() < 0.5 ? `r${Math.floor(r.next() * 6)}` : `c${Math.floor(r.next() * customers)}`;
    const u = r.next();
    const id = `e${i}`;
    const sku = `sku-00${Math.floor(r.next() * 10)}`;
    if (u < 0.3) out.push({ type: "visit", id, ts, customerId: c, channel: "web" });
    else if (u < 0.7) out.push({ type: "view", id, ts, customerId: c, productId: sku, ...(categories ? { category: `cat${Math.floor(r.next() * categories)}` } : {}) });
    else if (u < 0.85) out.push({ type: "cart", id, ts, customerId: c, productId: sku, quantity: 1, priceCents: 3000 });
    else out.push({ type: "purchase", id, ts, customerId: c, totalCents: 3000, items: [{ productId: sku, quantity: 1, priceCents: 3000 }] });
  }
  return out;
}

describe("a memory-bounded feature store across a checkpoint", () => {
  const cfg = structuredClone(engineConfigFrom(loadConfig({ env: {}, overrides: { features: { hotCustomers: 8, idleTtlSec: 172_800 } } })));
  // ~60 KB: the 8 hot customers (~24 KB as the store counts them) and a few hundred records.
  cfg.features.maxMemoryMb = 60_000 / 2 ** 20;
  cfg.features.maxCustomers = undefined;
  const evs = events(5, 6000, 3000);
  const run = (e: Engine, from: number, to: number, list = evs) => {
    const out: Effect[] = [];
    for (let i = from; i < to; i++) out.push(...step(e, list[i]!, rngFromKey(1, list[i]!.id)));
    return out;
  };

  it.each(["parts", "json"])("a restored engine (%s) evicts as the one that never stopped and decides the same", (how) => {
    const whole = createEngine(cfg);
    const wholeEffects = run(whole, 0, evs.length);
    expect(whole.features.evictions).toBeGreaterThan(1000);
    const k = 3000;
    const first = createEngine(cfg, { trackChanges: true });
    startTracking(first, true);
    const before = run(first, 0, k);
    let restored: Engine;
    if (how === "parts") {
      const d = new EngineDelta(first, null);
      const sink = new PartSink();
      while (!d.step(sink, () => false));
      sink.seal();
      restored = restoreEngine(cfg, [concat(sink.take())]).engine;
    } else restored = engineFromJSON(cfg, JSON.parse(JSON.stringify(engineToJSON(first))));
    expect(JSON.parse(JSON.stringify(engineToJSON(restored)))).toEqual(JSON.parse(JSON.stringify(engineToJSON(first))));
    const after = run(restored, k, evs.length);
    expect(restored.features.evictions).toBe(whole.features.evictions);
    expect(engineToJSON(restored).features).toEqual(engineToJSON(whole).features);
    expect([...before, ...after]).toEqual(wholeEffects);
  });

  it("evicts the same with checkpoints taken at any events and written while the loop goes on, and every chain restores to a run that goes on the same", () => {
    // 300 categories: the string table passes 64 strings, past which a string's number takes two bytes
    // in a record, so the order strings join the table decides records' sizes.
    const evs2 = events(8, 6000, 3000, 300);
    const whole = createEngine(cfg);
    const wholeEffects = run(whole, 0, evs2.length, evs2);
    const e = createEngine(cfg, { trackChanges: true });
    startTracking(e, false);
    interface Writing {
      part: EngineDelta | EngineBase;
      sink: PartSink;
      complete: boolean;
    }
    const captures: { at: number; effectsAt: number; delta: Writing; base: Writing | undefined }[] = [];
    const all = (c: (typeof captures)[number]) => [c.delta, ...(c.base ? [c.base] : [])];
    const finish = (w: Writing) => {
      while (!w.complete) w.complete = w.part.step(w.sink, () => false);
    };
    const gaps = rngFromSeed(9);
    let next = 100;
    const effects: Effect[] = [];
    for (let i = 0; i < evs2.length; i++) {
      effects.push(...run(e, i, i + 1, evs2));
      const last = captures[captures.length - 1];
      // A few frames after each event, as the checkpointer's slices between the loop's turns.
      if (last)
        for (const w of all(last)) {
          let n = 0;
          if (!w.complete) w.complete = w.part.step(w.sink, () => ++n >= 3);
        }
      if (i + 1 === next) {
        // At irregular events, as checkpoints every few seconds fall.
        next += 150 + Math.floor(gaps.next() * 500);
        if (last) for (const w of all(last)) finish(w);
        const delta = new EngineDelta(e, { at: i + 1 });
        const base = captures.length % 3 === 2 ? new EngineBase(e, delta) : undefined;
        captures.push({ at: i + 1, effectsAt: effects.length, delta: { part: delta, sink: new PartSink(4096), complete: false }, base: base && { part: base, sink: new PartSink(4096), complete: false } });
      }
    }
    // Checkpoints change nothing the engine decides.
    expect(e.features.evictions).toBe(whole.features.evictions);
    expect(effects).toEqual(wholeEffects);
    expect(whole.features.evictions).toBeGreaterThan(1000);
    expect(whole.features.strings.size).toBeGreaterThan(300);
    const bytes = (w: Writing) => {
      finish(w);
      w.sink.seal();
      return concat(w.sink.take());
    };
    const parts = captures.map((c) => ({ delta: bytes(c.delta), base: c.base && bytes(c.base) }));
    expect(parts.filter((p) => p.base).length).toBeGreaterThan(1);
    for (let m = 0; m < captures.length; m++) {
      // The chain that ends with delta m: from the newest base begun before it, else from nothing.
      let k = m - 1;
      while (k >= 0 && !parts[k]!.base) k--;
      const chain = k >= 0 ? [parts[k]!.base!, ...parts.slice(k + 1, m + 1).map((p) => p.delta)] : parts.slice(0, m + 1).map((p) => p.delta);
      const restored = restoreEngine(cfg, chain).engine;
      const after = run(restored, captures[m]!.at, evs2.length, evs2);
      expect(restored.features.evictions, `chain ending with delta ${m}`).toBe(whole.features.evictions);
      expect([...effects.slice(0, captures[m]!.effectsAt), ...after]).toEqual(wholeEffects);
      expect(engineToJSON(restored).features).toEqual(engineToJSON(whole).features);
    }
  });
});
