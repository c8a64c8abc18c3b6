import { describe, expect, it } from "vitest";
import { loadConfig } from "../config/index.ts";
import type { ShopEvent } from "../events/index.ts";
import { rngFromKey } from "../random/index.ts";
import { shopEvents } from "../../test/support/engine.ts";
import { ByteReader, concat, FRAME, PART_VERSION, PartSink } from "../features/index.ts";
import { PS_ERR_STATE, StateError } from "../state/index.ts";
import { createEngine, EngineBase, EngineDelta, engineConfigFrom, engineFromJSON, engineToJSON, ENGINE_STATE_VERSION, PARTS_VERSION, restoreEngine, startTracking, step, type Effect, type EngineState } from "./index.ts";

function run(cfgSeed: number, evs: ShopEvent[], from: number, to: number, engine = createEngine(engineConfigFrom(loadConfig({ env: {} })))): { engine: ReturnType<typeof createEngine>; effects: Effect[] } {
  const effects: Effect[] = [];
  for (let i = from; i < to; i++) effects.push(...step(engine, evs[i]!, rngFromKey(cfgSeed, evs[i]!.id)));
  return { engine, effects };
}

describe("engine checkpoints", () => {
  // Small caches so eviction and expiry happen within the run, and a short half-life so decay matters.
  const cfg = engineConfigFrom(
    loadConfig({ env: {}, overrides: { features: { maxCustomers: 40, idleTtlSec: 3600, recentEventIds: 500 }, guards: { frequencyCaps: { email: { windowSec: 3600 }, sms: { windowSec: 3600 }, push: { windowSec: 3600 } } }, bandit: { halfLifeSec: 7200 }, attribution: { maxPending: 200, windowSecByChannel: { web: 1800, email: 3600, sms: 3600, push: 3600 } } } }),
  );
  const evs = shopEvents(11, 6000);

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
    [3, "at once"],
    [1, "a few frames after every event"],
  ])("incremental checkpoints (deltas, and a base every %i) restore the state each was captured at, and the run goes on exactly (written %s)", (every, how) => {
    const whole = run(1, evs, 0, evs.length, createEngine(cfg));
    const engine = createEngine(cfg, { trackChanges: true });
    startTracking(engine, false);
    const effects: Effect[] = [];
    interface Writing {
      part: EngineDelta | EngineBase;
      sink: PartSink;
      complete: boolean;
    }
    const captures: { at: number; effectsAt: number; delta: Writing; base?: Writing | undefined; json: unknown }[] = [];
    const finish = (w: Writing) => {
      while (!w.complete) w.complete = w.part.step(w.sink, () => false);
    };
    for (let i = 0; i < evs.length; i++) {
      effects.push(...run(1, evs, i, i + 1, engine).effects);
      const last = captures[captures.length - 1];
      if (last && how.startsWith("a few"))
        for (const w of [last.delta, ...(last.base ? [last.base] : [])]) {
          let n = 0;
          if (!w.complete) w.complete = w.part.step(w.sink, () => ++n >= 3);
        }
      if ((i + 1) % 500 === 0) {
        if (last) for (const w of [last.delta, ...(last.base ? [last.base] : [])]) finish(w);
        const delta = new EngineDelta(engine, { at: i + 1 });
        const base = captures.length % every === every - 1 ? new EngineBase(engine, delta) : undefined;
        captures.push({ at: i + 1, effectsAt: effects.length, delta: { part: delta, sink: new PartSink(4096), complete: false }, base: base && { part: base, sink: new PartSink(4096), complete: false }, json: JSON.parse(JSON.stringify(engineToJSON(engine))) });
        if (how === "at once") finish(captures[captures.length - 1]!.delta);
      }
    }
    expect(effects).toEqual(whole.effects);
    const bytes = (w: Writing) => {
      finish(w);
      w.sink.seal();
      return concat(w.sink.take());
    };
    const parts = captures.map((c) => ({ delta: bytes(c.delta), base: c.base && bytes(c.base) }));
    expect(parts.filter((p) => p.base).length).toBeGreaterThan(2);
    let checked = 0;
    for (let m = 0; m < captures.length; m++) {
      // The chain that ends with delta m: from the newest base begun before it, else from nothing.
      let k = m - 1;
      while (k >= 0 && !parts[k]!.base) k--;
      const chain = k >= 0 ? [parts[k]!.base!, ...parts.slice(k + 1, m + 1).map((p) => p.delta)] : parts.slice(0, m + 1).map((p) => p.delta);
      const { engine: restored, extra } = restoreEngine(cfg, chain);
      expect(extra).toEqual({ at: captures[m]!.at });
      expect(JSON.parse(JSON.stringify(engineToJSON(restored)))).toEqual(captures[m]!.json);
      if (m % 3 === 1) {
        // It goes on exactly like the engine that never stopped.
        const rest = run(1, evs, captures[m]!.at, evs.length, restored);
        expect([...effects.slice(0, captures[m]!.effectsAt), ...rest.effects]).toEqual(whole.effects);
        expect(engineToJSON(restored)).toEqual(engineToJSON(whole.engine));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(2);
    // Deltas hold what changed, not everything: the later ones are much smaller than a base.
    const deltaSizes = parts.slice(1).map((p) => p.delta.length);
    const baseSizes = parts.flatMap((p) => (p.base ? [p.base.length] : []));
    expect(Math.max(...deltaSizes)).toBeLessThan(Math.max(...baseSizes) * 2);
  });

  it("a delta written while the loop goes on holds its open decisions as they were at the capture (some overflowed meanwhile)", () => {
    // Three open decisions at most: the events after the capture overflow entries the delta took.
    const tight = engineConfigFrom(loadConfig({ env: {}, overrides: { attribution: { maxPending: 3 }, decisionPoints: { visit: true } } }));
    const evs3 = shopEvents(11, 3000);
    const whole = run(1, evs3, 0, evs3.length, createEngine(tight));
    const e = createEngine(tight, { trackChanges: true });
    startTracking(e, false);
    const k = 1000;
    const before = run(1, evs3, 0, k, e);
    const atCapture = JSON.parse(JSON.stringify(engineToJSON(e))) as { pending: { decisionId: string }[] };
    const delta = new EngineDelta(e, null);
    // The loop goes on while the delta is written (as the checkpointer writes it, slice by slice).
    const meanwhile = run(1, evs3, k, k + 50, e);
    const captured = new Set(atCapture.pending.map((p) => p.decisionId));
    expect(meanwhile.effects.some((f) => f.kind === "outcome" && f.outcome.cause === "overflow" && captured.has(f.outcome.decisionId))).toBe(true);
    const sink = new PartSink(4096);
    while (!delta.step(sink, () => false));
    sink.seal();
    const { engine: restored } = restoreEngine(tight, [concat(sink.take())]);
    expect(JSON.parse(JSON.stringify(engineToJSON(restored))).pending).toEqual(atCapture.pending);
    const after = run(1, evs3, k, evs3.length, restored);
    expect([...before.effects, ...after.effects]).toEqual(whole.effects);
    expect(engineToJSON(restored)).toEqual(engineToJSON(whole.engine));
  });

  // A checkpoint of a state version this build does not read (a newer build's, found after a rollback,
  // or one of versions 1 and 2) threw a plain Error, which the processor's start could not tell from any
  // other failure nor answer with the way out: it is PS_ERR_STATE_VERSION, naming the version found and
  // those this build reads.
  it.each([
    [9, /version 9 is not one this build reads \(it reads 3 and 4; it was written by a newer build\)/],
    [2, /version 2 is not one this build reads \(it reads 3 and 4; /],
  ])("a checkpoint of engine state version %i is refused with PS_ERR_STATE_VERSION, naming it and the versions this build reads", (version, says) => {
    const e = createEngine(cfg, { trackChanges: true });
    startTracking(e, false);
    run(1, evs, 0, 100, e);
    const refused = (f: () => unknown): StateError => {
      try {
        f();
      } catch (err) {
        return err as StateError;
      }
      throw new Error("restored");
    };
    const json = { ...engineToJSON(e), version } as unknown as EngineState;
    // A chain's delta as a build writing that version would: its small state's JSON names the version.
    const delta = new EngineDelta(e, null);
    const sink = new PartSink(4096);
    while (!delta.step(sink, () => false));
    sink.seal();
    const part = concat(sink.take());
    const text = Buffer.from(part).toString("latin1");
    const at = text.indexOf(`"version":${ENGINE_STATE_VERSION}`);
    expect(at).toBeGreaterThan(0);
    part[at + '"version":'.length] = 0x30 + version;
    for (const err of [refused(() => engineFromJSON(cfg, json)), refused(() => restoreEngine(cfg, [part]))]) {
      expect(err).toBeInstanceOf(StateError);
      expect(err.code).toBe(PS_ERR_STATE.Version);
      expect(err.message).toMatch(says);
    }
  });

  // Content that passes its checksum yet does not decode threw a bare RangeError or SyntaxError, which the
  // processor's start let out with a stack instead of its message for a damaged checkpoint and the way out.
  it("a chain part cut short or holding a state that is no JSON is refused with PS_ERR_STATE_CORRUPT naming the part", () => {
    const e = createEngine(cfg, { trackChanges: true });
    startTracking(e, false);
    run(1, evs, 0, 100, e);
    const delta = new EngineDelta(e, null);
    const sink = new PartSink(4096);
    while (!delta.step(sink, () => false));
    sink.seal();
    const whole = concat(sink.take());
    const refusal = (parts: Uint8Array[]): StateError => {
      try {
        restoreEngine(cfg, parts);
      } catch (err) {
        return err as StateError;
      }
      throw new Error("restored");
    };
    const cut = whole.slice(0, whole.length - 7);
    const notJson = whole.slice();
    const text = Buffer.from(notJson).toString("latin1");
    notJson[text.indexOf('{"engine"')] = 0x21; // the small state's JSON no longer parses
    for (const [parts, says] of [
      [[whole, cut], /^checkpoint part 1 does not decode: /],
      [[notJson], /^checkpoint part 0 does not decode: .*JSON/],
    ] as const) {
      const err = refusal([...parts]);
      expect(err).toBeInstanceOf(StateError);
      expect(err.code).toBe(PS_ERR_STATE.Corrupt);
      expect(err.message).toMatch(says);
    }
  });

  // A part of a newer parts format, or one whose customer store part is of a newer format, is as whole
  // as a newer engine state version: the parts format was reported as damage (PS_ERR_STATE_CORRUPT,
  // "part 0 is format 2; this build reads 1"), the store's as a bare RangeError with no code.
  it("a chain part of a newer parts format, or holding a newer customer store format, is refused with PS_ERR_STATE_VERSION naming both versions", () => {
    const e = createEngine(cfg, { trackChanges: true });
    startTracking(e, false);
    run(1, evs, 0, 100, e);
    const written = () => {
      const delta = new EngineDelta(e, null);
      const sink = new PartSink(4096);
      while (!delta.step(sink, () => false));
      sink.seal();
      return concat(sink.take());
    };
    const refusal = (part: Uint8Array): StateError => {
      try {
        restoreEngine(cfg, [part]);
      } catch (err) {
        return err as StateError;
      }
      throw new Error("restored");
    };
    // The part's kind byte, its kind, then its parts format (one byte while below 128).
    const newerParts = written();
    expect(newerParts[2]).toBe(PARTS_VERSION);
    newerParts[2] = PARTS_VERSION + 1;
    // The customer store's header frame follows the small state's frame: its version is the byte after its type.
    const newerStore = written();
    const r = new ByteReader();
    r.reset(newerStore);
    r.byte();
    r.byte();
    r.uvar();
    expect(r.byte()).toBe(0x4a);
    r.bytes(r.uvar());
    expect([newerStore[r.pos], newerStore[r.pos + 1]]).toEqual([FRAME.header, PART_VERSION]);
    newerStore[r.pos + 1] = PART_VERSION + 1;
    for (const [part, says] of [
      [newerParts, /checkpoint part 0 is parts format 2, written by a newer build \(this build reads parts format 1\)/],
      [newerStore, /checkpoint part 0 holds a customer store part of format 3, written by a newer build \(this build reads customer store formats 1 and 2\)/],
    ] as const) {
      const err = refusal(part);
      expect(err).toBeInstanceOf(StateError);
      expect(err.code).toBe(PS_ERR_STATE.Version);
      expect(err.message).toMatch(says);
    }
    // A format no build wrote (0) is still damage.
    const zero = written();
    zero[2] = 0;
    expect(refusal(zero).code).toBe(PS_ERR_STATE.Corrupt);
  });
});

describe("the configuration's promotions at a restore", () => {
  const base = loadConfig({ env: {} });
  const cfgOf = (promotions: typeof base.promotions) => engineConfigFrom(loadConfig({ env: {}, overrides: { promotions } }));
  const first = engineConfigFrom(base);
  const evs = shopEvents(5, 400);
  const flash = { id: "flash-beauty", name: "Flash", kind: "percent" as const, percentOff: 15, category: "beauty", channels: ["web" as const], budgetCents: 100_000, maxDiscountCents: 1500 };

  function checkpointed() {
    const e = createEngine(first);
    run(1, evs, 0, evs.length, e);
    // Runtime changes: a new promotion, and a budget of a configured one.
    step(e, { type: "promotion", id: "c1.p0", ts: evs[evs.length - 1]!.ts, promotion: flash }, rngFromKey(1, "c1.p0"));
    const amt = base.promotions.find((p) => p.id === "amt5-home")!;
    step(e, { type: "promotion", id: "c2.p0", ts: evs[evs.length - 1]!.ts, promotion: { ...amt, budgetCents: 1234 } }, rngFromKey(1, "c2.p0"));
    return JSON.parse(JSON.stringify(engineToJSON(e))) as ReturnType<typeof engineToJSON>;
  }

  it("the same configuration: the checkpoint's promotions as they were, runtime changes included", () => {
    const s = checkpointed();
    const e = engineFromJSON(first, s);
    expect(e.promotions.has(flash.id)).toBe(true);
    expect(e.promotions.get("amt5-home")?.budgetCents).toBe(1234);
    expect(engineToJSON(e)).toEqual(s);
  });

  it("a promotion added, changed or taken out in the configuration since: its change applies; the others keep their runtime changes", () => {
    const s = checkpointed();
    const spent = s.ledger.budgets.find(([id]) => id === "pct10-electronics")![1];
    const promotions = [
      ...base.promotions.filter((p) => p.id !== "bundle-toys").map((p) => (p.id === "pct10-electronics" ? { ...p, budgetCents: 5_000 } : p)),
      { ...flash, id: "pct5-books", category: "books", percentOff: 5 },
    ];
    const e = engineFromJSON(cfgOf(promotions), s);
    expect(e.promotions.get("pct5-books")).toMatchObject({ percentOff: 5 });
    expect(e.ledger.budgets.get("pct5-books")?.budgetCents).toBe(100_000);
    expect(e.promotions.get("pct10-electronics")?.budgetCents).toBe(5_000);
    // A changed one keeps its spend.
    expect(e.ledger.budgets.get("pct10-electronics")).toEqual({ ...spent, budgetCents: 5_000 });
    expect(e.promotions.has("bundle-toys")).toBe(false);
    expect(e.promotions.has(flash.id)).toBe(true);
    expect(e.promotions.get("amt5-home")?.budgetCents).toBe(1234);
    // Once restored under it, the next checkpoint holds it: a second restore changes nothing more.
    const again = JSON.parse(JSON.stringify(engineToJSON(e))) as typeof s;
    expect(engineToJSON(engineFromJSON(cfgOf(promotions), again))).toEqual(again);
  });

  it("a checkpoint from before the configuration's promotions were kept gains those it does not hold, and keeps the rest", () => {
    const { configPromotions: _kept, ...s } = checkpointed();
    const promotions = [...base.promotions.map((p) => (p.id === "amt5-home" ? { ...p, budgetCents: 9_999 } : p)), { ...flash, id: "pct5-books", category: "books" }];
    const e = engineFromJSON(cfgOf(promotions), s);
    expect(e.promotions.has("pct5-books")).toBe(true);
    expect(e.promotions.get("amt5-home")?.budgetCents).toBe(1234);
  });
});
