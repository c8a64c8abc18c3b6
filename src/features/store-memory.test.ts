// The memory bound across checkpoints: a store bounded by memory must evict the same customers at the
// same points whether or not checkpoints are taken (and whenever they are written), and a store
// restored from any of them must go on evicting as the one it came from. The bound counts the id
// index, the records and the hot set, none of which the customers' states alone fix: the index only
// grows, hot customers' records are rewritten only when they leave the hot set, and a restore
// decodes no one. A replay after a crash makes the same decisions only if this holds.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { customerToJSON, noteOutcome, observe, recordOffer } from "./customer.ts";
import { PART_VERSION, PartSink, concat, restoreStore, writeWhole, type StoreBase, type StoreDelta } from "./parts.ts";
import { FeatureStore, type FeatureStoreOptions } from "./store.ts";

const T = 1_700_000_000_000;
const MIN = 60_000;
const H = 60 * MIN;

const act = fc.oneof(
  // Categories from 200: the string table passes 64 entries, where a string's number takes two bytes
  // in a record, so the order strings join the table changes records' sizes.
  { weight: 8, arbitrary: fc.record({ k: fc.constant("event" as const), id: fc.integer({ min: 0, max: 60 }), type: fc.constantFrom("view", "click", "cart", "purchase"), cat: fc.integer({ min: 0, max: 199 }) }) },
  // A few regulars: touched again soon, they join the hot set.
  { weight: 6, arbitrary: fc.record({ k: fc.constant("event" as const), id: fc.integer({ min: 0, max: 3 }), type: fc.constantFrom("view", "click"), cat: fc.integer({ min: 0, max: 199 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("offer" as const), id: fc.integer({ min: 0, max: 60 }), channel: fc.constantFrom("web", "email", "sms", "push") }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("outcome" as const), id: fc.integer({ min: 0, max: 60 }), converted: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("get" as const), id: fc.integer({ min: 0, max: 60 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("time" as const), dt: fc.integer({ min: 0, max: H }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("purge" as const) }) },
  { weight: 6, arbitrary: fc.record({ k: fc.constant("release" as const) }) },
  // A checkpoint is captured at a message boundary: the engine's next call is release().
  { weight: 1, arbitrary: fc.record({ k: fc.constant("capture" as const), base: fc.boolean(), slices: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant("slice" as const) }) },
);
type Act = typeof act extends fc.Arbitrary<infer A> ? A : never;

/** Applies one act that is not about checkpoints; what it read or changed. */
function run(s: FeatureStore, a: Act, clock: { now: number }): unknown {
  const id = "id" in a ? `c${a.id}` : "";
  switch (a.k) {
    case "event": {
      const c = s.getOrCreate(id);
      observe(c, { type: a.type, ts: clock.now, category: `cat${a.cat}`, priceCents: 1000, quantity: 1 }, 3);
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
    case "capture":
      s.release();
      return undefined;
    case "slice":
      return undefined;
  }
}

const options = fc.record({
  // A few thousand bytes past the hot set's reserve (3,000 a customer) and the index (4 KB): tens of customers.
  maxMemoryBytes: fc.integer({ min: 8_000, max: 20_000 }),
  idleTtlMs: fc.constantFrom(2 * H, 100 * H),
  offerMemoryMs: fc.constantFrom(0, 5 * H),
  hotCustomers: fc.integer({ min: 1, max: 4 }),
});

interface Writing {
  part: StoreDelta | StoreBase;
  sink: PartSink;
  complete: boolean;
}

describe("a feature store bounded by memory, across checkpoints", () => {
  it("evicts the same with checkpoints taken and written at any point, and a store restored from any of them goes on evicting the same", () => {
    let restores = 0;
    let evicting = 0;
    fc.assert(
      fc.property(options, fc.array(act, { minLength: 100, maxLength: 400 }), (o: FeatureStoreOptions, acts) => {
        // The store that never checkpoints: what each act gave, and the bound's count after each.
        const plain = new FeatureStore(o);
        const clock = { now: T };
        plain.setNow(T);
        const seen: { out: unknown; memory: number; evictions: number }[] = [];
        for (const x of acts) seen.push({ out: run(plain, x, clock), memory: plain.memoryBytes, evictions: plain.evictions });
        if (plain.evictions > 0) evicting++;

        // The same acts with checkpoints captured, and written a slice at a time in between.
        const s = new FeatureStore({ ...o, trackChanges: true });
        const sClock = { now: T };
        s.setNow(T);
        const captures: { at: number; delta: Writing; base: Writing | undefined }[] = [];
        const all = (c: (typeof captures)[number]) => [c.delta, ...(c.base ? [c.base] : [])];
        const slice = (w: Writing) => {
          let n = 0;
          if (!w.complete) w.complete = w.part.step(w.sink, () => ++n >= 2);
        };
        const finish = (w: Writing) => {
          while (!w.complete) w.complete = w.part.step(w.sink, () => false);
        };
        acts.forEach((x, k) => {
          const current = captures[captures.length - 1];
          if (x.k === "slice" && current) for (const w of all(current)) slice(w);
          if (x.k === "capture") {
            if (current) for (const w of all(current)) finish(w);
            const delta = s.captureDelta();
            const base = x.base ? s.beginBase(delta) : undefined;
            const c = { at: k, delta: { part: delta, sink: new PartSink(64), complete: false }, base: base && { part: base, sink: new PartSink(64), complete: false } };
            captures.push(c);
            for (let n = 0; n < x.slices; n++) for (const w of all(c)) slice(w);
          }
          expect(run(s, x, sClock)).toEqual(seen[k]!.out);
          expect([s.memoryBytes, s.evictions]).toEqual([seen[k]!.memory, seen[k]!.evictions]);
        });
        expect(s.exportJSON()).toEqual(plain.exportJSON());

        const last = captures[captures.length - 1];
        if (last) for (const w of all(last)) finish(w);
        const bytes = (w: Writing) => {
          w.sink.seal();
          return concat(w.sink.take());
        };
        const parts = captures.map((c) => ({ delta: bytes(c.delta), base: c.base && bytes(c.base) }));
        const goesOn = (restored: FeatureStore, from: number) => {
          const rClock = { now: restored.now };
          for (let k = from; k < acts.length; k++) {
            expect(run(restored, acts[k]!, rClock)).toEqual(seen[k]!.out);
            expect([restored.memoryBytes, restored.evictions]).toEqual([seen[k]!.memory, seen[k]!.evictions]);
          }
          expect(restored.exportJSON()).toEqual(plain.exportJSON());
          restores++;
        };
        for (let m = 0; m < captures.length; m++) {
          // The capture act is a release: the restored store makes it.
          goesOn(restoreStore(o, parts.slice(0, m + 1).map((p) => p.delta)), captures[m]!.at);
          for (let k = 0; k < m; k++) if (parts[k]!.base) goesOn(restoreStore(o, [parts[k]!.base!, ...parts.slice(k + 1, m + 1).map((p) => p.delta)]), captures[m]!.at);
        }
      }),
      { seed: 2424, numRuns: 200 },
    );
    // The runs evicted, and restored often.
    expect(evicting).toBeGreaterThan(80);
    expect(restores).toBeGreaterThan(1000);
  });

  it("restores the id index at the size it had: it only grows, and the bound counts it", () => {
    const opts = { maxMemoryBytes: 120_000, idleTtlMs: H, hotCustomers: 1 };
    const s = new FeatureStore({ ...opts, trackChanges: true });
    const view = (store: FeatureStore, id: string, at: number) => {
      store.release();
      store.setNow(at);
      observe(store.getOrCreate(id), { type: "view", ts: at, category: "toys" }, 3);
    };
    // 700 customers grow the index past 1,024 slots; two hours later all are idle past the TTL and swept.
    for (let k = 0; k < 700; k++) view(s, `a${k}`, T);
    s.release();
    s.setNow(T + 2 * H);
    s.purgeStale();
    expect(s.size).toBe(0);
    const delta = writeWhole(s.captureDelta());
    const json = JSON.parse(JSON.stringify(s.exportJSON()));
    const restored = [restoreStore(opts, [delta]), FeatureStore.fromJSON(opts, json)];
    for (const r of restored) expect(r.memoryBytes).toBe(s.memoryBytes);
    // New customers until the bound evicts: the restored stores evict at the same ones.
    for (let k = 0; k < 1500; k++)
      for (const store of [s, ...restored]) {
        view(store, `b${k}`, T + 2 * H + k);
        expect([store.memoryBytes, store.evictions]).toEqual([s.memoryBytes, s.evictions]);
      }
    expect(s.evictions).toBeGreaterThan(50);
  });

  it("restores a part of the format before the index size and the hot set were kept (version 1), and the next delta carries them", () => {
    const opts = { idleTtlMs: 10 * H, offerMemoryMs: 5 * H, hotCustomers: 4 };
    /** Event k: one of two regulars (hot) or a passer-by views a category, an offer now and then (the fixture below is events 0–29). */
    const play = (s: FeatureStore, from: number, to: number) => {
      for (let k = from; k < to; k++) {
        s.release();
        s.setNow(T + k * MIN);
        const c = s.getOrCreate(k % 2 === 0 ? `r${(k / 2) % 2}` : `c${k}`);
        observe(c, { type: "view", ts: T + k * MIN, category: `cat${k % 7}` }, 3);
        if (k % 10 === 0) recordOffer(c, "email", T + k * MIN, 3, T - H);
      }
    };
    // A delta of events 0–29 as the build before version 2 wrote it.
    const v1 = Uint8Array.from(Buffer.from(
      "aAGAp///88UBAACAIHgAcnSA1PD/88UBTUwEcjANgJSCs5wO/pOaAwAWAQ4BHgEABRYAEgAOAAoABgACAAAXAAYEBwQHBBcEAwQDBAMIAwQDBA" +
      "MEXyADBgwADAwIAgL+k5oD/pd1cgiAk+X888UBHRwEYzEFgNP2r5wOAAAGAgAIAB0ACgQjBHcEAQIEcmyArtP/88UBQkEEcjENgO7kspwO/sff" +
      "AgASAR4BAAEOBg4ACgAGAAIAABgABgQHBAcEGwgDBAMEAwQDCGMcAwgMCggCCAIB/q/qAXIQgLmC/fPFAR0cBGMzBYD5k7CcDgAABgQABwAcAB" +
      "IEHwRzBAEGBHIYgN+f/fPFAR0cBGM1BYCfsbCcDgAABgAACwAcAAIELwRzBAEIBHIggIW9/fPFAR0cBGM3BYDFzrCcDgAABgIACgAbAAoEKwRv" +
      "BAEABHIogKva/fPFAR0cBGM5BYDr67CcDgAABgQACAAbABIEIwRvBAEEBHIwgNH3/fPFAR4dBmMxMQWAkYmxnA4AAAYAAAwAGwACBDMEbwQBCg" +
      "RyOID3lP7zxQEeHQZjMTMFgLemsZwOAAAGAgALABoACgQvBGsEAQwEckCAnbL+88UBHh0GYzE1BYDdw7GcDgAABgQACQAaABIEJwRrBAECBHJI" +
      "gMPP/vPFAR4dBmMxNwWAg+GxnA4AAAYAAA4AGQACBDsEZwQBBgRyUIDp7P7zxQEeHQZjMTkFgKn+sZwOAAAGAgAMABkACgQzBGcEAQgEcliAj4" +
      "r/88UBHh0GYzIxBYDPm7KcDgAABgQACgAZABIEKwRnBAEABHJggLWn//PFAR4dBmMyMwWA9biynA4AAAYAAA8AGAACBD8EYwQBBARyaIDbxP/z" +
      "xQEeHQZjMjUFgJvWspwOAAAGAgANABgACgQ3BGMEAQoEcnCAgeL/88UBHh0GYzI3BYDB87KcDgAABgQADAAXABIEMwRfBAEMBHJ4gKf///PFAR" +
      "4dBmMyOQWA55CznA4AAAYAABAAFwACBEMEXwQBAgRzAAcEY2F0MARjYXQxBGNhdDIEY2F0MwRjYXQ1BGNhdDQEY2F0Ng==",
      "base64",
    ));
    expect([v1[0], v1[1]]).toEqual([0x68, 1]);
    const fresh = new FeatureStore(opts);
    play(fresh, 0, 30);
    const s = restoreStore({ ...opts, trackChanges: true }, [v1]);
    expect(s.toJSON()).toEqual(fresh.toJSON());
    // The next delta is of this build's format, and the chain restores what the store now holds, hot set included.
    play(s, 30, 60);
    const v2 = writeWhole(s.captureDelta());
    expect([v2[0], v2[1]]).toEqual([0x68, PART_VERSION]);
    const restored = restoreStore(opts, [v1, v2]);
    expect(restored.exportJSON()).toEqual(s.exportJSON());
    expect(s.exportJSON().bound!.hot.length).toBeGreaterThan(0);
  });
});
