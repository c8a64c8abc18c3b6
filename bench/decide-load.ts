// The decide request's open-loop load (bench/decide-load-child.ts runs it in a process of its own):
// POST /api/decide at a fixed rate, each latency from the moment the request was due (feed.ts says why).
import { Agent, request } from "node:http";
import { build as buildHistogram, type Histogram } from "hdr-histogram-js";
import type { LatencySummary } from "./feed.ts";
import { round, sleep } from "./stats.ts";

export interface LoadPhase {
  ratePerSec: number;
  seconds: number;
}

export interface LoadResult {
  offeredPerSec: number;
  sent: number;
  /** Answers: a decision, no decision (not a decision point), timeout, shed (503), other errors (incl. no answer within 5 s). */
  decided: number;
  noDecision: number;
  timeouts: number;
  shed: number;
  errors: number;
  /** From the scheduled send to the answer, every request but the shed ones (`shedLatencyMs`); an error at the time it was given up. */
  latencyMs: LatencySummary;
  shedLatencyMs: LatencySummary | undefined;
  /** The latest the generator ever was behind its schedule, ms. */
  maxSendLagMs: number;
}

export const REQUEST_TIMEOUT_MS = 5_000;

function histogram(): Histogram {
  return buildHistogram({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 2 });
}

function summary(h: Histogram): LatencySummary {
  const ms = (us: number) => round(us / 1000, 2);
  return { p50: ms(h.getValueAtPercentile(50)), p99: ms(h.getValueAtPercentile(99)), p999: ms(h.getValueAtPercentile(99.9)), max: ms(h.maxValue) };
}

export async function runPhase(url: URL, agent: Agent, phase: LoadPhase, startId: number, requestTimeoutMs = REQUEST_TIMEOUT_MS): Promise<LoadResult> {
  const lat = histogram();
  const shedLat = histogram();
  const c = { sent: 0, decided: 0, noDecision: 0, timeouts: 0, shed: 0, errors: 0 };
  const count = Math.round(phase.ratePerSec * phase.seconds);
  let open = 0;
  let maxLag = 0;
  let allSent = false;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const finished = () => {
    open--;
    if (allSent && open === 0) resolveDone();
  };
  const fire = (due: number, n: number) => {
    const body = JSON.stringify({ type: "view", id: `bench-decide-${process.pid}-${n}`, customerId: `bdc-${n}`, sessionId: `bds-${n}`, productId: `sku-${String(n % 40).padStart(3, "0")}`, category: "home", priceCents: 2_500 });
    open++;
    c.sent++;
    const req = request(url, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d: Buffer) => chunks.push(d));
      res.on("end", () => {
        const us = Math.max(1, Math.round((performance.now() - due) * 1000));
        if (res.statusCode === 503) {
          c.shed++;
          shedLat.recordValue(us);
        } else {
          lat.recordValue(us);
          try {
            const a = JSON.parse(Buffer.concat(chunks).toString()) as { decision?: unknown; reason?: string };
            if (res.statusCode !== 200) c.errors++;
            else if (a.decision) c.decided++;
            else if (a.reason === "timeout") c.timeouts++;
            else c.noDecision++;
          } catch {
            c.errors++;
          }
        }
        finished();
      });
    });
    req.setTimeout(requestTimeoutMs, () => req.destroy(new Error("no answer")));
    // No answer within the timeout, or a connection that failed: its latency is at least the time
    // waited, and it counts so (left out, the requests that waited longest vanished from p99).
    req.on("error", () => {
      c.errors++;
      lat.recordValue(Math.max(1, Math.round((performance.now() - due) * 1000)));
      finished();
    });
    req.end(body);
  };
  const t0 = performance.now() + 2;
  let i = 0;
  while (i < count) {
    const now = performance.now();
    while (i < count && t0 + (i * 1000) / phase.ratePerSec <= now) {
      const due = t0 + (i * 1000) / phase.ratePerSec;
      maxLag = Math.max(maxLag, now - due);
      fire(due, startId + i);
      i++;
    }
    await sleep(1);
  }
  allSent = true;
  if (open > 0) await done;
  return { offeredPerSec: phase.ratePerSec, ...c, latencyMs: summary(lat), shedLatencyMs: c.shed ? summary(shedLat) : undefined, maxSendLagMs: round(maxLag, 1) };
}
