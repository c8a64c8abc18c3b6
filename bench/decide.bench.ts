// decide() cost per call: one decision point (a product view, the default) through the engine's
// `step`, the same path the processor runs, with the configured model (logistic) after it has learned
// from its own decisions (STYLE.md rule 14, issues #4 and #14).
//
// What one call includes: the per-event rng (`rngFromKey`, as the processor builds it), the visit and
// trigger bookkeeping, features and segment of the customer, every guard for every promotion, the
// margin if bought of each eligible one, the model's distribution for each, Thompson sampling over
// them plus control, the propensity, the explanation, and the pending attribution entry.
// Two catalogs of promotions: each on one of 8 categories (at a product view about an eighth apply:
// the realistic case), and on everything (every promotion is a candidate: the worst case).
import { loadConfig } from "../src/config/index.ts";
import { createEngine, engineConfigFrom, step, type Engine, type EngineConfig, type Promotion } from "../src/engine/index.ts";
import { rngFromKey, rngFromSeed, type Rng } from "../src/random/index.ts";
import type { ShopEvent } from "../src/events/index.ts";

export const DECIDE_ARM_COUNTS = [5, 50, 500] as const;

export interface DecideBenchOptions {
  /** Fewer learning steps and timed calls: a smoke run, not a measurement to quote. */
  quick?: boolean;
  seed?: number;
  /** "category": each promotion on one category; "all": every promotion applies to every product. */
  scope?: "category" | "all";
  /**
   * The timed views come from this many customers (default: all 20,000, so nearly every view finds its
   * customer outside the store's hot set (features.hotCustomers, 6,144): its record decoded and written
   * back at the event). Fewer customers are not the same decisions: at 1,000, each customer's fifth
   * offer within the hour hits the web frequency cap and 94% of the views were decided as forced
   * control, at a fraction of the cost.
   */
  timedCustomers?: number;
  /**
   * The store's hot set (default: the config's features.hotCustomers). 20,480 keeps all 20,000 customers
   * decoded: the same views and decisions, without the records; the difference is what the compact
   * store costs a decision.
   */
  hotCustomers?: number;
}

const T0 = Date.parse("2026-03-02T08:00:00.000Z");
const CATEGORIES = ["electronics", "home", "garden", "toys", "books", "fashion", "beauty", "sports"];
const CUSTOMERS = 20_000;
const SKUS_PER_CATEGORY = 4;

function promotions(n: number, scope: "category" | "all"): Promotion[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `p${i}`,
    name: `promotion ${i}`,
    kind: i % 2 ? "percent" : "amount",
    ...(i % 2 ? { percentOff: 5 + (i % 10) } : { amountOffCents: 100 + (i % 7) * 50 }),
    ...(scope === "category" ? { category: CATEGORIES[i % CATEGORIES.length]! } : {}),
    channels: ["web", "email"],
    budgetCents: 1e12,
    maxDiscountCents: 2_000,
    startsAtMs: -Infinity,
    endsAtMs: Infinity,
  }));
}

let viewSeq = 0;
function productView(customer: number, ts: number, rng: Rng): ShopEvent {
  const c = Math.floor(rng.next() * CATEGORIES.length);
  const k = Math.floor(rng.next() * SKUS_PER_CATEGORY);
  const id = `view-${++viewSeq}`;
  return { type: "view", id, ts, customerId: `c${customer}`, sessionId: `s-${id}`, productId: `sku-${c}-${k}`, category: CATEGORIES[c]!, priceCents: 2_000 + 500 * k };
}

/**
 * Lets the engine learn from its own decisions: product views of random customers, each followed by a
 * purchase with a hidden probability per arm and category (1–12%, control the lowest), so the model
 * ends up as the live policy leaves it.
 */
function learn(e: Engine, steps: number, ts0: number, rng: Rng): number {
  const truth = new Map<string, number>();
  const p = (arm: string, cat: string) => {
    const k = `${arm}|${cat}`;
    let v = truth.get(k);
    if (v === undefined) truth.set(k, (v = arm === "control" ? 0.02 : 0.01 + 0.11 * rng.next()));
    return v;
  };
  let ts = ts0;
  for (let k = 0; k < steps; k++) {
    ts += 50;
    const view = productView(Math.floor(rng.next() * CUSTOMERS), ts, rng) as Extract<ShopEvent, { type: "view" }>;
    for (const f of step(e, view, rngFromKey(e.cfg.seed, view.id))) {
      if (f.kind !== "decision" || rng.next() >= p(f.decision.promotionId, view.category!)) continue;
      const d = f.decision;
      const buy: ShopEvent = { type: "purchase", id: `buy-${view.id}`, ts: ts + 1, customerId: view.customerId, totalCents: view.priceCents!, items: [{ productId: view.productId!, quantity: 1, priceCents: view.priceCents! }], ...(d.offer ? { promotionId: d.promotionId, decisionId: d.id, discountCents: 0 } : {}) };
      step(e, buy, rngFromKey(e.cfg.seed, buy.id));
    }
  }
  return ts;
}

export function setupDecideBench(n: number, opts: DecideBenchOptions = {}): { e: Engine; ts: number } {
  const base = engineConfigFrom(loadConfig({ env: {} }));
  const features = opts.hotCustomers === undefined ? base.features : { ...base.features, hotCustomers: opts.hotCustomers };
  const cfg: EngineConfig = { ...base, features, promotions: promotions(n, opts.scope ?? "category"), maxPending: 10_000_000 };
  const e = createEngine(cfg);
  const rng = rngFromSeed(opts.seed ?? 1);
  let id = 0;
  const feed = (ev: ShopEvent) => step(e, ev, rngFromKey(cfg.seed, ev.id));
  for (const [i, c] of CATEGORIES.entries())
    for (let k = 0; k < SKUS_PER_CATEGORY; k++) feed({ type: "inventory", id: `inv-${id++}`, ts: T0, productId: `sku-${i}-${k}`, category: c, stock: 1_000_000, priceCents: 2_000 + 500 * k, costCents: 1_200 + 300 * k });
  // Customers with some history: category views, carts, purchases.
  for (let c = 0; c < CUSTOMERS; c++) {
    const customerId = `c${c}`;
    feed({ type: "view", id: `v-${id++}`, ts: T0, customerId, category: CATEGORIES[c % CATEGORIES.length]! });
    if (c % 3 === 0) feed({ type: "cart", id: `k-${id++}`, ts: T0, customerId, productId: `sku-${c % 8}-0`, quantity: 1, priceCents: 2_000 });
    if (c % 4 === 0) feed({ type: "purchase", id: `b-${id++}`, ts: T0, customerId, totalCents: 2_000 });
  }
  const steps = opts.quick ? 3_000 : Math.max(30_000, 60 * n);
  return { e, ts: learn(e, steps, T0, rng) };
}

export interface DecideTiming {
  /** Wall-clock µs per decide, median over the rounds: the figure to quote. */
  medianMicros: number;
  /** The fastest round: the cost without interference from other processes. */
  minMicros: number;
  /** Process CPU time (user + system, all threads) per decide, median: less sensitive to a busy machine. */
  cpuMicros: number;
}

/** Times `rounds` rounds of `calls` decisions each, after a warm-up round. */
function time(e: Engine, ts0: number, calls: number, rounds: number, seed: number, customers = CUSTOMERS): DecideTiming {
  let ts = ts0;
  let n = 0;
  // The events are built before timing (each a new visit, so each is a decision point).
  const rng = rngFromSeed(seed + 1);
  const views = Array.from({ length: calls * (rounds + 1) + 2_000 }, (_, i) => productView(i % customers, 0, rng));
  const run = (count: number): { wall: number; cpu: number } => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let k = 0; k < count; k++) {
      ts += 10;
      const ev = views[n++ % views.length]!;
      step(e, { ...ev, ts }, rngFromKey(seed, ev.id));
    }
    const wall = ((performance.now() - t0) * 1000) / count;
    const c = process.cpuUsage(c0);
    return { wall, cpu: (c.user + c.system) / count };
  };
  run(Math.min(2_000, calls)); // warm-up: let the JIT settle
  const r = Array.from({ length: rounds }, () => run(calls));
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { medianMicros: median(r.map((x) => x.wall)), minMicros: Math.min(...r.map((x) => x.wall)), cpuMicros: median(r.map((x) => x.cpu)) };
}

export type DecideTimingByArms = Record<"5" | "50" | "500", DecideTiming>;

/** decide() cost at 5, 50 and 500 promotions (or the given counts), promotions of the given scope. */
export function benchDecide(opts: DecideBenchOptions & { arms?: readonly number[] } = {}): DecideTimingByArms {
  const out = {} as DecideTimingByArms;
  for (const n of opts.arms ?? DECIDE_ARM_COUNTS) {
    const { e, ts } = setupDecideBench(n, opts);
    const calls = opts.quick ? 500 : n >= 500 ? 2_000 : 5_000;
    out[String(n) as keyof DecideTimingByArms] = time(e, ts, calls, opts.quick ? 3 : 9, e.cfg.seed, opts.timedCustomers);
  }
  return out;
}
