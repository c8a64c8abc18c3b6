// Round trip of incremental checkpoints with a small hot set and tight LRU bound: an engine that is
// checkpointed (deltas, and a base now and then) while the loop goes on between the parts' slices, then
// restored from any chain, must hold the state captured and decide exactly like the engine that never
// stopped. The hot set is kept small so customers are decoded for one event only (transient), written
// back, evicted and their dense indices reused while parts are being written.
import { describe, expect, it } from "vitest";
import { loadConfig } from "../config/index.ts";
import type { ShopEvent } from "../events/index.ts";
import { rngFromKey, rngFromSeed } from "../random/index.ts";
import { concat, PartSink } from "../features/index.ts";
import { createEngine, EngineBase, EngineDelta, engineConfigFrom, engineToJSON, restoreEngine, startTracking, step, type Effect } from "./index.ts";

function events(seed: number, n: number, customers: number): ShopEvent[] {
  const r = rngFromSeed(seed);
  const cats = ["electronics", "home", "toys", "fashion"];
  const out: ShopEvent[] = [];
  let ts = Date.parse("2026-03-02T08:00:00Z");
  for (let i = 1; i <= 10; i++)
    out.push({ type: "inventory", id: `inv-${i}`, ts, productId: `sku-00${i - 1}`, category: cats[i % 4]!, stock: 50 + Math.floor(r.next() * 20), priceCents: 1000 + Math.floor(r.next() * 5000), costCents: 800 });
  for (let i = 0; out.length < n; i++) {
    ts += Math.floor(r.next() * 20_000);
    const c = `c${Math.floor(r.next() * customers)}`;
    const u = r.next();
    const id = `e${i}`;
    const sku = `sku-00${Math.floor(r.next() * 10)}`;
    if (u < 0.25) out.push({ type: "visit", id, ts, customerId: c, channel: "web" });
    else if (u < 0.35) out.push({ type: "send", id, ts, customerId: c, channel: r.next() < 0.5 ? "email" : "push" });
    else if (u < 0.65) out.push({ type: "view", id, ts, customerId: c, productId: sku, category: cats[Math.floor(r.next() * 4)]! });
    else if (u < 0.8) out.push({ type: "cart", id, ts, customerId: c, productId: sku, quantity: 1, priceCents: 2500 });
    else if (u < 0.92) out.push({ type: "purchase", id, ts, customerId: c, totalCents: 2500, items: [{ productId: sku, quantity: 1, priceCents: 2500 }] });
    else out.push({ type: "view", id, ts: ts - 400_000, customerId: c });
  }
  return out;
}

interface Writing {
  part: EngineDelta | EngineBase;
  sink: PartSink;
  complete: boolean;
}

describe("incremental checkpoints with a small hot set", () => {
  const cases: [number, number, number][] = [
    [1, 2, 40],
    [2, 5, 120],
    [3, 1, 25],
    [4, 16, 200],
  ];
  it.each(cases)("seed %i, hot set %i, at most %i customers: every chain restores the state captured and goes on exactly", (seed, hot, maxCustomers) => {
    const cfg = engineConfigFrom(
      loadConfig({
        env: {},
        overrides: {
          features: { maxCustomers, hotCustomers: hot, idleTtlSec: 3600, recentEventIds: 300 },
          guards: { frequencyCaps: { email: { windowSec: 3600 }, sms: { windowSec: 3600 }, push: { windowSec: 3600 } } },
          bandit: { halfLifeSec: 7200 },
          attribution: { maxPending: 100, windowSecByChannel: { web: 1800, email: 3600, sms: 3600, push: 3600 } },
        },
      }),
    );
    const evs = events(seed, 5000, maxCustomers * 2);
    const run = (engine: ReturnType<typeof createEngine>, from: number, to: number) => {
      const out: Effect[] = [];
      for (let i = from; i < to; i++) out.push(...step(engine, evs[i]!, rngFromKey(1, evs[i]!.id)));
      return out;
    };
    const wholeEngine = createEngine(cfg);
    const whole = run(wholeEngine, 0, evs.length);
    const engine = createEngine(cfg, { trackChanges: true });
    startTracking(engine, false);
    const effects: Effect[] = [];
    const captures: { at: number; effectsAt: number; delta: Writing; base?: Writing | undefined; json: unknown }[] = [];
    const finish = (w: Writing) => {
      while (!w.complete) w.complete = w.part.step(w.sink, () => false);
    };
    const r = rngFromSeed(seed * 7 + 3);
    for (let i = 0; i < evs.length; i++) {
      effects.push(...run(engine, i, i + 1));
      const last = captures[captures.length - 1];
      if (last)
        for (const w of [last.delta, ...(last.base ? [last.base] : [])]) {
          let n = 0;
          const frames = 1 + Math.floor(r.next() * 3);
          if (!w.complete) w.complete = w.part.step(w.sink, () => ++n >= frames);
        }
      if ((i + 1) % 250 === 0) {
        if (last) for (const w of [last.delta, ...(last.base ? [last.base] : [])]) finish(w);
        const delta = new EngineDelta(engine, { at: i + 1 });
        const base = captures.length % 4 === 1 ? new EngineBase(engine, delta) : undefined;
        captures.push({ at: i + 1, effectsAt: effects.length, delta: { part: delta, sink: new PartSink(4096), complete: false }, base: base && { part: base, sink: new PartSink(4096), complete: false }, json: JSON.parse(JSON.stringify(engineToJSON(engine))) });
      }
    }
    expect(effects).toEqual(whole);
    const bytes = (w: Writing) => {
      finish(w);
      w.sink.seal();
      return concat(w.sink.take());
    };
    const parts = captures.map((c) => ({ delta: bytes(c.delta), base: c.base && bytes(c.base) }));
    for (let m = 0; m < captures.length; m++) {
      let k = m - 1;
      while (k >= 0 && !parts[k]!.base) k--;
      const chain = k >= 0 ? [parts[k]!.base!, ...parts.slice(k + 1, m + 1).map((p) => p.delta)] : parts.slice(0, m + 1).map((p) => p.delta);
      const { engine: restored } = restoreEngine(cfg, chain);
      expect(JSON.parse(JSON.stringify(engineToJSON(restored))), `chain ending with delta ${m}`).toEqual(captures[m]!.json);
      if (m % 4 === 2) {
        const rest = run(restored, captures[m]!.at, evs.length);
        expect([...effects.slice(0, captures[m]!.effectsAt), ...rest]).toEqual(whole);
      }
    }
    expect(engine.features.evictions).toBeGreaterThan(0);
  });
});
