// Simulator mode: the simulator's pure world model and the engine in one process (no NATS). Each
// decision goes back to the world at once; each decision point's ground truth (expected incremental
// margin per arm) is joined with the decision by event id to measure regret against the oracle.
import type { Config } from "../config/index.ts";
import { addPromotion, createEngine, engineConfigFrom, outcomeRecord, promotionFrom, step, type Engine, type EngineConfig } from "../engine/index.ts";
import type { Decision, OutcomeRecord, ShopEvent } from "../events/index.ts";
import { RegretTracker } from "../kpi/index.ts";
import { rngFromKey } from "../random/index.ts";
import { worldFromConfig, type Scenario } from "../../simulator/world/index.ts";

export interface SimPolicy {
  name: string;
  description: string;
  build(cfg: EngineConfig): Engine;
}

/** The engine's key in every report. */
export const ENGINE_POLICY = "engine";

/**
 * The policies of issue #14, each the engine's whole pipeline (eligibility, guards, attribution,
 * learning); only the pick differs: the engine as configured, greedy on learned conversion (never
 * control), uniform, and every promotion as a fixed rule (offered whenever eligible, else control),
 * so stock and budget run out as they would.
 */
export function simPolicies(promotionIds: readonly string[]): SimPolicy[] {
  return [
    { name: ENGINE_POLICY, description: "the engine as configured: Thompson sampling on margin if bought × learned conversion, with control", build: (cfg) => createEngine(cfg) },
    {
      name: "greedy-conversion",
      description: "greedy on the learned conversion probability, never control: ignores uplift, margin and discount cost",
      build: (cfg) => createEngine({ ...cfg, policy: { kind: "greedy" }, bandit: { ...cfg.bandit, reward: "conversion" } }),
    },
    { name: "uniform", description: "uniformly random among the eligible promotions and control", build: (cfg) => createEngine({ ...cfg, policy: { kind: "uniform" } }) },
    ...promotionIds.map(
      (id): SimPolicy => ({ name: `fixed:${id}`, description: `always ${id} when it is eligible, else control`, build: (cfg) => createEngine({ ...cfg, policy: { kind: "fixed", promotionId: id } }) }),
    ),
  ];
}

export interface SimChange {
  /** Decision points answered before the change. */
  atDecision: number;
  simTime: string;
  note: string;
}

export interface SimRun {
  policy: string;
  decisions: number;
  /** Cumulative expected incremental margin (cents) of the chosen arms, of the oracle's, and regret, after decision i (index 0 = before any). Holdout and forced-control decisions add nothing. */
  incremental: Float64Array;
  oracle: Float64Array;
  regret: Float64Array;
  /** Decisions joined with their truth (policy decisions only). */
  joined: number;
  holdout: number;
  changes: SimChange[];
  simHours: number;
  /** Policy decisions joined with their truth, kept for diagnostics (see segmentOracleShare). */
  joinedDetail: JoinedDecision[];
}

/** What a policy decision could choose from, the segment it was made in, and what each arm was worth. */
export interface JoinedDecision {
  index: number;
  segment: string;
  candidates: string[];
  arms: Record<string, number>;
}

export interface SimRunOptions {
  cfg: Readonly<Config>;
  scenario: Scenario;
  decisions: number;
  seed: number;
  sliceMs: number;
  policy: SimPolicy;
  progress?: (text: string) => void;
}

export function runSim(o: SimRunOptions): SimRun {
  const n = o.decisions;
  const startMs = Date.parse(o.cfg.simulator.startTime);
  const world = worldFromConfig(o.cfg, o.scenario, { seed: o.seed });
  const engine = o.policy.build(engineConfigFrom(o.cfg));
  const tracker = new RegretTracker();
  const incremental = new Float64Array(n + 1);
  const oracle = new Float64Array(n + 1);
  const regret = new Float64Array(n + 1);
  const changes: SimChange[] = [];
  const seed = o.cfg.processor.seed;
  let d = 0;
  let holdout = 0;
  const every = Math.max(1, Math.round(n / 10));
  const waiting = new Map<string, { index: number; segment: string; candidates: string[] }>();
  const joinedDetail: JoinedDecision[] = [];
  while (d < n) {
    for (const out of world.advance(world.nowMs + o.sliceMs)) {
      if (out.kind === "event") {
        // The N-th decision ends the run; later events of the slice are not processed.
        if (d >= n) continue;
        for (const eff of step(engine, out.event, rngFromKey(seed, out.event.id))) {
          if (eff.kind !== "decision") continue;
          const dec = eff.decision;
          d++;
          if (dec.holdout) holdout++;
          world.onDecision({ id: dec.id, eventId: dec.eventId, promotionId: dec.promotionId, offer: dec.offer });
          tracker.onDecision(dec);
          if (!dec.holdout && dec.reason === undefined) waiting.set(dec.eventId, { index: d, segment: dec.segment, candidates: dec.explanation.candidates.map((c) => c.promotionId) });
          if (d % every === 0) o.progress?.(`${o.scenario.name} ${o.policy.name}: ${d}/${n} decisions`);
          if (d >= n) break;
        }
      } else if (out.kind === "truth") {
        tracker.onTruth(out.truth);
        const w = waiting.get(out.truth.eventId);
        if (w) {
          waiting.delete(out.truth.eventId);
          joinedDetail.push({ ...w, arms: out.truth.arms });
        }
      }
      else if (out.kind === "promotion") addPromotion(engine, promotionFrom(out.promotion));
      else if (!out.text.startsWith("scenario ")) changes.push({ atDecision: d, simTime: new Date(world.nowMs).toISOString(), note: out.text });
      const st = tracker.state;
      incremental[d] = st.incrementalMargin;
      oracle[d] = st.oracleMargin;
      regret[d] = st.cumulativeRegret;
    }
  }
  return { policy: o.policy.name, decisions: d, incremental, oracle, regret, joined: tracker.state.decisions, holdout, changes, simHours: (world.nowMs - startMs) / 3_600_000, joinedDetail };
}

/** A simulated shop's log under the configuration (what a live shop's streams hold), in process. */
export interface SimLog {
  events: ShopEvent[];
  decisions: Map<string, Decision>;
  outcomes: Map<string, OutcomeRecord>;
}

/**
 * Runs the world and the engine as configured for `decisions` decisions (and `tailMs` more), keeping what the shop's
 * streams would hold: every event in order, every decision (by event id) and every outcome (by
 * decision id). The what-if evaluation reads such a log (src/eval/whatif.ts).
 */
export function simLog(cfg: Readonly<Config>, scenario: Scenario, seed: number, decisions: number, tailMs = 0, sliceMs = 1000): SimLog {
  const world = worldFromConfig(cfg, scenario, { seed });
  const engine = createEngine(engineConfigFrom(cfg));
  const log: SimLog = { events: [], decisions: new Map(), outcomes: new Map() };
  let d = 0;
  // After the n-th decision the shop goes on for `tailMs` (its decisions logged too), so the first n
  // decisions' attribution windows can end and their outcomes be known.
  let endMs = Infinity;
  while (world.nowMs < endMs) {
    for (const out of world.advance(world.nowMs + sliceMs)) {
      if (out.kind === "promotion") addPromotion(engine, promotionFrom(out.promotion));
      if (out.kind !== "event") continue;
      log.events.push(out.event);
      for (const eff of step(engine, out.event, rngFromKey(cfg.processor.seed, out.event.id))) {
        if (eff.kind === "decision") {
          if (++d === decisions) endMs = world.nowMs + tailMs;
          log.decisions.set(eff.decision.eventId, eff.decision);
          world.onDecision({ id: eff.decision.id, eventId: eff.decision.eventId, promotionId: eff.decision.promotionId, offer: eff.decision.offer });
        } else if (eff.kind === "outcome") log.outcomes.set(eff.outcome.decisionId, outcomeRecord(eff.outcome));
      }
    }
  }
  return log;
}
