// A decision as the engine makes it, for tests that publish decisions themselves: made by the engine,
// it stays valid however the decision contract grows.
import { loadConfig } from "../../src/config/index.ts";
import { createEngine, engineConfigFrom, outcomeRecord, step } from "../../src/engine/index.ts";
import type { Decision, OutcomeRecord, ShopEvent } from "../../src/events/index.ts";
import { rngFromKey } from "../../src/random/index.ts";

const T0 = Date.parse("2026-03-02T08:00:00Z");

/** The decision for a scheduled email to one customer; its id is `d-<eventId>`. */
export function engineDecision(eventId: string): Decision {
  const cfg = loadConfig({ env: {} });
  const engine = createEngine(engineConfigFrom(cfg));
  const ev = { type: "send", id: eventId, ts: T0, customerId: `c-${eventId}`, channel: "email" } as ShopEvent;
  for (const eff of step(engine, ev, rngFromKey(cfg.processor.seed, ev.id))) if (eff.kind === "decision") return eff.decision;
  throw new Error("the engine made no decision for a send");
}

/** The outcome of that decision when the customer buys a minute later without the offer: id `o-d-<eventId>`. */
export function engineOutcome(eventId: string): OutcomeRecord {
  const cfg = loadConfig({ env: {} });
  const engine = createEngine(engineConfigFrom(cfg));
  const customerId = `c-${eventId}`;
  const events = [
    { type: "send", id: eventId, ts: T0, customerId, channel: "email" },
    { type: "purchase", id: `p-${eventId}`, ts: T0 + 60_000, customerId, totalCents: 2_000 },
  ] as ShopEvent[];
  for (const ev of events) for (const eff of step(engine, ev, rngFromKey(cfg.processor.seed, ev.id))) if (eff.kind === "outcome") return outcomeRecord(eff.outcome);
  throw new Error("the purchase closed no decision");
}
