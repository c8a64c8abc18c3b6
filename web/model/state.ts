// Pure: folds server frames into the page's state (everything but the charts' columns, which live in
// a ChartStore). No DOM, no sockets.
import type { Decision } from "../../src/events/index.ts";
import type { LiveSnapshot, RegretState, WhatIfSummary } from "../../src/kpi/index.ts";
import type { Freshness, Mark, OutcomeBrief, ServerFrame, SimStatusView } from "../../src/server/index.ts";
import { followDecisions, joinOutcomes, mergeDecisions } from "./outcomes.ts";

export interface ClientState {
  kpi: LiveSnapshot | null;
  /** Newest first, bounded. */
  feed: Decision[];
  sim: SimStatusView | null;
  regret: RegretState | null;
  /** Oldest first, bounded. */
  marks: Mark[];
  /** The last what-if evaluation the server knows of. */
  whatIf: WhatIfSummary | null;
  frames: number;
  /** The simulator's refusal of the last command, if it refused. */
  simError: string | null;
  /** Replies to the page's simulator commands so far: after each, the controls show the simulator's settings again. */
  simReplies: number;
  /** The customer the feed follows ("" for everyone): the person at /shop, `/?customer=<id>`. */
  follow: string;
  /** That customer's decisions, newest first, bounded: kept after they leave the feed. */
  followed: Decision[];
  /** How the decisions on show ended, by decision id (open ones have none). */
  outcomes: ReadonlyMap<string, OutcomeBrief>;
  /** promo.control's refusal of the last mode change asked (safe start), if it refused. */
  modeError: string | null;
  /** A mode change was sent and promo.control has not answered yet: the button waits (a double click asked twice). */
  modePending: boolean;
  /** The simulator's world as the page last knew it (kept while the simulator is away), to notice a change no mark names. */
  knownSim: Pick<SimStatusView, "scenario" | "seed"> | null;
  /** How fresh the processor's figures are and why there is no simulator, as the last frame said (absent from older servers). */
  fresh: Partial<Freshness>;
}

export const MAX_FEED = 100;
export const MAX_MARKS = 50;

export function emptyState(): ClientState {
  return { kpi: null, feed: [], sim: null, regret: null, marks: [], whatIf: null, frames: 0, simError: null, simReplies: 0, modeError: null, modePending: false, follow: "", followed: [], outcomes: new Map(), knownSim: null, fresh: {} };
}

/** Follows one customer's decisions ("" for everyone): those still in the feed at once, the next ones as they come. */
export function followCustomer(s: ClientState, customerId: string): ClientState {
  const follow = customerId.trim();
  const followed = followDecisions([], s.feed, follow);
  return { ...s, follow, followed, outcomes: joinOutcomes(s.outcomes, [], [s.feed, followed]) };
}

/** The feed's and the followed customer's decisions with the outcomes that came with a frame. */
function withDecisions(s: ClientState, feed: Decision[], incoming: readonly Decision[], outcomes: readonly OutcomeBrief[] | undefined): ClientState {
  const followed = followDecisions(s.followed, incoming, s.follow);
  return { ...s, feed, followed, outcomes: joinOutcomes(s.outcomes, outcomes, [feed, followed]) };
}

/** The incoming decisions `a` above the held ones `b`, once each, bounded (outcomes.ts mergeDecisions). */
export function mergeFeed(a: readonly Decision[], b: readonly Decision[], max = MAX_FEED): Decision[] {
  return mergeDecisions(a, b, max);
}

/** Marks from both lists, once each, oldest first, the newest `max`. */
export function mergeMarks(a: readonly Mark[], b: readonly Mark[], max = MAX_MARKS): Mark[] {
  const byKey = new Map<string, Mark>();
  for (const m of [...a, ...b]) byKey.set(`${m.t}|${m.kind}|${m.label}`, m);
  return [...byKey.values()].sort((x, y) => x.t - y.t).slice(-max);
}

/**
 * Marks for a change of the simulator's world that no mark names. After the whole system restarts the
 * simulator is back at its start settings, but a restarted server has no earlier status to compare with
 * and marks nothing (src/server/marks.ts); the page still knows the world before. Labelled like the
 * server's marks, at the server's time `t`.
 */
export function unmarkedChanges(known: ClientState["knownSim"], next: SimStatusView | null, marks: readonly Mark[], t: number): Mark[] {
  if (!known || !next) return [];
  const latest = (kind: Mark["kind"]) => {
    for (let i = marks.length - 1; i >= 0; i--) if (marks[i]!.kind === kind) return marks[i]!.label;
    return undefined;
  };
  const out: Mark[] = [];
  if (next.scenario !== known.scenario && latest("scenario") !== next.scenario) out.push({ t, kind: "scenario", label: next.scenario });
  if (next.seed !== known.seed && latest("seed") !== `seed ${next.seed}`) out.push({ t, kind: "seed", label: `seed ${next.seed}` });
  return out;
}

/** The marks after a frame: the server's, and the page's own for a change of world the server did not mark. */
function withSimMarks(s: ClientState, marks: Mark[], sim: SimStatusView | null, t: number): Pick<ClientState, "marks" | "knownSim"> {
  const missed = unmarkedChanges(s.knownSim, sim, marks, t);
  return { marks: missed.length ? mergeMarks(marks, missed) : marks, knownSim: sim ? { scenario: sim.scenario, seed: sim.seed } : s.knownSim };
}

function freshness(f: Partial<Freshness>): Partial<Freshness> {
  const out: Partial<Freshness> = {};
  if (f.kpiAgeMs !== undefined) out.kpiAgeMs = f.kpiAgeMs;
  if (f.kpiEveryMs !== undefined) out.kpiEveryMs = f.kpiEveryMs;
  if (f.frameEveryMs !== undefined) out.frameEveryMs = f.frameEveryMs;
  if (f.simAbsent !== undefined) out.simAbsent = f.simAbsent;
  return out;
}

export function totalDeadLetters(kpi: LiveSnapshot | null): number {
  return kpi ? Object.values(kpi.deadLetters).reduce((a, b) => a + b, 0) : 0;
}

/** What the page says of a command it could not send (its socket down): nothing reached the server. */
export const NOT_SENT = "not sent: the page is not connected to the server (it reconnects by itself; try again once it is live)";

/**
 * A simulator or mode command the page could not send. It is said so, like a refusal, and the
 * simulator's controls count it as answered, so they show the simulator's own settings again instead of
 * the choice that went nowhere.
 */
export function commandNotSent(s: ClientState, kind: "sim" | "mode"): ClientState {
  return kind === "sim" ? { ...s, simError: NOT_SENT, simReplies: s.simReplies + 1 } : { ...s, modeError: NOT_SENT, modePending: false };
}

/** A mode change sent: no other is asked until promo.control answers (or the connection it went on is gone). */
export function modeAsked(s: ClientState): ClientState {
  return { ...s, modeError: null, modePending: true };
}

export function applyFrame(s: ClientState, f: ServerFrame): ClientState {
  switch (f.type) {
    case "snapshot":
      // A snapshot may come from a restarted server that has seen less than this page: merge lists.
      return {
        ...withDecisions(s, mergeFeed(f.state.feed, s.feed), f.state.feed, f.state.outcomes),
        kpi: f.state.kpi ?? s.kpi,
        sim: f.state.sim,
        regret: f.state.regret ?? s.regret,
        ...withSimMarks(s, mergeMarks(s.marks, f.state.marks ?? []), f.state.sim, f.state.serverTimeMs),
        whatIf: f.state.whatIf ?? s.whatIf,
        fresh: freshness(f.state),
        frames: s.frames + 1,
        // A snapshot opens every connection: "not sent, the page is not connected" is no longer true.
        simError: s.simError === NOT_SENT ? null : s.simError,
        modeError: s.modeError === NOT_SENT ? null : s.modeError,
        // The answer to an ask on an earlier connection cannot come on this one.
        modePending: false,
      };
    case "delta":
      return {
        ...(f.decisions.length || f.outcomes?.length ? withDecisions(s, f.decisions.length ? mergeFeed(f.decisions, s.feed) : s.feed, f.decisions, f.outcomes) : s),
        kpi: f.kpi ?? s.kpi,
        sim: f.sim,
        regret: f.regret ?? s.regret,
        ...withSimMarks(s, f.marks?.length ? mergeMarks(s.marks, f.marks) : s.marks, f.sim, f.serverTimeMs),
        whatIf: f.whatIf ?? s.whatIf,
        fresh: freshness(f),
        frames: s.frames + 1,
      };
    case "mode-reply": {
      const r = f.reply as { ok?: boolean; error?: unknown } | null;
      return { ...s, modeError: r?.ok === false ? String(r.error ?? "promo.control refused the change") : null, modePending: false };
    }
    case "sim-reply": {
      const r = f.reply as { ok?: boolean; error?: unknown; status?: SimStatusView } | null;
      return { ...s, sim: r?.status ?? s.sim, simError: r?.ok === false ? String(r.error ?? "the simulator refused the command") : null, simReplies: s.simReplies + 1 };
    }
    default:
      return s;
  }
}
