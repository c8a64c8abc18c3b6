// Safe start (issue 23): the engine earns the traffic from the shop's own rule (policy.baseline) with a
// stated bound on what it may lose. Three modes (policy.mode):
//
//   learner       the engine decides (Thompson sampling, holdout): what it did before this issue.
//   apprentice    the rule serves, but for a share policy.apprenticeExplore explored (a quarter drawn
//                 uniformly among the eligible arms, so every arm has a propensity, the rest by the
//                 learner's own draw: EXPLORE_UNIFORM below); the engine learns from every outcome
//                 and estimates, on its own closed decisions, its policy's margin per decision minus
//                 the rule's, doubly robust (Dudík, Langford & Li 2011; the term src/eval's estimators
//                 use): it graduates (policy.graduateTo) once the 95% interval's lower end is above 0
//                 over at least policy.graduateAfter decisions. Graduation is asked for as an effect;
//                 the shell puts a `mode` event in the log and the mode changes where that event
//                 stands, so a replay changes it at the same place (a person's change goes the same way).
//   conservative  the engine decides, but a decision whose worst case would take the shop's margin at
//                 the decision points below (1 − α) × the rule's is served by the rule instead.
//
// The conservative bound. Conservative bandits (Wu, Shariff, Lattimore & Szepesvári 2016) keep the
// learner's cumulative expected reward at or above (1 − α) times the baseline's at every step, with
// high probability: play the learner's arm only when a lower confidence bound on what the learner
// played so far, plus that arm's, stays above (1 − α) times the baseline's. Kazerouni, Ghavamzadeh,
// Abbasi-Yadkori & Van Roy (2017, CLUCB2) do it for contextual linear bandits whose baseline reward
// is unknown: rounds the baseline played count α of their (observed) reward on the slack, rounds the
// learner played count learner − (1 − α) × baseline, both from the model's confidence set. We
// implement that condition (not CLUCB's, which needs the baseline's expected reward known per
// context; the shop's rule's is not) with these estimates, in the objective's units (margin, cents):
//
//   slack = α · Σ_{rule's arm served} m_s + Σ_{another arm served} (m_s − (1 − α) · q⁺_b,s)
//           + Σ_{open, rule's arm} α · q⁻_b + Σ_{open, another arm} (q⁻_a − (1 − α) · q⁺_b)
//   serve the learner's arm a at t iff  LCB(slack) + q⁻_a,t − (1 − α) · q⁺_b,t ≥ 0
//
// m_s is the margin the decision earned (0 without a purchase), taken as it is once the decision
// closes: the learner's side needs no model. The rule's side at a decision it did not serve has no
// outcome: q⁺_b is the model's upper 95% estimate of the rule's arm there (margin if bought × the
// conversion at the arm's posterior +1.96 sd), and q⁻_a the lower one of the learner's arm, so an
// open decision counts at its worst case until its outcome is known. LCB(slack) subtracts 1.96 × the
// standard deviation of the closed sums (the outcomes' noise: α-weighted on the rule's rounds); small
// samples borrow a variance floor (the second moment of closed margins, 10 pseudo-observations).
// Exact propensities: P(serve a) = π(a)·[a safe] for the learner's arms, and the rule's arm takes
// its own π plus every unsafe arm's (π: the learner's policy, holdout included).
//
// The rule's cumulative margin is estimated on the same decision points; a decision where the learner
// picks the rule's own arm counts as a rule round (equal on both sides). The bound is per engine: a
// partition holding its own holds it for the shop.
import { addSum, doublyRobustTerm, emptySums, meanInterval, totalSums, Z95, type ScoreArms, type Sums } from "../bandit/index.ts";
import type { BaselineRule, PolicyMode } from "../config/index.ts";
import type { Decision } from "../events/index.ts";
import type { Rng } from "../random/index.ts";
import { baselineIndex } from "./baseline.ts";
import { drawPropensity, policyDistribution, type PolicyDraw, type PolicyOptions, type PolicyScratch } from "./policy.ts";
import type { DecisionWork } from "./scratch.ts";
import type { Engine } from "./state.ts";
import type { PolicyKind } from "./types.ts";

export interface SafeConfig {
  mode: PolicyMode;
  baseline: BaselineRule | undefined;
  /** Apprentice: the share of decisions drawn uniformly among the eligible arms. */
  explore: number;
  /** Closed apprentice decisions the evidence must rest on before graduating. */
  graduateAfter: number;
  graduateTo: "conservative" | "learner";
  /** Conservative: the share of the rule's margin the learner may lose. */
  alpha: number;
  /** Report the rule's arm on every decision, also in learner mode (the evaluation's learner alone). */
  report?: boolean | undefined;
  /** false: an apprentice never asks to graduate (the evaluation's rule alone). Default true. */
  graduate?: boolean | undefined;
}

/** The learner's margin (or conversions, bandit.reward conversion) per decision minus the rule's: mean and 95% interval over `decisions`. */
export interface Evidence {
  decisions: number;
  mean: number;
  lo: number;
  hi: number;
}

export interface ModeChange {
  ts: number;
  mode: PolicyMode;
  reason: "graduated" | "manual" | "config";
  /** Decisions the engine had made when it changed. */
  atDecision: number;
  evidence?: Evidence | undefined;
}

/** The conservative bound's sums since conservative mode began (see the top of this file). */
export interface SafeLedger {
  /** Closed decisions that served the rule's arm: their margins. */
  baseline: Sums;
  /** Closed decisions that served another arm: margin − (1 − α) · q⁺_b. */
  learner: Sums;
  /** Open decisions: Σ (q⁻_a − (1 − α) · q⁺_b) over those that served another arm, α · q⁻_b over the rule's. */
  openLower: number;
  /** Every closed decision's margin: the variance floor for small samples. */
  margin: Sums;
}

export interface SafeState {
  mode: PolicyMode;
  /** The configuration's mode when this state began: a changed configuration takes over at restore. */
  configMode: PolicyMode;
  /**
   * Count the evidence's and the bound's restarts: an open decision of an earlier apprenticeship or
   * bound does not touch this one's sums. The bound holds from the start of an apprenticeship through
   * its graduation (the rule served and the learner explored within it); it restarts at a person's
   * change, and with conservative mode begun from learner mode.
   */
  evidenceEpoch: number;
  ledgerEpoch: number;
  /** The change that began this mode ("" for the configuration's): sync sums of another are ignored. */
  since: string;
  /** Decisions since the mode began; of them served by the rule (conservative: fallbacks; apprentice: not explored) and explored. */
  decisions: number;
  servedByBaseline: number;
  explored: number;
  /** Apprentice: doubly robust (learner − rule) per closed decision, this engine's own. */
  evidence: Sums;
  /** Partitioned: the other partitions' evidence (by partition), if they are in the same apprenticeship. */
  remoteEvidence: Record<string, Sums>;
  ledger: SafeLedger;
  /** A graduation was asked for (its mode event is on its way): not again. */
  asked: boolean;
  /** Mode changes, oldest first (the newest MAX_CHANGES). */
  changes: ModeChange[];
  /** Ids of the last changes applied: a change's copies (one per partition) apply once. */
  applied: string[];
  /** Decisions a purchase closed before their window ended, waiting for its end (see closeSafe), by `at`. */
  matured: { at: number; entry: SafeEntry; propensity: number; margin: number }[];
}

/** What an open decision keeps for the safe-start sums (src/engine/attribution.ts closes it). */
export interface SafeEntry {
  /** The bound (apprentice and conservative): its epoch; served the rule's arm; the open lower bound (see SafeLedger.openLower); q⁺ of the rule's arm. */
  l?: { e: number; base: boolean; lo: number; qbHi: number } | undefined;
  /** The apprentice's evidence: its epoch; qL = Σ π(a)·q̂(a); piL = π(served); qa, qb = q̂(served), q̂(rule's); pb = P(serve the rule's arm); b: served the rule's arm. */
  a?: { e: number; qL: number; piL: number; qa: number; qb: number; pb: number; b: boolean } | undefined;
}

const MAX_CHANGES = 20;
const MAX_APPLIED = 16;
/** Pseudo-observations of the variance floor in the bound's standard deviation. */
const FLOOR_WEIGHT = 10;

const emptyLedger = (): SafeLedger => ({ baseline: emptySums(), learner: emptySums(), openLower: 0, margin: emptySums() });
/**
 * No reserve gate. A draft also gated the learner on the ledger alone (serving only while the slack
 * covered ten decisions' worst cases), because checking the drawn arm alone had looked like it chose
 * what the learner saw of each promotion (0.47 / 0.29 of the oracle, last half, steady seeds 7 / 3,
 * against 0.79 / 0.66 gated). That was measured before decisions entered the bound at their window's
 * end and open rule rounds counted α · q⁻_b; with those, CLUCB2's drawn-arm check as written does as
 * well (seeds 7, 1, 2, 3, 4: 73.1 / 80.5 / 75.9 / 72.5 / 65.7% ungated, 79.1 / 79.1 / 76.0 / 65.6 /
 * 62.9% gated), and is simpler.
 */
/**
 * The apprentice's exploration: a quarter uniform among the eligible arms (every arm a propensity of at
 * least ε/4n, for evaluating other policies on the log), the rest the learner's own draw (what it
 * would do: the doubly robust estimate of it weighs an explored decision by at most 4/(3ε) instead of
 * π·n/ε, and the learner explores where it is unsure). Measured, steady seeds 7, 1–4, ε = 0.05,
 * graduation at decision: all uniform (draft) 9–25 k but biased (before `matured`); half uniform
 * 19–45 k; none uniform 16–31 k; the doubly robust terms of explored decisions were 98% of the
 * estimate's variance.
 */
const EXPLORE_UNIFORM = 0.25;

export function createSafeState(cfg: SafeConfig | undefined): SafeState {
  const mode = cfg?.mode ?? "learner";
  return { mode, configMode: mode, evidenceEpoch: 0, ledgerEpoch: 0, since: "", decisions: 0, servedByBaseline: 0, explored: 0, evidence: emptySums(), remoteEvidence: {}, ledger: emptyLedger(), asked: false, changes: [], applied: [], matured: [] };
}

/** Whether decisions go through the safe-start path (a mode other than learner, or the rule reported). */
export function safeActive(e: Engine): boolean {
  return e.safe.mode !== "learner" || e.cfg.safe?.report === true;
}

/**
 * Changes the mode now. An apprentice's evidence starts empty (it earns its graduation again); the
 * bound's sums go on from an apprentice to conservative mode (its graduation, or a person's; the rule served and the learner
 * explored under the same bound, from the apprenticeship's start) and start over otherwise. Decisions
 * still open from sums that restarted close into nothing.
 */
export function setMode(e: Engine, mode: PolicyMode, reason: ModeChange["reason"], ts: number, changeId: string, evidence?: Evidence): void {
  setModeIn(e.safe, mode, reason, ts, changeId, e.counters.decisions, evidence);
}

/** setMode on a safe-start state of its own (the evaluation's replay); `atDecision`: decisions made so far. */
export function setModeIn(s: SafeState, mode: PolicyMode, reason: ModeChange["reason"], ts: number, changeId: string, atDecision: number, evidence?: Evidence): void {
  const keepsBound = s.mode === "apprentice" && mode === "conservative";
  s.mode = mode;
  s.evidenceEpoch++;
  s.since = changeId;
  s.decisions = s.servedByBaseline = s.explored = 0;
  s.evidence = emptySums();
  s.remoteEvidence = {};
  if (!keepsBound) {
    s.ledgerEpoch++;
    s.ledger = emptyLedger();
  }
  s.matured = s.matured.filter((m) => m.entry.l?.e === s.ledgerEpoch);
  s.asked = false;
  s.changes.push({ ts, mode, reason, atDecision, ...(evidence ? { evidence } : {}) });
  if (s.changes.length > MAX_CHANGES) s.changes.splice(0, s.changes.length - MAX_CHANGES);
}

/**
 * A `mode` event from the log. Copies of one change (`<changeId>.p<n>`, one per partition) apply once;
 * a graduation applies only to an apprentice, in the apprenticeship that asked for it (a second
 * partition's graduation, asked for before the first arrived, changes nothing), and a change to conservative or learner mode does nothing in that
 * mode. Returns whether the mode changed.
 */
export function applyModeEvent(e: Engine, ev: { id: string; ts: number; mode: PolicyMode; reason: "graduated" | "manual"; since?: string | undefined; evidence?: Evidence | undefined }): boolean {
  const s = e.safe;
  const changeId = ev.id.replace(/\.p\d+$/, "");
  if (s.applied.includes(changeId)) return false;
  s.applied.push(changeId);
  if (s.applied.length > MAX_APPLIED) s.applied.shift();
  if (ev.reason === "graduated" && s.mode !== "apprentice") return false;
  // ...and only to the apprenticeship that earned it. Copies of changes from different publishers (a
  // partition's graduation, a person's change through promo.control, another partition's graduation
  // asked for before the first reached it) can reach partitions in different orders: a partition that
  // saw "back to apprentice" between two graduations graduated again on the second, the others stayed.
  if (ev.reason === "graduated" && ev.since !== undefined && ev.since !== s.since) return false;
  // A change to conservative or learner mode when the engine is in it changes nothing: a second click
  // on the dashboard's button (its reply comes when the change is stored, before the panel shows it
  // applied), or "Graduate now" pressed while the engine's own graduation was on its way, restarted the
  // bound and threw away the slack the apprenticeship earned. A person's "apprentice" still begins an
  // apprenticeship of its own (the evidence starts over, and a graduation asked for in the one before
  // it no longer applies).
  if (ev.mode === s.mode && s.mode !== "apprentice") return false;
  setMode(e, ev.mode, ev.reason, ev.ts, changeId, ev.evidence);
  return true;
}

/**
 * After a restore: a configuration whose mode changed since the state began takes over. A configuration
 * changed to the mode the engine is in already (a graduation written into the configuration) changes
 * nothing: restarting the mode there threw away the bound's slack the apprenticeship had earned.
 */
export function reconcileConfigMode(e: Engine, ts: number): void {
  const want = e.cfg.safe?.mode ?? "learner";
  if (e.safe.configMode === want) return;
  e.safe.configMode = want;
  if (e.safe.mode === want) return;
  setMode(e, want, "config", ts, "");
}

/** The apprentice's evidence: this engine's own and its partitions' (the same apprenticeship). */
export function evidenceOf(e: Engine): Evidence {
  return evidenceIn(e.safe);
}

export function evidenceIn(s: SafeState): Evidence {
  const t = totalSums([s.evidence, ...Object.values(s.remoteEvidence)]);
  const m = meanInterval(t);
  return { decisions: t.n, ...m };
}

/** Another partition's evidence arrives (a sync event): kept when it is of the same apprenticeship. */
export function applyRemoteEvidence(e: Engine, from: number, part: { since: string; sums: Sums }): void {
  if (part.since !== e.safe.since) return;
  e.safe.remoteEvidence[String(from)] = { ...part.sums };
}

/** The graduation, once it is due (asked for once): the evidence's lower end above 0 over enough decisions. */
export function graduationDue(e: Engine): Evidence | undefined {
  return graduationDueIn(e.safe, e.cfg.safe);
}

export function graduationDueIn(s: SafeState, c: SafeConfig | undefined): Evidence | undefined {
  if (s.mode !== "apprentice" || s.asked || !c || c.graduate === false) return undefined;
  const ev = evidenceIn(s);
  if (ev.decisions < c.graduateAfter || !(ev.lo > 0)) return undefined;
  s.asked = true;
  return ev;
}

/** The bound's lower confidence bound on the slack (cents of margin); see the top of this file. */
export function slackLowerBound(l: SafeLedger, alpha: number): number {
  const floor = l.margin.n > 0 ? l.margin.sumSq / l.margin.n : 0;
  const varOf = (s: Sums) => (s.n === 0 ? 0 : (Math.max(0, s.sumSq - (s.sum * s.sum) / s.n) + FLOOR_WEIGHT * floor) / (s.n + FLOOR_WEIGHT));
  const sd = Math.sqrt(alpha * alpha * l.baseline.n * varOf(l.baseline) + l.learner.n * varOf(l.learner));
  return alpha * l.baseline.sum + l.learner.sum + l.openLower - Z95 * sd;
}

/** The model's expected margin of arm j: its scale (margin if bought, or 1) × its mean conversion. */
function expectedOf(A: ScoreArms, j: number): number {
  return A.scale[j]! * A.meanX(j);
}

export interface Served {
  /** The arm served, as record() takes it. */
  draw: PolicyDraw;
  entry: SafeEntry | undefined;
}

/** What a safe-start policy needs beside its state: its settings and the learner's policy options and buffers. */
export interface SafeCore {
  state: SafeState;
  cfg: SafeConfig;
  bandit: PolicyOptions;
  scratch: PolicyScratch;
  /** The learner's probability per arm (filled when needed). */
  pi: number[];
}

/** One decision served by a safe-start mode: the arm, the holdout flag, the exact propensity, who served, and what it keeps. */
export interface ServedDecision {
  index: number;
  holdout: boolean;
  propensity: number;
  served: "learner" | "baseline" | "explore";
  entry: SafeEntry | undefined;
}

/**
 * Who serves a decision, by the mode, over arms whose score distributions are in `A` (control last),
 * the rule's arm at `b` and the learner's own draw `pick` (holdout, Thompson). Pure: the caller counts
 * the decision in (`openServed`) if it is made: the
 * engine always, the evaluation's replay only for the rows it keeps.
 */
export function serveWith(core: SafeCore, A: ScoreArms, b: number, kind: PolicyKind, fixedIndex: number, pick: PolicyDraw, rng: Rng): ServedDecision {
  const s = core.state;
  const c = core.cfg;
  const o = core.bandit;
  const scratch = core.scratch;
  if (s.mode === "learner") return { index: pick.index, holdout: pick.holdout, propensity: drawPropensity(A, kind, pick, rng, o, scratch), served: "learner", entry: undefined };
  const alpha = c.alpha;
  const l = s.ledger;
  // The bound's estimates at this decision: q⁺ of the rule's arm, q⁻ of each arm.
  const hiB = A.scale[b]! * A.x(b, Z95);
  const worst = (j: number) => A.scale[j]! * A.x(j, -Z95) - (1 - alpha) * hiB;
  const ruleLo = alpha * A.scale[b]! * A.x(b, -Z95);
  const bound = (index: number): SafeEntry["l"] => ({ e: s.ledgerEpoch, base: index === b, lo: index === b ? ruleLo : worst(index), qbHi: hiB });
  if (s.mode === "apprentice") {
    const n = A.n;
    // The learner's policy: most of the exploration follows it, and the doubly robust estimate weighs by it.
    const pi = policyDistribution(A, kind, fixedIndex, rng, o, scratch, core.pi);
    // Three draws always, so a decision consumes the same draws whichever way its coins fall.
    const coin = rng.next();
    const half = rng.next();
    const u = rng.next();
    const explore = coin < c.explore;
    const byLearner = explore && half >= EXPLORE_UNIFORM;
    const index = !explore ? b : byLearner ? pick.index : Math.min(n - 1, Math.floor(u * n));
    const pServe = (j: number) => (1 - c.explore) * (j === b ? 1 : 0) + c.explore * (EXPLORE_UNIFORM / n + (1 - EXPLORE_UNIFORM) * pi[j]!);
    let qL = 0;
    for (let j = 0; j < n; j++) qL += pi[j]! * expectedOf(A, j);
    const entry: SafeEntry = {
      l: bound(index),
      a: { e: s.evidenceEpoch, qL, piL: pi[index]!, qa: expectedOf(A, index), qb: expectedOf(A, b), pb: pServe(b), b: index === b },
    };
    return { index, holdout: byLearner && pick.holdout, propensity: Math.min(1, pServe(index)), served: explore ? "explore" : "baseline", entry };
  }
  const slack = slackLowerBound(l, alpha);
  const j = pick.index;
  const safe = j === b || slack + worst(j) >= 0;
  if (safe && j !== b) return { index: j, holdout: pick.holdout, propensity: drawPropensity(A, kind, pick, rng, o, scratch), served: "learner", entry: { l: bound(j) } };
  // The rule's arm: its own probability under the learner plus every arm the bound would refuse.
  let unsafe = false;
  for (let k = 0; k < A.n && !unsafe; k++) if (k !== b && slack + worst(k) < 0) unsafe = true;
  let propensity: number;
  if (!unsafe) propensity = drawPropensity(A, kind, pick, rng, o, scratch);
  else {
    const pi = policyDistribution(A, kind, fixedIndex, rng, o, scratch, core.pi);
    let p = pi[b]!;
    for (let k = 0; k < A.n; k++) if (k !== b && slack + worst(k) < 0) p += pi[k]!;
    propensity = Math.min(1, p);
  }
  return { index: b, holdout: safe && pick.holdout, propensity, served: safe ? "learner" : "baseline", entry: { l: bound(b) } };
}

/** A served decision is made: it counts in its mode's tallies, and its open lower bound in the bound's slack. */
export function openServed(s: SafeState, x: ServedDecision): void {
  s.decisions++;
  if (x.served === "explore") s.explored++;
  else if (x.served === "baseline") s.servedByBaseline++;
  if (x.entry?.l) s.ledger.openLower += x.entry.l.lo;
}

/**
 * Who serves this decision, by the mode: sets the decision's propensity (the whole serving policy's
 * probability of the arm served) and its `policy` (mode, who served, the rule's arm), and says what the
 * open decision keeps for the safe-start sums. `pick` is the learner's own draw (holdout, Thompson).
 */
export function serve(e: Engine, w: DecisionWork, A: ScoreArms, kind: PolicyKind, fixedIndex: number, pick: PolicyDraw, rng: Rng, d: Decision): Served {
  const b = baselineIndex(e.cfg.safe!.baseline, w);
  const x = serveWith(coreOf(e), A, b, kind, fixedIndex, pick, rng);
  openServed(e.safe, x);
  d.propensity = x.propensity;
  d.policy = { mode: e.safe.mode, served: x.served, baseline: w.ids[b]! };
  return { draw: { index: x.index, holdout: x.holdout, picked: pick.picked }, entry: x.entry };
}

function coreOf(e: Engine): SafeCore {
  return { state: e.safe, cfg: e.cfg.safe!, bandit: e.cfg.bandit, scratch: e.scratch.policy, pi: e.scratch.pi };
}

/**
 * An open decision closes: its outcome enters the sums of the mode it was made in, if that mode is
 * still on, once its window has ended (`expiresAt` before `matureBefore`, the point up to which the
 * engine expires decisions). A purchase closes a decision early, the window's end closes the others:
 * counting a decision when it closes would count conversions sooner than failures, and the sums would
 * see, at any moment, the last window's conversions without its failures (measured, steady seed 7:
 * the apprentice's evidence came out 1 $/decision low, and an open decision's worst case would have
 * been counted beside its own early conversion). So a decision closed early waits in `matured` for its
 * window's end, with its outcome; everyone enters at the same age, converted or not.
 * `margin` is what it earned in the objective's units (0 without a purchase); undefined when its
 * outcome is unknown (closed early to bound memory): an apprentice learns nothing from it, and a
 * conservative engine keeps counting it at its open worst case.
 */
export function closeSafe(e: Engine, entry: SafeEntry, propensity: number, margin: number | undefined, expiresAt: number, matureBefore: number): void {
  closeSafeIn(e.safe, e.cfg.safe?.alpha ?? 0, entry, propensity, margin, expiresAt, matureBefore);
}

/** closeSafe on a safe-start state of its own (the evaluation's replay: `matureBefore` −∞, outcomes known at once). */
export function closeSafeIn(s: SafeState, alpha: number, entry: SafeEntry, propensity: number, margin: number | undefined, expiresAt: number, matureBefore: number): void {
  if (margin === undefined || !current(s, entry)) return;
  if (expiresAt >= matureBefore) {
    // Sorted by the window's end (channels' windows differ): a binary search for its place.
    const q = s.matured;
    let lo = 0;
    let hi = q.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (q[mid]!.at <= expiresAt) lo = mid + 1;
      else hi = mid;
    }
    q.splice(lo, 0, { at: expiresAt, entry, propensity, margin });
    return;
  }
  addClosed(s, alpha, entry, propensity, margin);
}

/** Decisions closed early whose windows have now ended enter the sums (see closeSafe). */
export function matureSafe(e: Engine, before: number): void {
  const q = e.safe.matured;
  let k = 0;
  while (k < q.length && q[k]!.at < before) {
    const m = q[k++]!;
    if (current(e.safe, m.entry)) addClosed(e.safe, e.cfg.safe?.alpha ?? 0, m.entry, m.propensity, m.margin);
  }
  if (k > 0) q.splice(0, k);
}

/** Whether any part of the entry belongs to sums still running. */
function current(s: SafeState, entry: SafeEntry): boolean {
  return entry.l?.e === s.ledgerEpoch || entry.a?.e === s.evidenceEpoch;
}

function addClosed(s: SafeState, alpha: number, entry: SafeEntry, propensity: number, margin: number): void {
  const a = entry.a;
  if (a && a.e === s.evidenceEpoch && s.mode === "apprentice") {
    const learner = doublyRobustTerm(a.qL, a.piL, propensity, margin, a.qa);
    const rule = doublyRobustTerm(a.qb, a.b ? 1 : 0, a.pb, margin, a.qb);
    addSum(s.evidence, learner - rule);
  }
  const b = entry.l;
  if (b && b.e === s.ledgerEpoch) {
    const l = s.ledger;
    addSum(l.margin, margin);
    l.openLower -= b.lo;
    if (b.base) addSum(l.baseline, margin);
    else addSum(l.learner, margin - (1 - alpha) * b.qbHi);
  }
}

/** What the dashboard and /metrics show of safe start. */
export interface SafeSnapshot {
  mode: PolicyMode;
  /**
   * What the evidence and the bound count (bandit.reward): margin (cents) or conversions. Absent from a
   * snapshot of a build before it: margin.
   */
  objective?: "margin" | "conversion" | undefined;
  baseline: string;
  alpha: number;
  decisions: number;
  servedByBaseline: number;
  explored: number;
  /** Served by the rule, as a share of the mode's decisions (0 before any). */
  baselineShare: number;
  /** Apprentice: the learner's reward (the objective's) per decision minus the rule's (doubly robust, 95%), and the decisions it must rest on. */
  evidence: Evidence | null;
  graduateAfter: number;
  /**
   * The bound (apprentice and conservative): its slack's lower confidence bound (in the objective's unit:
   * cents of margin, or conversions; the learner may serve while it stays ≥ 0), closed decisions, those
   * served by another arm than the rule's, the reward they earned (`marginCents`: conversions with the
   * conversion objective), and the slack per closed decision (its estimate and lower end).
   */
  bound: { slackLcb: number; closed: number; learnerServed: number; marginCents: number; slackPerDecision: { mean: number; lo: number } } | null;
  changes: ModeChange[];
}

export function safeSnapshot(e: Engine): SafeSnapshot {
  const s = e.safe;
  const c = e.cfg.safe;
  const l = s.ledger;
  return {
    mode: s.mode,
    objective: e.cfg.bandit.reward,
    baseline: c?.baseline?.name ?? "",
    alpha: c?.alpha ?? 0,
    decisions: s.decisions,
    servedByBaseline: s.servedByBaseline,
    explored: s.explored,
    baselineShare: s.decisions > 0 ? s.servedByBaseline / s.decisions : 0,
    evidence: s.mode === "apprentice" ? evidenceOf(e) : null,
    graduateAfter: c?.graduateAfter ?? 0,
    bound:
      s.mode === "learner"
        ? null
        : (() => {
            const alpha = c?.alpha ?? 0;
            const closed = l.baseline.n + l.learner.n;
            const lcb = slackLowerBound(l, alpha);
            const est = alpha * l.baseline.sum + l.learner.sum + l.openLower;
            return { slackLcb: lcb, closed, learnerServed: l.learner.n, marginCents: l.margin.sum, slackPerDecision: { mean: closed > 0 ? est / closed : NaN, lo: closed > 0 ? lcb / closed : NaN } };
          })(),
    changes: s.changes.map((x) => ({ ...x })),
  };
}
