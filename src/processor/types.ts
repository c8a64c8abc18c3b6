import type { EngineState } from "../engine/index.ts";
import type { KpiState, LiveSnapshot } from "../kpi/index.ts";

/** What a checkpoint holds. */
export interface ProcessorState {
  engine: EngineState;
  kpi: KpiState;
}

export type ProcessorSnapshot = LiveSnapshot;
export type ProcessorHealth = LiveSnapshot["health"];
