// The decide request (issue 22): POST /api/decide on the dashboard server (its own process, as
// `npm run server` starts it) against the live processor, while a background feed of shoppers' events
// runs at 5,000 events/s. Open loop: requests go out on a fixed schedule, not after answers, and each
// latency runs from the moment the request was due (feed.ts explains why). Then five times the
// highest rate: how many are shed (503 at once), and whether the event stream's own decisions slow.
import { build as buildHistogram, type Histogram } from "hdr-histogram-js";
import { PipelinedPublisher } from "../src/io/nats/index.ts";
import { spawnPart } from "./children.ts";
import type { BenchContext } from "./context.ts";
import { DecisionWatch, runFeed, type LatencySummary } from "./feed.ts";
import { round, sleep } from "./stats.ts";

export const DECIDE_RATES = [100, 1000] as const;
const OVERLOAD_FACTOR = 5;
const BACKGROUND_PER_SEC = 5000;

export interface DecideApiPhase {
  offeredPerSec: number;
  sent: number;
  /** Answers by kind: a decision, no decision (not a decision point), timeout, shed (503), other errors. */
  decided: number;
  noDecision: number;
  timeouts: number;
  shed: number;
  errors: number;
  /** Latency of every answer that was not shed, from the scheduled send (ms). */
  latencyMs: LatencySummary;
  /** Latency of the 503s, from the scheduled send (ms). */
  shedLatencyMs: LatencySummary | undefined;
  /** The background feed's own decisions during the phase: publish → decision p99 (ms). */
  backgroundP99Ms: number;
}

export interface DecideApiResult {
  phases: DecideApiPhase[];
  /** Answers in the overload phase that were 503. */
  shedShare: number;
}

function histogram(): Histogram {
  return buildHistogram({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 2 });
}

function summary(h: Histogram): LatencySummary {
  const ms = (us: number) => round(us / 1000, 2);
  return { p50: ms(h.getValueAtPercentile(50)), p99: ms(h.getValueAtPercentile(99)), p999: ms(h.getValueAtPercentile(99.9)), max: ms(h.maxValue) };
}

export async function benchDecideApi(ctx: BenchContext): Promise<DecideApiResult> {
  await ctx.liveProcessor();
  const { server } = await ctx.nats();
  const srv = await spawnPart("server", { natsUrl: server.url, overlay: ctx.overlay({ server: { port: 0 } }), nodeFlags: ctx.nodeFlags() });
  const seconds = ctx.opts.quick ? 2 : 10;
  const overloadSeconds = ctx.opts.quick ? 1 : 5;
  const rates = [...DECIDE_RATES, DECIDE_RATES[DECIDE_RATES.length - 1]! * OVERLOAD_FACTOR];
  const url = new URL("api/decide", srv.url!);
  const pub = new PipelinedPublisher(await ctx.connect("bench-decide-api-feed"), ctx.cfg.simulator.maxInFlightPublishes);
  const watch = new DecisionWatch(await ctx.connect("bench-decide-api-watch"), ctx.cfg.nats.subjectPrefix);
  try {
    const phases: DecideApiPhase[] = [];
    let n = 0;
    for (const [k, rate] of rates.entries()) {
      const secs = k < DECIDE_RATES.length ? seconds : overloadSeconds;
      // The background feed runs beside each phase, for as long as its requests are sent.
      const background = runFeed(pub, watch, ctx.events().take(BACKGROUND_PER_SEC * secs), BACKGROUND_PER_SEC);
      const lat = histogram();
      const shedLat = histogram();
      const counts = { sent: 0, decided: 0, noDecision: 0, timeouts: 0, shed: 0, errors: 0 };
      const inFlight: Promise<void>[] = [];
      const t0 = performance.now() + 5;
      const count = rate * secs;
      for (let i = 0; i < count; ) {
        const now = performance.now();
        while (i < count && t0 + (i * 1000) / rate <= now) {
          const due = t0 + (i * 1000) / rate;
          const id = `bench-decide-${process.pid}-${++n}`;
          const body = JSON.stringify({ type: "view", id, customerId: `bdc-${n}`, sessionId: `bds-${n}`, productId: `sku-${String(n % 40).padStart(3, "0")}`, category: "home", priceCents: 2_500 });
          counts.sent++;
          inFlight.push(
            // (A request still unanswered after 5 s counts as an error: an overloaded server must not hold the bench.)
            fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body, signal: AbortSignal.timeout(5_000) })
              .then(async (r) => {
                const a = (await r.json()) as { decision?: unknown; reason?: string };
                const us = Math.max(1, Math.round((performance.now() - due) * 1000));
                if (r.status === 503) {
                  counts.shed++;
                  shedLat.recordValue(us);
                  return;
                }
                lat.recordValue(us);
                if (r.status !== 200) counts.errors++;
                else if (a.decision) counts.decided++;
                else if (a.reason === "timeout") counts.timeouts++;
                else counts.noDecision++;
              })
              .catch(() => void counts.errors++),
          );
          i++;
        }
        await sleep(1);
      }
      await Promise.all(inFlight);
      const bg = await background;
      phases.push({
        offeredPerSec: rate,
        ...counts,
        latencyMs: summary(lat),
        shedLatencyMs: counts.shed ? summary(shedLat) : undefined,
        backgroundP99Ms: bg.latencyMs.p99,
      });
      await sleep(1_000);
    }
    const over = phases[phases.length - 1]!;
    return { phases, shedShare: over.sent ? over.shed / over.sent : 0 };
  } finally {
    watch.close();
    await srv.stop().catch(() => srv.kill());
  }
}
