// The engine's state: what every part of the pipeline reads and writes (intake, decide, attribution,
// sync, persist). Its own module so that those parts and engine.ts, which drives them, all import it
// from here and none imports another back (issue #21: they used to import Engine from engine.ts).
import type { AmountPosterior, ArmTable, LogisticArms, LogisticShare } from "../bandit/index.ts";
import type { FeatureStore } from "../features/index.ts";
import type { Ledger } from "./ledger.ts";
import type { PendingTable } from "./pending.ts";
import type { RecentIds } from "./recent.ts";
import type { SafeState } from "./safe.ts";
import type { DecideScratch } from "./scratch.ts";
import type { EngineConfig, Promotion, SyncArms } from "./types.ts";

export interface EngineCounters {
  events: number;
  decisions: number;
  late: number;
  /** Events dead-lettered as too far ahead of the newest event time. */
  farFuture: number;
  duplicates: number;
  outcomes: number;
  overflowed: number;
  /** Inventory events older than the stock figure already applied (ignored, not dead-lettered). */
  staleInventory: number;
  /** Replaying a log (what-if evaluation): decision points this engine found where the log holds no decision. */
  unloggedPoints?: number;
}

export interface Engine {
  cfg: EngineConfig;
  promotions: Map<string, Promotion>;
  /** Beta posteriors of conversion per (arm, cell): the tabular model, and the dashboard's per-arm view. */
  arms: ArmTable;
  /** The contextual model (bandit.model "logistic"). */
  logistic: LogisticArms | undefined;
  /** What a purchase is worth per arm, for decisions with no catalog to price them. */
  amounts: AmountPosterior;
  features: FeatureStore;
  ledger: Ledger;
  pending: PendingTable;
  recentIds: RecentIds;
  /** The engine's clock: the newest event time the stream agrees on (see clockLeaders). */
  watermarkMs: number;
  /**
   * The customers with the newest events, newest first, each with its newest event time: at most
   * CLOCK_QUORUM (src/engine/intake.ts). The clock follows the last of them once there are that many.
   */
  clockLeaders: ClockLeader[];
  /** Far-future events dead-lettered in a row, one a customer (see FAR_FUTURE_RUN_TO_JUMP). */
  farFutureRun: number;
  /** The customers (or event ids) that run counted. */
  farFutureSources: string[];
  /** Event time of the first event of that run. */
  farFutureAnchorMs: number;
  /** Event time of the last sweep of idle customers. */
  lastPurgeMs: number;
  /** Partitioned mode: the latest counts each other partition shared (by partition number). */
  remoteArms: Record<string, SyncArms>;
  /** Partitioned mode: the latest logistic learning each other partition shared. */
  remoteLogistic: Record<string, LogisticShare>;
  counters: EngineCounters;
  /** Safe start (issue 23): the mode, the apprentice's evidence, the conservative bound's sums. */
  safe: SafeState;
  /** Buffers one decision reuses (this engine's own: engines in one process share nothing). */
  scratch: DecideScratch;
}

/** A customer among the newest in the stream, and its newest event time. */
export interface ClockLeader {
  customerId: string;
  ts: number;
}
