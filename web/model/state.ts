// Pure: folds server frames into the page's state (everything but the charts' columns, which live in
// a ChartStore). No DOM, no sockets.
import type { Decision } from "../../src/events/index.ts";
import type { LiveSnapshot, RegretState, WhatIfSummary } from "../../src/kpi/index.ts";
import type { Mark, ServerFrame, SimStatusView } from "../../src/server/index.ts";

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
  /** promo.control's refusal of the last mode change asked (safe start), if it refused. */
  modeError: string | null;
}

export const MAX_FEED = 100;
export const MAX_MARKS = 50;

export function emptyState(): ClientState {
  return { kpi: null, feed: [], sim: null, regret: null, marks: [], whatIf: null, frames: 0, simError: null, modeError: null };
}

/** Decisions from both lists, once each, newest first. */
export function mergeFeed(a: readonly Decision[], b: readonly Decision[], max = MAX_FEED): Decision[] {
  const seen = new Set<string>();
  const out: Decision[] = [];
  for (const d of [...a, ...b]) {
    if (seen.has(d.id)) continue;
    seen.add(d.id);
    out.push(d);
  }
  return out.sort((x, y) => y.ts - x.ts).slice(0, max);
}

/** Marks from both lists, once each, oldest first, the newest `max`. */
export function mergeMarks(a: readonly Mark[], b: readonly Mark[], max = MAX_MARKS): Mark[] {
  const byKey = new Map<string, Mark>();
  for (const m of [...a, ...b]) byKey.set(`${m.t}|${m.kind}|${m.label}`, m);
  return [...byKey.values()].sort((x, y) => x.t - y.t).slice(-max);
}

export function totalDeadLetters(kpi: LiveSnapshot | null): number {
  return kpi ? Object.values(kpi.deadLetters).reduce((a, b) => a + b, 0) : 0;
}

export function applyFrame(s: ClientState, f: ServerFrame): ClientState {
  switch (f.type) {
    case "snapshot":
      // A snapshot may come from a restarted server that has seen less than this page: merge lists.
      return {
        ...s,
        kpi: f.state.kpi ?? s.kpi,
        feed: mergeFeed(f.state.feed, s.feed),
        sim: f.state.sim,
        regret: f.state.regret ?? s.regret,
        marks: mergeMarks(s.marks, f.state.marks ?? []),
        whatIf: f.state.whatIf ?? s.whatIf,
        frames: s.frames + 1,
      };
    case "delta":
      return {
        ...s,
        kpi: f.kpi ?? s.kpi,
        feed: f.decisions.length ? mergeFeed(f.decisions, s.feed) : s.feed,
        sim: f.sim,
        regret: f.regret ?? s.regret,
        marks: f.marks?.length ? mergeMarks(s.marks, f.marks) : s.marks,
        whatIf: f.whatIf ?? s.whatIf,
        frames: s.frames + 1,
      };
    case "mode-reply": {
      const r = f.reply as { ok?: boolean; error?: unknown } | null;
      return { ...s, modeError: r?.ok === false ? String(r.error ?? "promo.control refused the change") : null };
    }
    case "sim-reply": {
      const r = f.reply as { ok?: boolean; error?: unknown; status?: SimStatusView } | null;
      return { ...s, sim: r?.status ?? s.sim, simError: r?.ok === false ? String(r.error ?? "the simulator refused the command") : null };
    }
    default:
      return s;
  }
}
