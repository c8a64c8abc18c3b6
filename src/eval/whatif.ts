// What-if evaluation on the shop's own logs (issue #17): what each candidate configuration would have
// earned on the same decision points as the logged policy. Each candidate is an engine built from its
// configuration, run through the same engine code on the shop's events in their order; at every
// logged decision it reports its policy (the probability of each arm, and its model's expected margin
// per arm) and then takes the logged decision as its own, so that its state follows what the shop
// really did and it learns from the logged outcomes, as the live engine does.
//
// Estimates, per decision, in cents of margin earned:
//   - IPS, self-normalised IPS and doubly robust (src/eval/offpolicy.ts), each also as incremental:
//     minus the always-control policy on the same rows, which is what the simulator's truth measures;
//   - the replay method (Li et al. 2011), for a candidate that learns as it goes: at each logged
//     decision the candidate draws its own arm; where it matches the logged one the row counts (weighted
//     by 1/propensity, self-normalised, since the logging policy was not uniform) and the candidate
//     learns from it; elsewhere it learns nothing.
// The logs cannot answer when the weights rest on few rows (effective sample size under a threshold),
// when logged propensities are tiny, or when the candidate offers arms the log never shows: the report
// says so in `warnings`.
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Config } from "../config/index.ts";
import { WHATIF_KEY, type WhatIfSummary } from "../kpi/index.ts";
import { CONTROL, createEngine, engineConfigFrom, step, type Engine, type LoggedChoice } from "../engine/index.ts";
import type { Decision, OutcomeRecord, ShopEvent } from "../events/index.ts";
import { rngFromKey } from "../random/index.ts";
import { offPolicy, offPolicyDifference, type Estimate, type OffPolicyEstimates, type OffPolicyRow } from "./offpolicy.ts";

/** A shop's log: its events in stream order, the decisions taken (by event id) and their outcomes (by decision id). */
export interface ShopLog {
  events: ShopEvent[];
  decisions: Map<string, Decision>;
  outcomes: Map<string, OutcomeRecord>;
}

export interface WhatIfCandidate {
  name: string;
  /** The candidate's whole configuration (the base config with its overlay). */
  cfg: Readonly<Config>;
  /** The overlay it was built from, for the report. */
  overlay: unknown;
}

export interface WhatIfOptions {
  /** Below this effective sample size the estimates are flagged as not answerable (default 100). */
  minEss?: number;
  /** Logged propensities below this make a row's weight unreliable (default 0.001). */
  minPropensity?: number;
  /**
   * Told as each pass over the log ends: the logged policy's, then each candidate's two (its estimates,
   * the replay method), each a run of the engine over every event (seconds each on a long log).
   */
  progress?: (text: string) => void;
}

export interface CandidateReport extends OffPolicyEstimates {
  /** The same estimators minus the always-control policy on the same rows: the incremental margin per decision. */
  incremental: { ips: Estimate; snips: Estimate; dr: Estimate };
  /** The replay method: rows matched, and the value per decision (self-normalised by 1/propensity). */
  replay: { matched: number; value: number; ci95: [number, number]; incremental: number };
  /** Expected share of each arm under the candidate on these decision points. */
  armShare: Record<string, number>;
  /** Decision points the candidate would have had where the log holds no decision (not evaluated). */
  unloggedPoints: number;
  /** Logged decisions evaluated at which the candidate would have made none: counted as control for sure (it offers nothing there). */
  noDecision: number;
  warnings: string[];
  overlay: unknown;
}

export interface WhatIfReport {
  /** What the logged policy earned (on-policy: the mean of the logged outcomes), and over always-control. */
  /**
   * The log's decisions not evaluated, by reason (with `rows`, they add up to settings.decisions):
   * openDecisions, whose attribution window had not ended by the log's end (matureBefore); overflowed, closed
   * early by attribution.maxPending; noOutcome, past their window with no outcome in the log; notReplayed,
   * whose event the log does not hold or at which the replayed engine made no decision.
   */
  logged: { rows: number; value: number; ci95: [number, number]; incremental: Estimate; armShare: Record<string, number>; openDecisions: number; overflowed: number; noOutcome: number; notReplayed: number };
  candidates: Record<string, CandidateReport>;
  settings: { minEss: number; minPropensity: number; events: number; decisions: number; outcomes: number };
}

/** One logged decision's row for a candidate: the logged arm and reward, and the candidate's report there. */
interface Row {
  decision: Decision;
  reward: number;
  arms: string[];
  probs: number[];
  values: number[];
}

const rewardOf = (o: OutcomeRecord) => o.marginCents;

/**
 * A logged decision counts once the processor had closed it by the end of the log: its attribution
 * window (and the allowed lateness) ended before the engine's clock there (`watermarkMs`, the logged
 * configuration's engine replayed over the log), as expire() closes it; its outcome is then known
 * whatever it was. Counting every decision with an outcome so far would keep the ones that converted
 * early and drop those still waiting to expire. The clock is the engine's, not the log's newest
 * timestamp: an event with a bad clock (a day ahead) is dead-lettered and moves no clock, and taken as
 * the end it made every open decision count, its early conversions with it.
 */
function matureBefore(watermarkMs: number, base: Readonly<Config>): (d: Decision) => boolean {
  const late = base.features.allowedLatenessSec * 1000;
  return (d) => d.expiresAt < watermarkMs - late;
}
const ALL = () => true;

/**
 * Runs a candidate's engine over the log; returns its row at every logged decision `keep` takes that
 * has an outcome other than overflow. With `noDecision`, a kept decision at which the engine made no
 * decision is a row too, counted there (see below).
 */
function replayCandidate(log: ShopLog, cfg: Readonly<Config>, match: boolean, keep: (d: Decision) => boolean, noDecision?: { n: number }): { rows: Row[]; engine: Engine; matched: Row[] } {
  // One engine for the whole log, whatever the deployment's partitions (their grants and shared counts
  // are bookkeeping of the partitioned shell, not of the shop).
  const engine = createEngine({ ...engineConfigFrom(cfg), partitioned: false });
  const seed = cfg.processor.seed;
  const rows: Row[] = [];
  const matched: Row[] = [];
  for (const ev of log.events) {
    const rng = rngFromKey(seed, ev.id);
    const d = log.decisions.get(ev.id);
    if (!d) {
      step(engine, ev, rng, null);
      continue;
    }
    const logged: LoggedChoice = { promotionId: d.promotionId, holdout: d.holdout, propensity: d.propensity };
    if (match) {
      // The replay method: the candidate's own draw, from its own distribution, decides whether the
      // row counts and whether the candidate learns from it. Its own generator: the event's is the one
      // the logged policy drew its holdout coin from, and sharing it would tie the two draws.
      const draw = rngFromKey(seed, `replay:${ev.id}`);
      logged.learnIf = (probs, arms) => {
        let u = draw.next();
        for (let i = 0; i < arms.length; i++) {
          u -= probs[i]!;
          if (u < 0) return arms[i] === d.promotionId;
        }
        return arms[arms.length - 1] === d.promotionId;
      };
    }
    step(engine, ev, rng, logged);
    const o = log.outcomes.get(d.id);
    if (!keep(d) || !o || o.closedBy === "overflow") continue;
    if (!logged.report) {
      // The engine made no decision here (another decisionPoints setting, e.g. fewer product views a
      // visit): the candidate would have offered nothing, control for sure, and its value here is that
      // of the log's control decisions (no model value: the term is the inverse propensity one). Left
      // out, the candidate was estimated per decision on a subset of the logged policy's decisions,
      // without a word. The logged configuration's own run counts such a decision as not replayed.
      if (!noDecision) continue;
      noDecision.n++;
      logged.report = { arms: [CONTROL], probs: [1], values: [0] };
      if (match) logged.matched = d.promotionId === CONTROL;
    }
    const row: Row = { decision: d, reward: rewardOf(o), arms: logged.report.arms, probs: logged.report.probs, values: logged.report.values };
    rows.push(row);
    if (logged.matched) matched.push(row);
  }
  return { rows, engine, matched };
}

function offPolicyRows(rows: readonly Row[], target: (r: Row) => { pLogged: number; qTarget: number }): OffPolicyRow[] {
  return rows.map((r) => {
    const i = r.arms.indexOf(r.decision.promotionId);
    const t = target(r);
    return { pLog: r.decision.propensity, pTarget: t.pLogged, reward: r.reward, qLogged: i >= 0 ? r.values[i]! : 0, qTarget: t.qTarget };
  });
}

/** The candidate's own policy: its probability of the logged arm, and Σ π(a)·q̂(a). */
const asCandidate = (r: Row) => {
  const i = r.arms.indexOf(r.decision.promotionId);
  let q = 0;
  for (let k = 0; k < r.arms.length; k++) q += r.probs[k]! * r.values[k]!;
  return { pLogged: i >= 0 ? r.probs[i]! : 0, qTarget: q };
};

/** Always control, judged by the same model. */
const asControl = (r: Row) => {
  const c = r.arms.indexOf(CONTROL);
  return { pLogged: r.decision.promotionId === CONTROL ? 1 : 0, qTarget: c >= 0 ? r.values[c]! : 0 };
};

function mean(xs: readonly number[]): { value: number; ci95: [number, number] } {
  const n = xs.length;
  if (n === 0) return { value: NaN, ci95: [NaN, NaN] };
  const m = xs.reduce((a, b) => a + b, 0) / n;
  const v = n > 1 ? xs.reduce((a, x) => a + (x - m) ** 2, 0) / (n - 1) : 0;
  const h = 1.959963984540054 * Math.sqrt(v / n);
  return { value: m, ci95: [m - h, m + h] };
}

function shares(rows: readonly Row[], probOf: (r: Row, k: number) => number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) for (let k = 0; k < r.arms.length; k++) out[r.arms[k]!] = (out[r.arms[k]!] ?? 0) + probOf(r, k);
  for (const k of Object.keys(out)) out[k] = out[k]! / Math.max(1, rows.length);
  return out;
}

export function evaluateCandidates(log: ShopLog, base: Readonly<Config>, candidates: readonly WhatIfCandidate[], o: WhatIfOptions = {}): WhatIfReport {
  const minEss = o.minEss ?? 100;
  const minPropensity = o.minPropensity ?? 0.001;
  // The logged policy on its own decisions (its configuration is the base), and the control reference;
  // its engine's clock at the end of the log says which decisions had closed.
  const secs = (t0: number) => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
  let t0 = performance.now();
  const replayed = replayCandidate(log, base, false, ALL);
  const mature = matureBefore(replayed.engine.watermarkMs, base);
  const ref = { ...replayed, rows: replayed.rows.filter((r) => mature(r.decision)) };
  // Every candidate is evaluated on the logged policy's rows, no more and no fewer.
  const evaluated = new Set(ref.rows.map((r) => r.decision.id));
  const keep = (d: Decision) => evaluated.has(d.id);
  o.progress?.(`logged policy: ${ref.rows.length} decisions past their window, done in ${secs(t0)}; ${candidates.length} candidate(s) to go, two passes each`);
  const loggedArms = new Set<string>();
  for (const d of log.decisions.values()) loggedArms.add(d.promotionId);
  const loggedValue = mean(ref.rows.map((r) => r.reward));
  const onPolicy: OffPolicyRow[] = ref.rows.map((r) => ({ pLog: r.decision.propensity, pTarget: r.decision.propensity, reward: r.reward, qLogged: 0, qTarget: 0 }));
  // The same tests as replayCandidate's, so that the reasons and the rows evaluated add up to the log's decisions.
  let open = 0;
  let overflowed = 0;
  let noOutcome = 0;
  let closed = 0;
  for (const d of log.decisions.values()) {
    const out = log.outcomes.get(d.id);
    if (!mature(d)) open++;
    else if (!out) noOutcome++;
    else if (out.closedBy === "overflow") overflowed++;
    else closed++;
  }
  const report: WhatIfReport = {
    logged: {
      rows: ref.rows.length,
      value: loggedValue.value,
      ci95: loggedValue.ci95,
      incremental: offPolicyDifference(onPolicy, offPolicyRows(ref.rows, asControl)).ips,
      armShare: shares(ref.rows, (r, k) => (r.arms[k] === r.decision.promotionId ? 1 : 0)),
      openDecisions: open,
      overflowed,
      noOutcome,
      notReplayed: closed - ref.rows.length,
    },
    candidates: {},
    settings: { minEss, minPropensity, events: log.events.length, decisions: log.decisions.size, outcomes: log.outcomes.size },
  };
  for (const c of candidates) {
    t0 = performance.now();
    const noDecision = { n: 0 };
    const run = replayCandidate(log, c.cfg, false, keep, noDecision);
    o.progress?.(`${c.name}: estimates done in ${secs(t0)}`);
    const rows = offPolicyRows(run.rows, asCandidate);
    const control = offPolicyRows(run.rows, asControl);
    const est = offPolicy(rows);
    const inc = offPolicyDifference(rows, control);
    t0 = performance.now();
    const rep = replayCandidate(log, c.cfg, true, keep, { n: 0 });
    o.progress?.(`${c.name}: replay method done in ${secs(t0)}`);
    const rw = rep.matched.map((r) => 1 / r.decision.propensity);
    const sw = rw.reduce((a, b) => a + b, 0);
    const rv = sw > 0 ? rep.matched.reduce((a, r, i) => a + rw[i]! * r.reward, 0) / sw : NaN;
    const rvar = sw > 0 ? rep.matched.reduce((a, r, i) => a + (rw[i]! * (r.reward - rv)) ** 2, 0) / (sw * sw) : NaN;
    const rh = 1.959963984540054 * Math.sqrt(rvar);
    const warnings: string[] = [];
    if (est.ess < minEss) warnings.push(`effective sample size ${est.ess.toFixed(0)} is under ${minEss}: the logs cannot tell what this candidate would earn`);
    const tiny = run.rows.filter((r) => r.decision.propensity < minPropensity && asCandidate(r).pLogged > 0).length;
    if (tiny > 0) warnings.push(`${tiny} logged decisions the candidate would take have a logged propensity under ${minPropensity}: their weights dominate`);
    const never = new Set<string>();
    for (const r of run.rows) for (let k = 0; k < r.arms.length; k++) if (r.probs[k]! > 0.01 && !loggedArms.has(r.arms[k]!)) never.add(r.arms[k]!);
    if (never.size > 0) warnings.push(`the candidate offers ${[...never].join(", ")}, which the log never shows: what it would earn there is the model's guess alone`);
    if (noDecision.n > 0) warnings.push(`${noDecision.n} logged decisions are no decision point of the candidate (another decisionPoints setting?): it would have offered nothing there, and is estimated as control on them`);
    const unlogged = run.engine.counters.unloggedPoints ?? 0;
    if (unlogged > 0) warnings.push(`${unlogged} decision points of the candidate have no logged decision (another decisionPoints setting?): they are not evaluated`);
    report.candidates[c.name] = {
      ...est,
      incremental: inc,
      replay: { matched: rep.matched.length, value: rv, ci95: [rv - rh, rv + rh], incremental: rv - offPolicy(control).dr.value },
      armShare: shares(run.rows, (r, k) => r.probs[k]!),
      unloggedPoints: unlogged,
      noDecision: noDecision.n,
      warnings,
      overlay: c.overlay,
    };
  }
  return report;
}

export function whatIfSummary(r: WhatIfReport, at: number): WhatIfSummary {
  return {
    at,
    rows: r.logged.rows,
    logged: { value: r.logged.value, ci95: r.logged.ci95, incremental: r.logged.incremental },
    candidates: Object.entries(r.candidates).map(([name, c]) => ({ name, dr: c.dr, incremental: c.incremental.dr, ess: c.ess, rows: c.rows, warnings: c.warnings, overlay: c.overlay })),
  };
}

/** Stores the summary where the dashboard's server finds it (the state bucket, key whatif.latest). */
export async function publishWhatIf(nc: NatsConnection, cfg: Readonly<Config>, r: WhatIfReport): Promise<void> {
  const kv = await new Kvm(nc).open(cfg.kv.stateBucket);
  await kv.put(WHATIF_KEY, JSON.stringify(whatIfSummary(r, Date.now())));
}
