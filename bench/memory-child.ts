// One memory point (issue #7 §4), in a fresh process so its RSS is its own: the processor's state
// (engine and KPI accumulator, as src/processor holds them, with config/default.json's bounds: the
// feature cache capped at features.maxCustomers, recentEventIds, attribution.maxPending) after the
// events of N distinct customers. Driven in process, without NATS: 1M customers through the bus would
// take minutes just to publish (README "Benchmarks" says so). Each event goes through the processor's
// decode (JSON bytes → validated object) and step(), as in Processor.handle.
//
// The events: customer c arrives at c × 100 ms of event time (1M customers span ~28 hours, so the
// 30-minute web attribution window closes as it would and the idle TTL of 48 h does not empty the
// cache), with a view, a visit (a decision point), and, by a seeded coin, a click (50%), a cart (30%)
// and a purchase (5%) within the next minute.
//
// Usage: node --expose-gc --import tsx bench/memory-child.ts <customers>; prints one JSON line.
import { loadConfig } from "../src/config/index.ts";
import { createEngine, engineConfigFrom, EngineSnapshot, engineToJSON, step } from "../src/engine/index.ts";
import { decodeEvent, encodeEvent, type ShopEvent } from "../src/events/index.ts";
import { buildSnapshot, KpiAccumulator } from "../src/kpi/index.ts";
import { rngFromKey, rngFromSeed } from "../src/random/index.ts";

export interface MemoryPoint {
  customers: number;
  events: number;
  decisions: number;
  rssMb: number;
  heapUsedMb: number;
  /** Outside the JS heap: mostly the features' per-customer Int32Array windows. */
  arrayBuffersMb: number;
  /** RSS right after the run, before the collections and the pause. */
  rssBeforeGcMb: number;
  cachedCustomers: number;
  evictions: number;
  pending: number;
  seconds: number;
  /** What a checkpoint stops the processor's loop for at this state (EngineSnapshot's start), ms. */
  checkpointPauseMs: number;
  /**
   * What serialising the whole state costs (engineToJSON + JSON.stringify), ms, which the processor
   * spreads over slices beside its loop; measured after the RSS so its garbage does not count.
   */
  checkpointSerializeMs: number;
  checkpointMb: number;
}

const customers = Number(process.argv[2]);
if (!Number.isInteger(customers) || customers <= 0) {
  console.error("usage: memory-child.ts <customers>");
  process.exit(2);
}

const cfg = loadConfig({ env: {} });
const engine = createEngine(engineConfigFrom(cfg));
const kpi = new KpiAccumulator();
const rng = rngFromSeed(42);
const categories = cfg.simulator.categories;
const T0 = Date.parse(cfg.simulator.startTime);
let events = 0;
let decisions = 0;

function feed(ev: ShopEvent): void {
  const decoded = decodeEvent(encodeEvent(ev), cfg.processor.maxEventBytes);
  if (!decoded.ok) throw new Error(`bench event rejected: ${decoded.detail}`);
  events++;
  for (const eff of step(engine, decoded.value, rngFromKey(cfg.processor.seed, ev.id))) {
    if (eff.kind === "decision") {
      decisions++;
      kpi.onDecision(eff.decision);
    } else if (eff.kind === "outcome") kpi.onOutcome(eff.outcome);
    else kpi.onDeadLetter(eff.reason);
  }
}

const t0 = performance.now();
for (let i = 0; i < 60; i++) feed({ type: "inventory", id: `m-inv-${i}`, ts: T0, productId: `sku-${String(i).padStart(3, "0")}`, category: categories[i % categories.length]!, stock: 1_000_000, priceCents: 1_000 + 100 * i, costCents: 600 + 60 * i });
// Events come out in event-time order: each customer's events are spread over a minute and the next
// customer arrives 100 ms later, so a small window of pending events is kept sorted by time.
let queue: ShopEvent[] = [];
for (let c = 0; c < customers; c++) {
  const ts = T0 + c * 100;
  const customerId = `mc${c}`;
  const category = categories[Math.floor(rng.next() * categories.length)]!;
  const productId = `sku-${String(Math.floor(rng.next() * 60)).padStart(3, "0")}`;
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
    for (const e of ready) feed(e);
  }
}
const seconds = (performance.now() - t0) / 1000;
// What is retained, not what is merely not yet collected: full collections, and a pause in which
// V8's memory reducer hands freed pages back to the OS (without it RSS stayed ~2.5× the heap).
const gc = (globalThis as { gc?: () => void }).gc;
const before = process.memoryUsage();
for (let i = 0; i < 3; i++) {
  gc?.();
  await new Promise((r) => setTimeout(r, 1_000));
}
const m = process.memoryUsage();
const snap = buildSnapshot(engine, kpi, Date.now());
// What stops the processor's loop at a checkpoint (EngineSnapshot: copy the small parts, list the
// large ones), then what the whole serialisation costs (done in slices beside the loop).
const p0 = performance.now();
const snapshot = new EngineSnapshot(engine);
const checkpointPauseMs = performance.now() - p0;
snapshot.json();
const c0 = performance.now();
const checkpointChars = JSON.stringify({ engine: engineToJSON(engine), kpi: kpi.toJSON() }).length;
const checkpointSerializeMs = performance.now() - c0;
const point: MemoryPoint = {
  customers,
  events,
  decisions,
  rssMb: m.rss / 2 ** 20,
  heapUsedMb: m.heapUsed / 2 ** 20,
  arrayBuffersMb: m.arrayBuffers / 2 ** 20,
  rssBeforeGcMb: before.rss / 2 ** 20,
  cachedCustomers: snap.cache.customers,
  evictions: snap.cache.evictions,
  pending: snap.pending,
  seconds,
  checkpointPauseMs,
  checkpointSerializeMs,
  checkpointMb: checkpointChars / 2 ** 20,
};
console.log(JSON.stringify(point));
