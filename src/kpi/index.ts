export { KpiAccumulator } from "./accumulator.ts";
export type { ArmStats, SegmentStats, KpiState } from "./accumulator.ts";
export { buildSnapshot } from "./snapshot.ts";
export type { KpiSnapshot, LiveSnapshot, ArmSnapshot, Interval } from "./snapshot.ts";
export { RegretTracker } from "./regret.ts";
export type { RegretState, TruthLike, DecisionLike } from "./regret.ts";
export { toPoint, History } from "./history.ts";
export type { HistoryPoint, ArmPoint } from "./history.ts";
export { mergeSnapshots } from "./merge.ts";
