// What travels over the dashboard's WebSocket. The web/ code imports these types only.
import type { Decision, OutcomeRecord } from "../events/index.ts";
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

/** A product of the simulator's catalog as `{"cmd":"catalog"}` answers it and GET /api/catalog relays it (structural, as above). */
export interface CatalogItemView {
  id: string;
  name: string;
  category: string;
  priceCents: number;
  stock: number;
}

/** How a decision of the feed ended, as its row shows it (the full record: GET /api/outcomes). */
export type OutcomeBrief = Pick<OutcomeRecord, "decisionId" | "closedBy" | "closedAt" | "revenueCents" | "discountCents" | "marginCents">;

/**
 * Why the server has no simulator status: nobody subscribes to sim.control ("not-running"), or a
 * request got no answer at all ("no-answer": NATS is down or cut off, or the simulator is stuck).
 */
export type SimAbsence = "not-running" | "no-answer";

/**
 * How fresh the processor's figures are, as every frame carries it: the page cannot tell frozen
 * numbers from quiet ones while its own socket is up (a NATS outage leaves the server's socket open).
 */
export interface Freshness {
  /** Milliseconds since the last KPI snapshot reached the server, null before any. */
  kpiAgeMs: number | null;
  /** The processor's snapshot interval (processor.snapshotEveryMs), to judge that age by. */
  kpiEveryMs: number;
  /** How often the server sends this page a frame whatever happens (server.deltaEveryMs): the page's silence is judged by it. */
  frameEveryMs?: number;
  /** Why `sim` is null, when it is and the server knows (null before the first request ends). */
  simAbsent: SimAbsence | null;
}

/** Something the operator changed, drawn as a vertical line on every chart at wall-clock time `t` (ms). */
export interface Mark {
  t: number;
  kind: "scenario" | "seed" | "mode";
  label: string;
}

export interface DashboardState extends Partial<Freshness> {
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
  /** The outcomes of the feed's decisions that have closed (absent from a server older than outcomes on the feed). */
  outcomes?: OutcomeBrief[];
  serverTimeMs: number;
}

export type ServerFrame =
  | { type: "snapshot"; state: DashboardState }
  | { type: "delta"; kpi: LiveSnapshot | null; points: HistoryPoint[]; decisions: Decision[]; sim: SimStatusView | null; regret: RegretState | null; marks: Mark[]; whatIf?: WhatIfSummary; outcomes?: OutcomeBrief[]; serverTimeMs: number } & Partial<Freshness>
  | { type: "sim-reply"; reply: unknown }
  /** promo.control's answer to a mode change asked from the dashboard (issue 23). */
  | { type: "mode-reply"; reply: unknown }
  | { type: "error"; error: string };

export type ClientFrame = { type: "sim"; cmd: string; value?: unknown } | { type: "mode"; mode: string };
