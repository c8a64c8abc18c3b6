// The processor's gauges on /metrics, from a snapshot: one processor's, or, in a partitioned instance,
// the merge of its partitions' (each partition setting them in turn left one partition's figures there).
import type { KpiSnapshot } from "../kpi/index.ts";
import type { Metrics } from "../metrics/index.ts";
import { POLICY_MODES } from "../events/index.ts";

/** Sets the cache, pending and safe-start gauges; `cacheBytes`: the feature stores' memory, summed. */
export function setSnapshotGauges(metrics: Metrics, s: KpiSnapshot, cacheBytes: number): void {
  metrics.cacheCustomers.set(s.cache.customers);
  metrics.cacheEvictions.set(s.cache.evictions);
  metrics.cacheBytes.set(cacheBytes);
  metrics.cacheExpirations.set(s.cache.expirations);
  metrics.pendingDecisions.set(s.pending);
  if (s.safe) setSafeGauges(metrics, s.safe);
}

/** Safe start's figures (issue 23). */
function setSafeGauges(metrics: Metrics, s: NonNullable<KpiSnapshot["safe"]>): void {
  for (const m of POLICY_MODES) metrics.policyMode.set({ mode: m }, m === s.mode ? 1 : 0);
  metrics.baselineServedRatio.set(s.baselineShare);
  metrics.modeDecisions.set(s.decisions);
  // A figure the mode does not have now (the evidence outside an apprenticeship or before its first
  // closed decision, the slack outside conservative) is taken off /metrics, not left at its last value.
  if (s.evidence && Number.isFinite(s.evidence.mean)) {
    metrics.apprenticeEvidenceCents.set({ bound: "est" }, s.evidence.mean);
    metrics.apprenticeEvidenceCents.set({ bound: "lo" }, s.evidence.lo);
    metrics.apprenticeEvidenceCents.set({ bound: "hi" }, s.evidence.hi);
  } else metrics.apprenticeEvidenceCents.reset();
  if (s.bound) metrics.conservativeSlackCents.set(s.bound.slackLcb);
  else metrics.conservativeSlackCents.reset();
}
