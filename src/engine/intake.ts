// Intake checks of every shop event before it reaches the engine's state: lateness behind the
// watermark, far-future clocks, duplicate ids; then the watermark moves (expiring what it passes).
import { PS_ERR_EVENT, type ShopEvent } from "../events/index.ts";
import type { Engine } from "./state.ts";
import type { Effect } from "./types.ts";

/**
 * Far-future events in a row, agreeing on the time and from as many customers, after which the
 * watermark jumps to them. One event stamped far ahead is a bad clock and is dead-lettered; but if
 * every event is that far ahead, the stream has moved on (a quiet night, a replay with a gap) and
 * refusing them all would stop the engine for good. From as many customers: one shopper's browser with
 * a wrong clock sends a run of its own (three page views), and following it once moved the engine's
 * clock ahead for good, every correctly timed event after it refused as late.
 */
export const FAR_FUTURE_RUN_TO_JUMP = 3;

/** Whether the event may enter; if not, its dead letter is in `out`. Remembers its id when it may. */
export function admit(e: Engine, ev: ShopEvent, out: Effect[]): boolean {
  const f = e.cfg.features;
  if (e.watermarkMs > 0 && ev.ts < e.watermarkMs - f.allowedLatenessMs) {
    e.counters.late++;
    out.push({ kind: "deadletter", reason: PS_ERR_EVENT.Late, detail: `ts ${ev.ts} is ${e.watermarkMs - ev.ts} ms behind the newest event (allowed ${f.allowedLatenessMs})` });
    return false;
  }
  if (e.watermarkMs > 0 && ev.ts > e.watermarkMs + f.maxFutureSkewMs) {
    // A run counts only events that agree with each other (within the allowed lateness of the run's
    // first): a stream that moved on does; scattered bad clocks (fuzzed input) do not.
    if (e.farFutureRun > 0 && Math.abs(ev.ts - e.farFutureAnchorMs) > f.allowedLatenessMs) e.farFutureRun = 0;
    if (e.farFutureRun === 0) {
      e.farFutureAnchorMs = ev.ts;
      e.farFutureSources = [];
    }
    // A customer counts once in a run (an event of no customer, stock, counts by its own id).
    const source = "customerId" in ev ? `c:${ev.customerId}` : `e:${ev.id}`;
    if (!e.farFutureSources.includes(source)) {
      e.farFutureSources.push(source);
      e.farFutureRun++;
    }
    if (e.farFutureRun < FAR_FUTURE_RUN_TO_JUMP) {
      e.counters.farFuture++;
      out.push({ kind: "deadletter", reason: PS_ERR_EVENT.FarFuture, detail: `ts ${ev.ts} is ${ev.ts - e.watermarkMs} ms ahead of the newest event (allowed ${f.maxFutureSkewMs})` });
      return false;
    }
  }
  e.farFutureRun = 0;
  if (e.farFutureSources.length) e.farFutureSources = [];
  if (e.recentIds.has(ev.id)) {
    e.counters.duplicates++;
    out.push({ kind: "deadletter", reason: PS_ERR_EVENT.Duplicate, detail: `event id ${ev.id} was already processed` });
    return false;
  }
  e.recentIds.add(ev.id);
  e.counters.events++;
  return true;
}

/**
 * Moves the watermark to the event's time when it is the newest. Idle customers are dropped when
 * touched or evicted; a sweep every eighth of the TTL (event time) also drops those never seen again,
 * so memory and the expiration count follow the TTL. Returns whether it moved (the caller then expires
 * what the watermark passed).
 */
export function advanceWatermark(e: Engine, ts: number): boolean {
  if (ts <= e.watermarkMs) return false;
  e.watermarkMs = ts;
  e.features.setNow(ts);
  if (ts - e.lastPurgeMs >= e.cfg.features.idleTtlMs / 8) {
    e.lastPurgeMs = ts;
    e.features.purgeStale();
  }
  return true;
}
