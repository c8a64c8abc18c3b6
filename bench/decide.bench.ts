// decide() cost per call: one decision point (a web visit) through the engine's `step`, the same path
// the processor runs, with posteriors that have already learned (STYLE.md rule 14, issue #4).
//
// What one call includes: the per-event rng (`rngFromKey`, as the processor builds it), features and
// segment of the customer, every guard for every promotion, Thompson sampling over the eligible ones
// plus control, the propensity estimate, the explanation, and the pending attribution entry.
import { loadConfig } from "../src/config/index.ts";
import { createEngine, engineConfigFrom, step, CONTROL, type Engine, type EngineConfig, type Promotion } from "../src/engine/index.ts";
import { thompsonChoose, type BetaParams } from "../src/bandit/index.ts";
import { rngFromKey, rngFromSeed, type Rng } from "../src/random/index.ts";
import type { ShopEvent } from "../src/events/index.ts";

export const DECIDE_ARM_COUNTS = [5, 50, 500] as const;

export interface DecideBenchOptions {
  /** Fewer learning steps and timed calls: a smoke run, not a measurement to quote. */
  quick?: boolean;
  seed?: number;
}

const T0 = Date.parse("2026-03-02T08:00:00.000Z");
const CATEGORIES = ["electronics", "home", "garden", "toys", "books", "fashion", "beauty", "sports"];
const CUSTOMERS = 20_000;

function promotions(n: number): Promotion[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `p${i}`,
    name: `promotion ${i}`,
    kind: i % 2 ? "percent" : "amount",
    ...(i % 2 ? { percentOff: 10 + (i % 20) } : { amountOffCents: 300 + (i % 7) * 100 }),
    category: CATEGORIES[i % CATEGORIES.length]!,
    channels: ["web", "email"],
    budgetCents: 1e12,
    maxDiscountCents: 2_000,
    startsAtMs: -Infinity,
    endsAtMs: Infinity,
  }));
}

/**
 * Learns the posteriors by running Thompson sampling itself against a hidden Bernoulli world (true
 * conversion 1–12%, a different order per segment), so the arms end up as the live policy leaves them:
 * good arms with many observations, poor ones with few and wide posteriors.
 */
function learn(e: Engine, ids: string[], segments: string[], steps: number, rng: Rng): number {
  const truth = new Map<string, number[]>();
  for (const s of segments) truth.set(s, ids.map(() => 0.01 + 0.11 * rng.next()));
  const params: BetaParams[] = new Array(ids.length);
  let ts = T0;
  for (let k = 0; k < steps; k++) {
    ts += 50;
    const seg = segments[Math.floor(rng.next() * segments.length)]!;
    for (let i = 0; i < ids.length; i++) params[i] = e.arms.posterior(ids[i]!, seg, ts);
    const { index } = thompsonChoose(params, rng);
    const success = rng.next() < truth.get(seg)![index]! ? 1 : 0;
    e.arms.update(ids[index]!, seg, success, ts);
  }
  return ts;
}

export function setupDecideBench(n: number, opts: DecideBenchOptions = {}): { e: Engine; ts: number } {
  const base = engineConfigFrom(loadConfig({ env: {} }));
  const cfg: EngineConfig = { ...base, promotions: promotions(n), maxPending: 10_000_000 };
  const e = createEngine(cfg);
  const rng = rngFromSeed(opts.seed ?? 1);
  let ts = T0;
  let id = 0;
  const feed = (ev: ShopEvent) => step(e, ev, rngFromKey(cfg.seed, ev.id));
  for (const [i, c] of CATEGORIES.entries())
    for (let k = 0; k < 4; k++) feed({ type: "inventory", id: `inv-${id++}`, ts, productId: `sku-${i}-${k}`, category: c, stock: 1_000_000, priceCents: 2_000 + 500 * k, costCents: 1_200 });
  // Customers with some history, so segments differ (new/returning × browser/abandoner).
  for (let c = 0; c < CUSTOMERS; c++) {
    const customerId = `c${c}`;
    feed({ type: "view", id: `v-${id++}`, ts, customerId, category: CATEGORIES[c % CATEGORIES.length]! });
    if (c % 3 === 0) feed({ type: "cart", id: `k-${id++}`, ts, customerId, productId: `sku-${c % 8}-0`, quantity: 1, priceCents: 2_000 });
    if (c % 4 === 0) feed({ type: "purchase", id: `b-${id++}`, ts, customerId, totalCents: 2_000 });
  }
  const segments = ["new|browser", "new|abandoner", "returning|browser", "returning|abandoner"];
  const steps = opts.quick ? 4_000 : Math.max(40_000, 80 * n);
  ts = learn(e, [...e.promotions.keys(), CONTROL], segments, steps, rng);
  return { e, ts };
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
function time(e: Engine, ts0: number, calls: number, rounds: number, seed: number): DecideTiming {
  let ts = ts0;
  let n = 0;
  const run = (count: number): { wall: number; cpu: number } => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let k = 0; k < count; k++) {
      ts += 10;
      const id = `visit-${n}`;
      const ev: ShopEvent = { type: "visit", id, ts, customerId: `c${n++ % CUSTOMERS}`, channel: "web" };
      step(e, ev, rngFromKey(seed, id));
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

/** decide() cost at 5, 50 and 500 promotions (or the given counts). */
export function benchDecide(opts: DecideBenchOptions & { arms?: readonly number[] } = {}): DecideTimingByArms {
  const out = {} as DecideTimingByArms;
  for (const n of opts.arms ?? DECIDE_ARM_COUNTS) {
    const { e, ts } = setupDecideBench(n, opts);
    const calls = opts.quick ? 500 : n >= 500 ? 2_000 : 5_000;
    out[String(n) as keyof DecideTimingByArms] = time(e, ts, calls, opts.quick ? 3 : 9, e.cfg.seed);
  }
  return out;
}
