// Simulator mode: the simulator's pure world model and the engine in one process (no NATS). Each
// decision goes back to the world at once; each decision point's ground truth (expected incremental
// margin per arm) is joined with the decision by event id to measure regret against the oracle.
import type { BaselineRule, Config } from "../config/index.ts";
import { addPromotion, createEngine, engineConfigFrom, outcomeRecord, promotionFrom, step, type Engine, type EngineConfig, type SafeConfig } from "../engine/index.ts";
import { copyId, type Decision, type OutcomeRecord, type ShopEvent } from "../events/index.ts";
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

/** The baseline evaluation's policy names (issue 23): the learner alone, the two safe-start modes, and the shop's rule itself. */
export const SAFE_POLICIES = ["engine", "apprentice", "conservative", "baseline"] as const;

/**
 * Safe start against a shop's rule (issue 23, `--baseline`), each through the engine's whole pipeline:
 * the engine alone (learner mode, the rule's arm reported on each decision), apprentice (graduating to
 * conservative, as configured), conservative from the start, and the rule itself (an apprentice that
 * neither explores nor graduates). The configuration's policy settings apply (α, exploration share,
 * graduateAfter); the rule replaces policy.baseline.
 */
export function safePolicies(rule: BaselineRule): SimPolicy[] {
  const safe = (cfg: EngineConfig, over: Partial<SafeConfig>): EngineConfig => ({ ...cfg, safe: { ...cfg.safe!, baseline: rule, ...over } });
  return [
    { name: ENGINE_POLICY, description: "the engine alone (learner mode), the rule's arm reported on each decision", build: (cfg) => createEngine(safe(cfg, { mode: "learner", report: true })) },
    { name: "apprentice", description: `apprentice: ${rule.name} serves, a share explored, until the engine's doubly robust evidence graduates it (to ${"conservative"} by default)`, build: (cfg) => createEngine(safe(cfg, { mode: "apprentice" })) },
    { name: "conservative", description: `conservative from the start: the engine decides unless its worst case would take the margin below (1 − α) × ${rule.name}'s`, build: (cfg) => createEngine(safe(cfg, { mode: "conservative" })) },
    { name: "baseline", description: `the shop's rule ${rule.name} alone`, build: (cfg) => createEngine(safe(cfg, { mode: "apprentice", explore: 0, graduate: false })) },
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
  /**
   * Safe start (decisions that report the shop's rule's arm): per decision number, the total expected
   * margin (the simulator's truth: no promotion's margin plus the arm's incremental) of the arm served
   * and of the rule's arm at the same decision point; every decision, holdout and forced control
   * included. The decision number at which an apprentice graduated (null: never), and decisions served
   * by the rule (fallbacks of the conservative bound, the apprentice's unexplored ones) among the
   * decisions a policy made (`reported`: forced controls left out).
   */
  safe?: { served: Float64Array; baseline: Float64Array; graduatedAt: number | null; servedByBaseline: number; reported: number };
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
  /**
   * Keep `joinedDetail` (default true). A report reads it of one policy only (the engine's): the others'
   * cost memory for nothing (about 100 MB a policy at 50,000 decisions).
   */
  detail?: boolean;
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
  const keepDetail = o.detail ?? true;
  // Safe start: each reported decision's arm and the rule's, until its truth comes.
  const safe = { served: new Float64Array(n + 1), baseline: new Float64Array(n + 1), graduatedAt: null as number | null, servedByBaseline: 0, reported: 0 };
  const safeWaiting = new Map<string, { index: number; served: string; baseline: string }>();
  while (d < n) {
    for (const out of world.advance(world.nowMs + o.sliceMs)) {
      if (out.kind === "event") {
        // The N-th decision ends the run; later events of the slice are not processed.
        if (d >= n) continue;
        for (const eff of step(engine, out.event, rngFromKey(seed, out.event.id))) {
          if (eff.kind === "mode") {
            // What the processor does with a graduation: the mode event goes into the log, right after
            // this event here (live, a few events later; the mode changes where it stands).
            step(engine, { type: "mode", id: copyId(`grad-${eff.eventId}`, "p", 0), ts: eff.ts, mode: eff.mode, reason: eff.reason, since: eff.since, evidence: eff.evidence }, rngFromKey(seed, `grad-${eff.eventId}`));
            if (engine.safe.mode === eff.mode && safe.graduatedAt === null) safe.graduatedAt = d;
            continue;
          }
          if (eff.kind !== "decision") continue;
          const dec = eff.decision;
          d++;
          if (dec.policy || dec.reason === "nothing-eligible") {
            // Forced control (nothing eligible) is nobody's choice: counted as reported, not as served by the rule.
            if (dec.policy && dec.reason === undefined) {
              safe.reported++;
              if (dec.policy.served === "baseline") safe.servedByBaseline++;
            }
            safeWaiting.set(dec.eventId, { index: d, served: dec.promotionId, baseline: dec.policy?.baseline ?? dec.promotionId });
          }
          if (dec.holdout) holdout++;
          world.onDecision({ id: dec.id, eventId: dec.eventId, promotionId: dec.promotionId, offer: dec.offer });
          tracker.onDecision(dec);
          if (keepDetail && !dec.holdout && dec.reason === undefined) waiting.set(dec.eventId, { index: d, segment: dec.segment, candidates: dec.explanation.candidates.map((c) => c.promotionId) });
          if (d % every === 0) o.progress?.(`${o.scenario.name} ${o.policy.name}: ${d}/${n} decisions`);
          if (d >= n) break;
        }
      } else if (out.kind === "truth") {
        tracker.onTruth(out.truth);
        const sw = safeWaiting.get(out.truth.eventId);
        if (sw) {
          safeWaiting.delete(out.truth.eventId);
          // An arm the world no longer offers (its budget or stock gone there) earns what no promotion does.
          const total = (arm: string) => out.truth.baseMargin + (out.truth.arms[arm] ?? 0);
          safe.served[sw.index] = total(sw.served);
          safe.baseline[sw.index] = total(sw.baseline);
        }
        const w = waiting.get(out.truth.eventId);
        if (w) {
          waiting.delete(out.truth.eventId);
          // The candidates' truths only: the world's holds every promotion's (most not candidates there).
          const arms: Record<string, number> = {};
          for (const c of w.candidates) {
            const v = out.truth.arms[c];
            if (v !== undefined) arms[c] = v;
          }
          joinedDetail.push({ ...w, arms });
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
  return {
    policy: o.policy.name,
    decisions: d,
    incremental,
    oracle,
    regret,
    joined: tracker.state.decisions,
    holdout,
    changes,
    simHours: (world.nowMs - startMs) / 3_600_000,
    joinedDetail,
    ...(safe.reported > 0 ? { safe } : {}),
  };
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
