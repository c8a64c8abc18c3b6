// Which logged decisions the what-if evaluation counts: those whose attribution window (plus the
// allowed lateness) had ended by the time the shop's log reached, as the processor tells time. One
// event with a bad clock (a shopper's browser two days ahead, past features.maxFutureSkewSec) is dead-lettered by the processor and moves
// no clock; the evaluation took the log's newest timestamp as its end, so that one event made every
// decision still open "mature": those that had converted early counted with their purchase, those
// still waiting to expire were left out, and the logged value rose with the early conversions.
import { describe, expect, it } from "vitest";
import { loadConfig } from "../config/index.ts";
import type { ShopEvent } from "../events/index.ts";
import { loadScenario } from "../../simulator/world/index.ts";
import { simLog } from "./sim.ts";
import { evaluateCandidates } from "./whatif.ts";

describe("what-if: a decision is past its window by the processor's clock, not by the log's newest timestamp", () => {
  // 5-minute web windows plus 1 minute of lateness, a log cut 8 minutes after its 800th decision: the
  // newest decisions are still open (as in whatif-counts.test.ts).
  const base = loadConfig({ env: {}, overrides: { attribution: { maxPending: 1400, windowSecByChannel: { web: 300 } }, features: { allowedLatenessSec: 60 } } });
  const log = simLog(base, loadScenario("steady"), 7, 800, 8 * 60_000);
  const last = log.events[log.events.length - 1]!;
  const ahead: ShopEvent = { type: "view", id: "bad-clock-1", ts: last.ts + 2 * base.features.maxFutureSkewSec * 1000, customerId: "c-bad-clock", productId: "sku-001" };
  const withBadClock = { ...log, events: [...log.events, ahead] };
  const candidates = [{ name: "same", overlay: {}, cfg: base }];

  it("one event two days ahead (dead-lettered by the processor) changes neither the decisions evaluated nor the value", () => {
    const plain = evaluateCandidates(log, base, candidates);
    const bad = evaluateCandidates(withBadClock, base, candidates);
    expect(plain.logged.openDecisions).toBeGreaterThan(0);
    expect(bad.logged.openDecisions).toBe(plain.logged.openDecisions);
    expect(bad.logged.noOutcome).toBe(plain.logged.noOutcome);
    expect(bad.logged.rows).toBe(plain.logged.rows);
    expect(bad.logged.value).toBe(plain.logged.value);
    expect(bad.candidates.same!.dr.value).toBe(plain.candidates.same!.dr.value);
  });
});
