// What travels over the dashboard's WebSocket. The web/ code imports these types only.
import type { Decision } from "../events/index.ts";
import type { HistoryPoint, LiveSnapshot, RegretState, WhatIfSummary } from "../kpi/index.ts";

/** The simulator's status as it answers sim.control (kept structural: the server never imports the simulator). */
export interface SimStatusView {
  running: boolean;
  speed: number | "max";
  scenario: string;
  seed: number;
  simTimeMs: number;
  ratePerSec: number;
  published: number;
  counts: Record<string, number>;
  scenarios: string[];
}

/** Something the operator changed, drawn as a vertical line on every chart at wall-clock time `t` (ms). */
export interface Mark {
  t: number;
  kind: "scenario" | "seed" | "mode";
  label: string;
}

export interface DashboardState {
  kpi: LiveSnapshot | null;
  history: HistoryPoint[];
  /** Newest first. */
  feed: Decision[];
  sim: SimStatusView | null;
  regret: RegretState | null;
  /** Oldest first, bounded. */
  marks: Mark[];
  /** The last what-if evaluation (`npm run eval -- --logs`), if any. */
  whatIf: WhatIfSummary | null;
  serverTimeMs: number;
}

export type ServerFrame =
  | { type: "snapshot"; state: DashboardState }
  | { type: "delta"; kpi: LiveSnapshot | null; points: HistoryPoint[]; decisions: Decision[]; sim: SimStatusView | null; regret: RegretState | null; marks: Mark[]; whatIf?: WhatIfSummary; serverTimeMs: number }
  | { type: "sim-reply"; reply: unknown }
  /** promo.control's answer to a mode change asked from the dashboard (issue 23). */
  | { type: "mode-reply"; reply: unknown }
  | { type: "error"; error: string };

export type ClientFrame = { type: "sim"; cmd: string; value?: unknown } | { type: "mode"; mode: string };
