// Pure: folds server frames into the page's state. No DOM, no sockets.
import type { Decision } from "../../src/events/index.ts";
import type { HistoryPoint, LiveSnapshot, RegretState } from "../../src/kpi/index.ts";
import type { ServerFrame, SimStatusView } from "../../src/server/index.ts";

export interface ClientState {
  kpi: LiveSnapshot | null;
  history: HistoryPoint[];
  feed: Decision[];
  sim: SimStatusView | null;
  regret: RegretState | null;
  frames: number;
  lastSimReply: unknown;
}

export const MAX_HISTORY = 1200;
export const MAX_FEED = 100;

export function emptyState(): ClientState {
  return { kpi: null, history: [], feed: [], sim: null, regret: null, frames: 0, lastSimReply: null };
}

export function applyFrame(s: ClientState, f: ServerFrame): ClientState {
  switch (f.type) {
    case "snapshot":
      return {
        ...s,
        kpi: f.state.kpi,
        history: f.state.history.slice(-MAX_HISTORY),
        feed: f.state.feed.slice(0, MAX_FEED),
        sim: f.state.sim,
        regret: f.state.regret,
        frames: s.frames + 1,
      };
    case "delta": {
      const history = f.points.length ? [...s.history, ...f.points].slice(-MAX_HISTORY) : s.history;
      const feed = f.decisions.length ? [...f.decisions, ...s.feed].slice(0, MAX_FEED) : s.feed;
      return { ...s, kpi: f.kpi ?? s.kpi, history, feed, sim: f.sim, regret: f.regret, frames: s.frames + 1 };
    }
    case "sim-reply": {
      const r = f.reply as { status?: SimStatusView } | null;
      return { ...s, sim: r?.status ?? s.sim, lastSimReply: f.reply };
    }
    default:
      return s;
  }
}
