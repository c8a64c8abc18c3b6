// The columnar store against the object store it replaced (test/support/object-store.ts), and its
// checkpoint parts against the store they were written from, on random sequences of what the engine
// does to customers.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ObjectFeatureStore } from "../../test/support/object-store.ts";
import { customerToJSON, noteOutcome, observe, recordOffer } from "./customer.ts";
import { PartSink, concat, restoreStore, writeWhole, type StoreBase, type StoreDelta } from "./parts.ts";
import { FeatureStore } from "./store.ts";

const T = 1_700_000_000_000;
const MIN = 60_000;
const H = 60 * MIN;

const actOver = (maxId: number) => fc.oneof(
  { weight: 6, arbitrary: fc.record({ k: fc.constant("event" as const), id: fc.integer({ min: 0, max: maxId }), type: fc.constantFrom("view", "click", "cart", "purchase"), cat: fc.constantFrom("toys", "books", "home", "ga", "x"), action: fc.constantFrom("add" as const, "remove" as const) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("offer" as const), id: fc.integer({ min: 0, max: maxId }), channel: fc.constantFrom("web", "email", "sms", "push") }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("outcome" as const), id: fc.integer({ min: 0, max: maxId }), converted: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("get" as const), id: fc.integer({ min: 0, max: maxId }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant("time" as const), dt: fc.integer({ min: 0, max: 3 * H }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("purge" as const) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant("release" as const) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("offersOf" as const), id: fc.integer({ min: 0, max: maxId }), channel: fc.constantFrom("web", "email", "sms", "push") }) },
);
const act = actOver(40);
type Act = typeof act extends fc.Arbitrary<infer A> ? A : never;

/** Applies one act to a store (either kind: they share the API). */
function run(s: FeatureStore | ObjectFeatureStore, a: Act, clock: { now: number }): unknown {
  const id = "id" in a ? `c${a.id}` : "";
  switch (a.k) {
    case "event": {
      const c = s.getOrCreate(id);
      observe(c, { type: a.type, ts: clock.now, category: a.cat, priceCents: 1000, quantity: 1, ...(a.type === "cart" ? { action: a.action } : {}) }, 3);
      return customerToJSON(c);
    }
    case "offer": {
      const c = s.getOrCreate(id);
      recordOffer(c, a.channel, clock.now, 3, clock.now - 5 * H);
      return customerToJSON(c);
    }
    case "outcome": {
      const c = s.getForUpdate(id);
      if (c) noteOutcome(c, true, a.converted);
      return c && customerToJSON(c);
    }
    case "get": {
      const c = s.get(id);
      return c && customerToJSON(c);
    }
    case "time":
      clock.now += a.dt;
      s.setNow(clock.now);
      return undefined;
    case "purge":
      s.purgeStale();
      return undefined;
    case "release":
      if (s instanceof FeatureStore) s.release();
      return undefined;
    case "offersOf":
      return [...s.offersOf(id, a.channel)];
  }
}

const options = fc.record({
  maxCustomers: fc.integer({ min: 1, max: 30 }),
  idleTtlMs: fc.constantFrom(2 * H, 10 * H, 100 * H),
  offerMemoryMs: fc.constantFrom(0, 5 * H),
  hotCustomers: fc.integer({ min: 1, max: 8 }),
});

describe("the columnar feature store", () => {
  it("behaves as the object store on random sequences (same customers, order, ages, counts, offer memory)", () => {
    fc.assert(
      fc.property(options, fc.array(act, { minLength: 1, maxLength: 300 }), (o, acts) => {
        const fresh = new FeatureStore(o);
        const old = new ObjectFeatureStore({ maxCustomers: o.maxCustomers, idleTtlMs: o.idleTtlMs, offerMemoryMs: o.offerMemoryMs });
        const a = { now: T };
        const b = { now: T };
        fresh.setNow(T);
        old.setNow(T);
        for (const x of acts) {
          expect(run(fresh, x, a)).toEqual(run(old, x, b));
          expect([fresh.size, fresh.evictions, fresh.expirations, fresh.rememberedOffers]).toEqual([old.size, old.evictions, old.expirations, old.rememberedOffers]);
        }
        expect(fresh.toJSON()).toEqual(old.toJSON());
        expect([...fresh.entries()].map(([k, c]) => [k, customerToJSON(c)])).toEqual([...old.entries()].map(([k, c]) => [k, customerToJSON(c)]));
      }),
      { seed: 1616, numRuns: 400 },
    );
  });

  it("restores from its parts (a base, or none, and the deltas after it) to the state each delta was captured at", () => {
    const step = fc.oneof(
      { weight: 10, arbitrary: actOver(12) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant("capture" as const), base: fc.boolean(), slices: fc.integer({ min: 0, max: 3 }) }) },
      { weight: 2, arbitrary: fc.record({ k: fc.constant("slice" as const) }) },
    );
    fc.assert(
      fc.property(options, fc.array(step, { minLength: 1, maxLength: 300 }), (o, steps) => {
        const s = new FeatureStore({ ...o, trackChanges: true });
        const clock = { now: T };
        s.setNow(T);
        /** Each capture: its delta, a base begun with it (maybe), and the state it must restore to. */
        interface Writing {
          part: StoreDelta | StoreBase;
          sink: PartSink;
          complete: boolean;
        }
        const captures: { delta: Writing; base: Writing | undefined; state: ReturnType<FeatureStore["toJSON"]>; size: number }[] = [];
        const all = (c: (typeof captures)[number]) => [c.delta, ...(c.base ? [c.base] : [])];
        // A slice of writing: a record or two each, as the processor's loop gives it.
        const slice = (w: Writing) => {
          let n = 0;
          if (!w.complete) w.complete = w.part.step(w.sink, () => ++n >= 2);
        };
        const finish = (w: Writing) => {
          while (!w.complete) w.complete = w.part.step(w.sink, () => false);
        };
        for (const x of steps) {
          const current = captures[captures.length - 1];
          if (x.k === "slice") {
            if (current) for (const w of all(current)) slice(w);
          } else if (x.k === "capture") {
            // One at a time: the checkpointer finishes the previous one first.
            if (current) for (const w of all(current)) finish(w);
            const delta = s.captureDelta();
            const base = x.base ? s.beginBase(delta) : undefined;
            const c = { delta: { part: delta, sink: new PartSink(64), complete: false }, base: base && { part: base, sink: new PartSink(64), complete: false }, state: s.toJSON(), size: s.size };
            captures.push(c);
            for (let k = 0; k < x.slices; k++) for (const w of all(c)) slice(w);
          } else run(s, x, clock);
        }
        const last = captures[captures.length - 1];
        if (last) for (const w of all(last)) finish(w);
        const bytes = (w: Writing) => {
          w.sink.seal();
          return concat(w.sink.take());
        };
        const parts = captures.map((c) => ({ delta: bytes(c.delta), base: c.base && bytes(c.base) }));
        const opts = { ...o, trackChanges: true };
        for (let m = 0; m < captures.length; m++) {
          // From nothing: every delta up to m.
          const whole = restoreStore(opts, parts.slice(0, m + 1).map((p) => p.delta));
          expect(whole.toJSON()).toEqual(captures[m]!.state);
          expect(whole.size).toBe(captures[m]!.size);
          // From each base begun at k < m: the base and the deltas after it.
          for (let k = 0; k < m; k++) {
            const b = parts[k]!.base;
            if (!b) continue;
            const restored = restoreStore(opts, [b, ...parts.slice(k + 1, m + 1).map((p) => p.delta)]);
            expect(restored.toJSON()).toEqual(captures[m]!.state);
            expect(restored.size).toBe(captures[m]!.size);
          }
        }
      }),
      { seed: 1617, numRuns: 300 },
    );
  });

  it("writes a base whole while the customers its walk has not reached yet move to the end or go", () => {
    const s = new FeatureStore({ idleTtlMs: 10 * H, maxCustomers: 9, trackChanges: true });
    s.setNow(T);
    for (let i = 0; i < 9; i++) s.getOrCreate(`c${i}`);
    writeWhole(s.captureDelta());
    const base = s.beginBase(undefined);
    const sink = new PartSink();
    let n = 0;
    base.step(sink, () => ++n >= 1); // c0 written; the walk's cursor is at c1
    s.get("c1"); // the cursor's customer moves to the end
    base.step(sink, () => true); // c2
    s.getOrCreate("c9"); // evicts c0 (written)
    s.getOrCreate("c10"); // evicts c2 (written)
    s.getOrCreate("c11"); // evicts c3, the cursor's
    const baseBytes = writeWhole(base, sink);
    const delta = s.captureDelta();
    const state = s.toJSON();
    expect(state.customers.map((c) => c[0])).toEqual(["c4", "c5", "c6", "c7", "c8", "c1", "c9", "c10", "c11"]);
    const restored = restoreStore({ idleTtlMs: 10 * H, maxCustomers: 9 }, [baseBytes, writeWhole(delta)]);
    expect(restored.toJSON()).toEqual(state);
  });

  it("finds customers by ids of any characters and lengths (records past the largest block too), before and after a restore from parts", () => {
    const ids = ["plain", "ümlaut-ß", "顧客-42", "mixed-ü-顧", "", "x".repeat(300), "y".repeat(20_000), "長".repeat(20_000)];
    const s = new FeatureStore({ idleTtlMs: 10 * H, trackChanges: true });
    s.setNow(T);
    ids.forEach((id, n) => observe(s.getOrCreate(id), { type: "view", ts: T, category: `cat-${n}` }, 3));
    const restored = restoreStore({ idleTtlMs: 10 * H }, [writeWhole(s.captureDelta())]);
    for (const store of [s, restored]) {
      expect(store.size).toBe(ids.length);
      ids.forEach((id, n) => expect(store.get(id)?.cats).toEqual([`cat-${n}`]));
      expect(store.get("顧客-43")).toBeUndefined();
    }
    expect([...restored.entries()].map(([id]) => id).sort()).toEqual([...ids].sort());
  });

  it("keeps within its memory bound by evicting the least recently used, counted as evictions", () => {
    const max = 2 * 2 ** 20;
    const s = new FeatureStore({ maxMemoryBytes: max, idleTtlMs: 10 * H, offerMemoryMs: 5 * H, hotCustomers: 64 });
    s.setNow(T);
    for (let i = 0; i < 30_000; i++) {
      const c = s.getOrCreate(`c${i}`);
      observe(c, { type: "view", ts: T + i, category: "toys" }, 3);
      if (i % 1000 === 0) recordOffer(c, "email", T + i, 3, T - H);
      s.release();
      expect(s.memoryBytes).toBeLessThanOrEqual(max);
    }
    expect(s.evictions).toBe(30_000 - s.size);
    expect(s.size).toBeGreaterThan(5_000);
    // The most recent stayed, the oldest went; an evicted customer's offers are remembered for the caps.
    expect(s.get("c29999")).toBeDefined();
    expect(s.get("c0")).toBeUndefined();
    expect(s.offersOf("c1000", "email")).toEqual([T + 1000]);
  });
});
