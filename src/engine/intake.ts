// Intake checks of every shop event before it reaches the engine's state: lateness behind the
// watermark, far-future clocks, duplicate ids; then the watermark moves (expiring what it passes).
import { PS_ERR_EVENT, type ShopEvent } from "../events/index.ts";
import type { ClockLeader, Engine } from "./state.ts";
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
  if (!e.recentIds.tryAdd(ev.id)) {
    e.counters.duplicates++;
    out.push({ kind: "deadletter", reason: PS_ERR_EVENT.Duplicate, detail: `event id ${ev.id} was already processed` });
    return false;
  }
  e.counters.events++;
  return true;
}

/**
 * Distinct customers a jump of the clock waits for. One customer's device with a clock ahead by less
 * than features.maxFutureSkewSec (a day) was taken at its word: a single view stamped 23 h ahead moved
 * the engine's clock, and every correctly timed event after it was dead-lettered as late, the open
 * decisions expired. Now an event may move the clock by up to the allowed lateness on its own (a
 * correctly timed event then still counts: it is at most that far behind); a larger jump goes only as
 * far as three customers' events have reached (the third newest customer's newest event), as a
 * far-future run needs three customers (FAR_FUTURE_RUN_TO_JUMP). Until three customers have been seen
 * the newest is taken, so a stream of one or two customers keeps time as before; a stream that moved on
 * (a quiet night) jumps at its third customer.
 */
export const CLOCK_QUORUM = FAR_FUTURE_RUN_TO_JUMP;

/**
 * The time the watermark may move to at this admitted event. A customer's event updates the newest
 * customers (`clockLeaders`, at most CLOCK_QUORUM; nothing is allocated but for a customer entering
 * them); an event of no customer (inventory, stock: the shop's own systems) is taken at its word.
 */
export function clockAt(e: Engine, ev: ShopEvent): number {
  if (!("customerId" in ev)) return ev.ts;
  const quorum = noteLeader(e.clockLeaders, ev.customerId, ev.ts);
  const jump = ev.ts - e.watermarkMs;
  // Beyond maxFutureSkew it was admitted by a far-future run, which three customers agreed on already.
  return jump <= e.cfg.features.allowedLatenessMs || jump > e.cfg.features.maxFutureSkewMs ? ev.ts : quorum;
}

/** Puts the customer's event among the newest customers (newest first); returns the quorum's time. */
function noteLeader(L: ClockLeader[], customerId: string, ts: number): number {
  // A loop, not findIndex: no closure per event on the hot path.
  let i = 0;
  while (i < L.length && L[i]!.customerId !== customerId) i++;
  if (i < L.length) {
    if (ts > L[i]!.ts) L[i]!.ts = ts;
    else i = -1;
  } else if (L.length < CLOCK_QUORUM) i = L.push({ customerId, ts }) - 1;
  else if (ts > L[L.length - 1]!.ts) L[(i = L.length - 1)] = { customerId, ts };
  else i = -1;
  // Back into order (at most two places).
  for (; i > 0 && L[i]!.ts > L[i - 1]!.ts; i--) {
    const t = L[i - 1]!;
    L[i - 1] = L[i]!;
    L[i] = t;
  }
  return L.length < CLOCK_QUORUM ? L[0]!.ts : L[CLOCK_QUORUM - 1]!.ts;
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
