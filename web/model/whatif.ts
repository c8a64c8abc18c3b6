// Pure: the what-if panel's rows (issue #17): the live policy and each candidate, doubly robust
// estimates per decision with their intervals, and a verdict against the live policy.
import type { WhatIfSummary } from "../../src/kpi/index.ts";

export interface WhatIfRow {
  name: string;
  /** The candidate's overlay, for the tooltip; "" for the live policy. */
  overlay: string;
  /** Margin per decision, and over always-control, as "$1.23 [0.80, 1.66]". */
  value: string;
  incremental: string;
  ess: string;
  /** better / worse / unproven: whether its incremental interval lies above, below or across the live policy's estimate. */
  verdict: "live" | "better" | "worse" | "unproven" | "no answer";
  warnings: string[];
}

const dollars = (c: number) => (Number.isFinite(c) ? `$${(c / 100).toFixed(2)}` : "–");
const withCi = (e: { value: number; ci95: [number, number] }) => `${dollars(e.value)} [${(e.ci95[0] / 100).toFixed(2)}, ${(e.ci95[1] / 100).toFixed(2)}]`;

export function whatIfRows(s: WhatIfSummary | null): WhatIfRow[] {
  if (!s) return [];
  const live = s.logged.incremental.value;
  const rows: WhatIfRow[] = [{ name: "live policy (logged)", overlay: "", value: withCi(s.logged), incremental: withCi(s.logged.incremental), ess: String(s.rows), verdict: "live", warnings: [] }];
  for (const c of s.candidates) {
    const lo = c.incremental.ci95[0];
    const hi = c.incremental.ci95[1];
    const verdict = c.warnings.some((w) => w.startsWith("effective sample size")) ? "no answer" : lo > live ? "better" : hi < live ? "worse" : "unproven";
    rows.push({ name: c.name, overlay: JSON.stringify(c.overlay), value: withCi(c.dr), incremental: withCi(c.incremental), ess: `${Math.round(c.ess)} of ${c.rows}`, verdict, warnings: c.warnings });
  }
  return rows;
}
