// Policies for the replay of a logged experiment. The learning policy is the engine's own: the same
// conversion models (LogisticArms, or the tabular ArmTable), the same amount posterior for spend, the
// same score distributions and `choose` (holdout, Thompson sampling, propensity) as a live decision
// (no second implementation); the rest are the baselines issue #10 asks for.
import { AmountPosterior, ArmTable, DecisionContrast, LogisticArms, ScoreArms, logit, type ArmPrediction, type PosteriorOptions } from "../bandit/index.ts";
import { CONTROL, PolicyScratch, choose, closeSafeIn, createSafeState, drawPolicy, graduationDueIn, openServed, segmentOf, serveWith, setModeIn, type EngineConfig, type Rule, type SafeConfig, type SafeState, type ServedDecision } from "../engine/index.ts";
import type { Rng } from "../random/index.ts";
import type { ReplayChoice, ReplayPolicy } from "./replay.ts";

export type BanditSettings = EngineConfig["bandit"];

export function posteriorOptionsOf(b: BanditSettings): PosteriorOptions {
  return { priorAlpha: b.priorAlpha, priorBeta: b.priorBeta, hierarchyStrength: b.hierarchyStrength, halfLifeMs: b.halfLifeMs };
}

/** Always the same arm. */
export function fixedPolicy(arm: string): ReplayPolicy {
  return {
    name: `fixed:${arm}`,
    choose: () => ({ armId: arm, holdout: false }),
    learn: () => undefined,
  };
}

/** Each arm with equal probability, no learning. */
export function uniformPolicy(arms: readonly string[]): ReplayPolicy {
  return {
    name: "uniform",
    choose: (_ctx, _now, rng) => ({ armId: arms[Math.floor(rng.next() * arms.length)]!, holdout: false }),
    learn: () => undefined,
  };
}

/** A log's context as the logistic model's features (bias first). */
export interface LogFeatures {
  dims: number;
  write(ctx: Readonly<Record<string, number | string>>, out: Float64Array): void;
}

export interface EnginePolicyOptions {
  name: string;
  /** The logged arms that are promotions; the control arm maps to the engine's CONTROL. */
  promotions: readonly string[];
  control: string;
  /** "tabular": Beta posteriors per segment of `rules` ([] gives one segment: context-free); "logistic": over `features`. */
  model: "tabular" | "logistic";
  rules: readonly Rule[];
  features?: LogFeatures | undefined;
  /** Learn what a conversion is worth per arm (spend): the score is that amount × the conversion draw. */
  learnAmount: boolean;
  bandit: BanditSettings;
  /**
   * Safe start (issue 23) against a logged arm as the shop's rule (`baseline`, "always that arm"):
   * apprentice or conservative, served and learned exactly as live (src/engine/safe.ts); the replay
   * keeps a row when the served arm is the logged one, and a kept row's outcome is known at once.
   */
  safe?: { cfg: SafeConfig; baseline: string } | undefined;
}

/**
 * The engine's policy on a log: score(a) = (amount if converted under a, or 1) × p_a, p_a from the
 * configured conversion model, Thompson sampling with the random holdout, exactly as a live decision.
 * An outcome > 0 is a conversion; its value is the amount.
 */
export function enginePolicy(o: EnginePolicyOptions): ReplayPolicy & { table: ArmTable; logistic: LogisticArms | undefined; amounts: AmountPosterior | undefined; safe: SafeState | undefined; graduatedAt: number | null } {
  const b = o.bandit;
  const table = new ArmTable(posteriorOptionsOf(b));
  const ids = [...o.promotions, CONTROL];
  for (const id of ids) table.add(id);
  const f = o.model === "logistic" ? o.features : undefined;
  if (o.model === "logistic" && !f) throw new Error("the logistic model needs features");
  const prior = f ? Array.from({ length: f.dims }, (_, i) => (i === 0 ? logit(b.logistic.priorConversion) : 0)) : [];
  const logistic = f ? new LogisticArms({ dims: f.dims, baselinePriorMean: prior, baselinePriorSd: b.logistic.priorSd, armPriorSd: b.logistic.armPriorSd, contextPriorSd: b.logistic.contextPriorSd, halfLifeMs: b.halfLifeMs }) : undefined;
  for (const id of ids) logistic?.add(id);
  const amounts = o.learnAmount ? new AmountPosterior({ priorStrength: 5, initialMean: 1, halfLifeMs: b.halfLifeMs }) : undefined;
  const A = new ScoreArms();
  const scratch = new PolicyScratch();
  const x = new Float64Array(f?.dims ?? 0);
  const pred: ArmPrediction = { full: 0, plain: 0, sd: 0 };
  const beta = { alpha: 0, beta: 0 };
  const contrast = new DecisionContrast();
  // The last decision's factor in the context evidence, taken up by learn() if the row is kept (the
  // replay calls learn right after choose, for the same row, or not at all).
  let contextFactor = 0;
  const toEngine = (arm: string) => (arm === o.control ? CONTROL : arm);
  const safeState = o.safe ? createSafeState(o.safe.cfg) : undefined;
  const safeCore = o.safe && safeState ? { state: safeState, cfg: o.safe.cfg, bandit: b, scratch, pi: [] as number[] } : undefined;
  const ruleIndex = o.safe ? ids.indexOf(toEngine(o.safe.baseline)) : -1;
  if (o.safe && ruleIndex < 0) throw new Error(`baseline arm '${o.safe.baseline}' is not one of the log's arms`);
  // The last decision served (safe start), taken up by learn() if its row is kept.
  let served: ServedDecision | undefined;
  let rows = 0;
  const self = {
    name: o.name,
    table,
    logistic,
    amounts,
    safe: safeState,
    graduatedAt: null as number | null,
    choose(ctx: Readonly<Record<string, number | string>>, nowMs: number, rng: Rng): ReplayChoice {
      const seg = segmentOf(ctx, o.rules);
      A.reset(ids.length);
      if (f) f.write(ctx, x);
      const pooled = amounts?.pooledMean(nowMs);
      const lambda = logistic ? logistic.contextWeight() : 0;
      contrast.reset();
      for (let j = 0; j < ids.length; j++) {
        const scale = amounts ? Math.max(1e-6, amounts.mean(ids[j]!, nowMs, pooled)) : 1;
        if (logistic) {
          logistic.predict(ids[j]!, x, nowMs, pred);
          A.setLogit(j, pred.plain + lambda * (pred.full - pred.plain), pred.sd, scale);
          contrast.see(j, scale, pred.full, pred.plain);
        } else {
          table.posteriorInto(ids[j]!, seg, nowMs, beta);
          A.setBeta(j, beta.alpha, beta.beta, scale);
        }
      }
      rows++;
      let c: { index: number; holdout: boolean; propensity: number };
      if (safeCore) {
        const pick = drawPolicy(A, { kind: "thompson" }, -1, rng, b, scratch);
        served = serveWith(safeCore, A, ruleIndex, { kind: "thompson" }, -1, pick, rng);
        c = served;
      } else c = choose(A, { kind: "thompson" }, -1, rng, b, scratch);
      contextFactor = logistic ? contrast.factor(c.index, c.propensity) : 0;
      const arm = ids[c.index]!;
      return { armId: arm === CONTROL ? o.control : arm, holdout: c.holdout };
    },
    learn(ctx: Readonly<Record<string, number | string>>, armId: string, outcome: number, nowMs: number) {
      const arm = toEngine(armId);
      if (safeState && o.safe && served) {
        // The row is kept: the decision is made, and its outcome known at once (no window to wait for).
        openServed(safeState, served);
        if (served.entry) closeSafeIn(safeState, o.safe.cfg.alpha, served.entry, served.propensity, outcome, 0, 1);
        served = undefined;
        const due = graduationDueIn(safeState, o.safe.cfg);
        if (due) {
          setModeIn(safeState, o.safe.cfg.graduateTo, "graduated", nowMs, `grad-${rows}`, rows, due);
          self.graduatedAt ??= rows;
        }
      }
      const y: 0 | 1 = outcome > 0 ? 1 : 0;
      table.update(arm, segmentOf(ctx, o.rules), y, nowMs);
      if (logistic && f) {
        f.write(ctx, x);
        logistic.learn(arm, x, y, nowMs);
        // As live: a sample when the decision is made, its term when it converts (here: at once).
        const at = logistic.evidence.open();
        if (y) logistic.evidence.convert(contextFactor, outcome, at);
      }
      if (amounts && y) amounts.add(arm, outcome, nowMs);
    },
  };
  return self;
}

export interface EpsilonGreedyOptions {
  arms: readonly string[];
  epsilon: number;
}

/**
 * ε-greedy, context-free: with probability ε a uniformly random arm, otherwise the arm with the highest
 * mean outcome so far (an arm not yet tried first; ties broken at random).
 */
export function epsilonGreedyPolicy(o: EpsilonGreedyOptions): ReplayPolicy {
  const n = new Map<string, number>(o.arms.map((a) => [a, 0]));
  const sum = new Map<string, number>(o.arms.map((a) => [a, 0]));
  return {
    name: "epsilon-greedy",
    choose(_ctx, _nowMs, rng): ReplayChoice {
      if (rng.next() < o.epsilon) return { armId: o.arms[Math.floor(rng.next() * o.arms.length)]!, holdout: false };
      let best: string[] = [];
      let bestMean = -Infinity;
      for (const a of o.arms) {
        const m = n.get(a)! > 0 ? sum.get(a)! / n.get(a)! : Infinity;
        if (m > bestMean) {
          bestMean = m;
          best = [a];
        } else if (m === bestMean) best.push(a);
      }
      return { armId: best.length === 1 ? best[0]! : best[Math.floor(rng.next() * best.length)]!, holdout: false };
    },
    learn(_ctx, armId, outcome) {
      n.set(armId, (n.get(armId) ?? 0) + 1);
      sum.set(armId, (sum.get(armId) ?? 0) + outcome);
    },
  };
}
