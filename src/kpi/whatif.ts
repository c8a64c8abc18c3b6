// The last what-if evaluation as the dashboard shows it (issue #17): written by
// `npm run eval -- --logs` into the state bucket under WHATIF_KEY, read by the server.

export interface WhatIfEstimate {
  value: number;
  ci95: [number, number];
}

export interface WhatIfSummary {
  /** Wall-clock time of the evaluation. */
  at: number;
  /** Decisions evaluated. */
  rows: number;
  /** What the logged policy earned per decision (cents), and over always-control. */
  logged: { value: number; ci95: [number, number]; incremental: WhatIfEstimate };
  /** Each candidate: doubly robust value and incremental value per decision (cents), effective sample size, warnings. */
  candidates: { name: string; dr: WhatIfEstimate; incremental: WhatIfEstimate; ess: number; rows: number; warnings: string[]; overlay: unknown }[];
}

/** Where the summary is kept in the state bucket (kv.stateBucket). */
export const WHATIF_KEY = "whatif.latest";
