// One memory point (issues #7 §4 and #16), in a fresh process so its RSS is its own: the processor's
// state (engine and KPI accumulator, as src/processor holds them, tracking changes for incremental
// checkpoints) with N distinct customers all cached (features.maxMemoryMb raised so nothing is evicted),
// then what a checkpoint costs at that size and what a restore costs.
//
// Filling, two ways (the point says which):
//   step   each event goes through the processor's decode (JSON bytes → validated object) and step(), as
//          in Processor.handle. Customer c arrives at c × 100 ms of event time (1M customers span ~28
//          hours, so the 30-minute web attribution window closes as it would and the idle TTL of 48 h
//          does not empty the cache), with a view (a decision point), a visit, and, by a seeded coin, a
//          click (50%), a cart (30%) and a purchase (5%) within the next minute.
//   store  the 10M point: the same shoppers written through the feature store's own API (a visit, a
//          view with its product counted, a click or a cart by the same coins), without decode,
//          decisions or attribution: 35 M events through step() would take ~15 minutes.
//
// Then, in order: full collections and RSS; a checkpoint of everything (a delta holding every
// customer, and a base begun with it), each written whole into memory; 1% of the customers get one
// more event; a checkpoint of that (its pause, with a base begun in the same pause, and its bytes);
// a restore of the engine from the base and that delta, and the time from there to its first decision.
//
// Usage: node --expose-gc --import tsx bench/memory-child.ts <customers> [step|store]; prints one JSON line.
import { loadConfig } from "../src/config/index.ts";
import { createEngine, EngineBase, EngineDelta, engineConfigFrom, restoreEngine, startTracking, step, type Engine } from "../src/engine/index.ts";
import { decodeEvent, encodeEvent, type ShopEvent } from "../src/events/index.ts";
import { beginVisit, noteProductView, observe, PartSink, concat } from "../src/features/index.ts";
import { KpiAccumulator } from "../src/kpi/index.ts";
import { rngFromKey, rngFromSeed } from "../src/random/index.ts";

export interface MemoryPoint {
  customers: number;
  fill: "step" | "store";
  events: number;
  decisions: number;
  rssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  /** Outside the JS heap: the feature store's columns and record chunks. */
  arrayBuffersMb: number;
  /** RSS right after the fill, before the collections and the pause. */
  rssBeforeGcMb: number;
  /** What the feature store counts as its own (columns, records, index, hot set). */
  storeMb: number;
  cachedCustomers: number;
  evictions: number;
  pending: number;
  seconds: number;
  /** A checkpoint after the fill (the delta since the last periodic one) and a base of everything begun with it. */
  fullDeltaMb: number;
  fullDeltaWriteSeconds: number;
  baseMb: number;
  baseWriteSeconds: number;
  /** 1% of the customers changed: the checkpoint's pause (capture of the delta and the start of a base), its bytes and writing time. */
  changedCustomers: number;
  checkpointPauseMs: number;
  checkpointBytes: number;
  checkpointWriteMs: number;
  /** Restore of the engine from base + delta (in memory, no NATS), then one event to its first decision. */
  restoreSeconds: number;
  firstDecisionMs: number;
  restoredCustomers: number;
}

const customers = Number(process.argv[2]);
const fill = (process.argv[3] ?? "step") as "step" | "store";
if (!Number.isInteger(customers) || customers <= 0 || (fill !== "step" && fill !== "store")) {
  console.error("usage: memory-child.ts <customers> [step|store]");
  process.exit(2);
}

// Everything cached: the memory bound far above what the point needs.
const cfg = loadConfig({ env: {}, overrides: { features: { maxMemoryMb: 1_000_000 } } });
const ecfg = engineConfigFrom(cfg);
const engine = createEngine(ecfg, { trackChanges: true });
startTracking(engine, false);
const kpi = new KpiAccumulator();
const rng = rngFromSeed(42);
const categories = cfg.simulator.categories;
const T0 = Date.parse(cfg.simulator.startTime);
let events = 0;
let decisions = 0;

/**
 * As the processor does (processor.checkpointEveryEvents): a delta every so many events, written whole
 * and dropped here, so the journals of what changed hold one interval, not the whole fill.
 */
let sinceCheckpoint = 0;
function checkpointDue(e: Engine): void {
  if (++sinceCheckpoint < cfg.processor.checkpointEveryEvents) return;
  sinceCheckpoint = 0;
  const sink = new PartSink(512 * 1024);
  new EngineDelta(e, kpi.toJSON()).step(sink, () => false);
  sink.take();
}

function feed(e: Engine, ev: ShopEvent): number {
  const decoded = decodeEvent(encodeEvent(ev), cfg.processor.maxEventBytes);
  if (!decoded.ok) throw new Error(`bench event rejected: ${decoded.detail}`);
  events++;
  let made = 0;
  for (const eff of step(e, decoded.value, rngFromKey(cfg.processor.seed, ev.id))) {
    if (eff.kind === "decision") {
      made++;
      kpi.onDecision(eff.decision);
    } else if (eff.kind === "outcome") kpi.onOutcome(eff.outcome);
    else if (eff.kind === "deadletter") kpi.onDeadLetter(eff.reason);
  }
  decisions += made;
  if (e === engine) checkpointDue(e);
  return made;
}

const sku = (n: number) => `sku-${String(n).padStart(3, "0")}`;
const t0 = performance.now();
for (let i = 0; i < 60; i++) feed(engine, { type: "inventory", id: `m-inv-${i}`, ts: T0, productId: sku(i), category: categories[i % categories.length]!, stock: 1_000_000, priceCents: 1_000 + 100 * i, costCents: 600 + 60 * i });

if (fill === "step") {
  // Events come out in event-time order: each customer's events are spread over a minute and the next
  // customer arrives 100 ms later, so a small window of pending events is kept sorted by time.
  let queue: ShopEvent[] = [];
  for (let c = 0; c < customers; c++) {
    const ts = T0 + c * 100;
    const customerId = `mc${c}`;
    const category = categories[Math.floor(rng.next() * categories.length)]!;
    const productId = sku(Math.floor(rng.next() * 60));
    const id = (k: string) => `m-${c}-${k}`;
    queue.push({ type: "view", id: id("v"), ts, customerId, productId, category, priceCents: 2_500 });
    queue.push({ type: "visit", id: id("s"), ts: ts + 1_000, customerId, channel: "web", sessionId: `${customerId}-1` });
    if (rng.next() < 0.5) queue.push({ type: "click", id: id("c"), ts: ts + 20_000, customerId, productId, category });
    if (rng.next() < 0.3) queue.push({ type: "cart", id: id("k"), ts: ts + 40_000, customerId, productId, category, quantity: 1, priceCents: 2_500 });
    if (rng.next() < 0.05) queue.push({ type: "purchase", id: id("p"), ts: ts + 60_000, customerId, totalCents: 2_500, items: [{ productId, quantity: 1, priceCents: 2_500 }] });
    if (queue.length >= 4_000 || c === customers - 1) {
      queue.sort((a, b) => a.ts - b.ts);
      // Keep what is still ahead of the next customer's first event; feed the rest.
      const horizon = c === customers - 1 ? Infinity : T0 + (c + 1) * 100;
      const ready = queue.filter((e) => e.ts < horizon);
      queue = queue.filter((e) => e.ts >= horizon);
      for (const e of ready) feed(engine, e);
    }
  }
} else {
  const store = engine.features;
  const k = cfg.features.topCategories;
  for (let c = 0; c < customers; c++) {
    const ts = T0 + c * 10;
    store.setNow(ts + 60_000);
    const cust = store.getOrCreate(`mc${c}`);
    const category = categories[Math.floor(rng.next() * categories.length)]!;
    const visit = beginVisit(cust, { type: "visit", ts, sessionId: `mc${c}-1` }, 1_800_000);
    observe(cust, { type: "visit", ts }, k);
    noteProductView(visit, sku(Math.floor(rng.next() * 60)));
    observe(cust, { type: "view", ts: ts + 1_000, category }, k);
    events += 2;
    if (rng.next() < 0.5) {
      observe(cust, { type: "click", ts: ts + 20_000, category }, k);
      events++;
    }
    if (rng.next() < 0.3) {
      observe(cust, { type: "cart", ts: ts + 40_000, priceCents: 2_500, quantity: 1 }, k);
      events++;
    }
    if ((c & 1023) === 0) store.release();
    if (c % 200_000 === 199_999) {
      sinceCheckpoint = cfg.processor.checkpointEveryEvents;
      checkpointDue(engine);
    }
  }
  store.release();
  engine.watermarkMs = T0 + customers * 10 + 60_000;
}
const seconds = (performance.now() - t0) / 1000;

// What is retained, not what is merely not yet collected: full collections, and a pause in which
// V8's memory reducer hands freed pages back to the OS.
const gc = (globalThis as { gc?: () => void }).gc;
const before = process.memoryUsage();
for (let i = 0; i < 3; i++) {
  gc?.();
  await new Promise((r) => setTimeout(r, 1_000));
}
const m = process.memoryUsage();
const storeMb = engine.features.memoryBytes / 2 ** 20;
const cachedCustomers = engine.features.size;

/** A part written whole into memory, timed. */
function write(part: EngineDelta | EngineBase): { bytes: Uint8Array; seconds: number } {
  const w0 = performance.now();
  const sink = new PartSink(512 * 1024);
  part.step(sink, () => false);
  sink.seal();
  const chunks = sink.take();
  const s = (performance.now() - w0) / 1000;
  return { bytes: concat(chunks), seconds: s };
}

// A checkpoint (the delta since the last periodic one), and a base begun with it: everything.
const full = new EngineDelta(engine, kpi.toJSON());
const firstBase = new EngineBase(engine, full);
const fullOut = write(full);
const baseOut = write(firstBase);

// 1% of the customers get one more event each.
const changed = Math.max(1, Math.floor(customers / 100));
const nowTs = engine.watermarkMs + 60_000;
for (let n = 0; n < changed; n++) {
  const c = Math.floor(rng.next() * customers);
  if (fill === "step") feed(engine, { type: "click", id: `m-more-${n}`, ts: nowTs + n, customerId: `mc${c}`, productId: sku(1), category: categories[0]! });
  else {
    engine.features.setNow(nowTs + n);
    observe(engine.features.getOrCreate(`mc${c}`), { type: "click", ts: nowTs + n }, cfg.features.topCategories);
    if ((n & 1023) === 0) engine.features.release();
  }
}
engine.features.release();

// The checkpoint of that: its pause is the capture of the delta and the start of the next base.
const p0 = performance.now();
const delta = new EngineDelta(engine, kpi.toJSON());
const nextBase = new EngineBase(engine, delta);
const checkpointPauseMs = performance.now() - p0;
const deltaOut = write(delta);
void nextBase;

// Restore from the first base and this delta (what a restart reads), then one event to a decision.
const r0 = performance.now();
const { engine: restored } = restoreEngine(ecfg, [baseOut.bytes, deltaOut.bytes]);
const restoreSeconds = (performance.now() - r0) / 1000;
const d0 = performance.now();
let made = 0;
for (let n = 0; made === 0 && n < 100; n++) made = feed(restored, { type: "view", id: `m-after-${n}`, ts: nowTs + changed + n, customerId: `mc-new-${n}`, productId: sku(n % 60), category: categories[n % categories.length]!, priceCents: 2_500 });
const firstDecisionMs = performance.now() - d0;

const point: MemoryPoint = {
  customers,
  fill,
  events,
  decisions,
  rssMb: m.rss / 2 ** 20,
  heapUsedMb: m.heapUsed / 2 ** 20,
  heapTotalMb: m.heapTotal / 2 ** 20,
  arrayBuffersMb: m.arrayBuffers / 2 ** 20,
  rssBeforeGcMb: before.rss / 2 ** 20,
  storeMb,
  cachedCustomers,
  evictions: engine.features.evictions,
  pending: engine.pending.open,
  seconds,
  fullDeltaMb: fullOut.bytes.length / 2 ** 20,
  fullDeltaWriteSeconds: fullOut.seconds,
  baseMb: baseOut.bytes.length / 2 ** 20,
  baseWriteSeconds: baseOut.seconds,
  changedCustomers: changed,
  checkpointPauseMs,
  checkpointBytes: deltaOut.bytes.length,
  checkpointWriteMs: deltaOut.seconds * 1000,
  restoreSeconds,
  firstDecisionMs,
  restoredCustomers: restored.features.size,
};
console.log(JSON.stringify(point));
