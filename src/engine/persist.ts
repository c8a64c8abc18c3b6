// The engine's whole state as plain JSON and back, for checkpoints. A restored engine must behave
// exactly like one that never stopped (same LRU order and ages, same pending expiries, same posteriors),
// so a replay from the checkpoint's stream position reproduces the same decisions.
import { AmountPosterior, ArmTable, LogisticArms, type AmountState, type ArmTableState, type LogisticState } from "../bandit/index.ts";
import { FeatureStore, type StoreSnapshot, type StoreState } from "../features/index.ts";
import { PendingTable } from "./attribution.ts";
import { createEngine, type Engine, type EngineCounters } from "./engine.ts";
import { rebuildExternal } from "./sync.ts";
import { Ledger, type LedgerState } from "./ledger.ts";
import type { EngineConfig, Pending, Promotion } from "./types.ts";

type PromotionJSON = Omit<Promotion, "startsAtMs" | "endsAtMs"> & { startsAtMs: number | null; endsAtMs: number | null };

/** The checkpoint format this engine writes and reads. */
export const ENGINE_STATE_VERSION = 2;

export interface EngineState {
  /** 2: conversion models (issue #14); 1 held margin-reward posteriors and cannot be restored. */
  version: 2;
  watermarkMs: number;
  farFutureRun: number;
  farFutureAnchorMs: number;
  lastPurgeMs: number;
  remoteArms?: Engine["remoteArms"];
  remoteLogistic?: Engine["remoteLogistic"];
  counters: EngineCounters;
  promotions: PromotionJSON[];
  arms: ArmTableState;
  logistic?: LogisticState;
  amounts: AmountState;
  features: StoreState;
  ledger: LedgerState;
  pending: Omit<Pending, "closed">[];
  /** Recent event ids, least recently seen first. */
  recentIds: string[];
}

/** An open decision as a checkpoint holds it (`closed` is always false there). */
function pendingJSON({ closed: _closed, ...p }: Pending): Omit<Pending, "closed"> {
  return p;
}

type SmallState = Omit<EngineState, "features" | "pending" | "recentIds">;

/** Everything but the large parts (customers, open decisions, recent event ids), copied. */
function smallStateOf(e: Engine): SmallState {
  return {
    version: ENGINE_STATE_VERSION,
    watermarkMs: e.watermarkMs,
    farFutureRun: e.farFutureRun,
    farFutureAnchorMs: e.farFutureAnchorMs,
    lastPurgeMs: e.lastPurgeMs,
    remoteArms: structuredClone(e.remoteArms),
    remoteLogistic: structuredClone(e.remoteLogistic),
    counters: { ...e.counters },
    promotions: [...e.promotions.values()].map((p) => ({
      ...p,
      startsAtMs: Number.isFinite(p.startsAtMs) ? p.startsAtMs : null,
      endsAtMs: Number.isFinite(p.endsAtMs) ? p.endsAtMs : null,
    })),
    arms: e.arms.toJSON(),
    ...(e.logistic ? { logistic: e.logistic.toJSON() } : {}),
    amounts: e.amounts.toJSON(),
    ledger: e.ledger.toJSON(),
  };
}

export function engineToJSON(e: Engine): EngineState {
  return {
    ...smallStateOf(e),
    features: e.features.toJSON(),
    pending: e.pending.inAddOrder().map(pendingJSON),
    recentIds: e.recentIds.toArray(),
  };
}

/**
 * The engine's state at this moment, serialised while the engine goes on: what `engineToJSON` gives,
 * as JSON text, without stopping the caller for all of it. The small parts are copied now; the
 * customers are written out copy-on-write (`StoreSnapshot`); open decisions and recent event ids are
 * listed now (decisions do not change once open, ids are strings) and written out in slices.
 */
export class EngineSnapshot {
  private readonly head: string;
  private readonly features: StoreSnapshot;
  private readonly pending: Pending[];
  private readonly pendingParts: string[] = [];
  private pendingSorted = false;
  private readonly recentIds: string[];
  /** The ids written out so far, in chunks (each a JSON array's inside). */
  private readonly recentParts: string[] = [];
  private recentDone = 0;

  constructor(e: Engine) {
    this.head = JSON.stringify(smallStateOf(e));
    this.features = e.features.beginSnapshot();
    // Listed now, put in the order they were added in the first slice (their seq never changes).
    this.pending = e.pending.values();
    this.recentIds = e.recentIds.toArray();
  }

  get done(): boolean {
    return this.features.done && this.pendingParts.length === this.pending.length && this.recentDone === this.recentIds.length;
  }

  /**
   * Serialises until `shouldYield` says stop (the shell's time budget: the core reads no clock);
   * true when all is done.
   */
  step(shouldYield: () => boolean): boolean {
    if (!this.features.step(shouldYield)) return false;
    if (!this.pendingSorted) {
      this.pending.sort((a, b) => a.seq - b.seq);
      this.pendingSorted = true;
    }
    const parts = this.pendingParts;
    while (parts.length < this.pending.length) {
      parts.push(JSON.stringify(pendingJSON(this.pending[parts.length]!)));
      if (parts.length % 64 === 0 && shouldYield()) return false;
    }
    while (this.recentDone < this.recentIds.length) {
      const chunk = this.recentIds.slice(this.recentDone, this.recentDone + 2_000);
      this.recentParts.push(JSON.stringify(chunk).slice(1, -1));
      this.recentDone += chunk.length;
      if (shouldYield()) return this.done;
    }
    return true;
  }

  /** The engine's JSON (an `EngineState`), finishing the serialisation first if needed. */
  json(): string {
    this.step(() => false);
    return `${this.head.slice(0, -1)},"features":${this.features.json()},"pending":[${this.pendingParts.join(",")}],"recentIds":[${this.recentParts.join(",")}]}`;
  }
}

/** An engine from a checkpoint. Promotions come from the checkpoint (runtime additions included). */
export function engineFromJSON(cfg: EngineConfig, s: EngineState): Engine {
  if (s.version !== ENGINE_STATE_VERSION) throw new Error(`checkpoint version ${String(s.version)} is not supported (version 2 holds conversion models; start from the stream instead)`);
  // Start from a fresh engine so every option (cache sizes, offer memory, priors) comes from one place.
  const e = createEngine(cfg);
  e.arms = ArmTable.fromJSON(e.arms.opts, s.arms);
  if (e.logistic && s.logistic) e.logistic = LogisticArms.fromJSON(e.logistic.opts, s.logistic);
  e.amounts = AmountPosterior.fromJSON(e.amounts.opts, s.amounts);
  e.features = FeatureStore.fromJSON(e.features.opts, s.features);
  e.ledger = Ledger.fromJSON(s.ledger);
  e.pending = new PendingTable();
  // (A checkpoint written before outcomes carried propensities has none: 1, "certain".)
  for (const p of s.pending) e.pending.add({ ...p, propensity: p.propensity ?? 1, closed: false }, true);
  e.recentIds.clear();
  for (const id of s.recentIds) e.recentIds.add(id);
  e.watermarkMs = s.watermarkMs;
  e.farFutureRun = s.farFutureRun;
  e.farFutureAnchorMs = s.farFutureAnchorMs;
  e.lastPurgeMs = s.lastPurgeMs;
  e.remoteArms = structuredClone(s.remoteArms ?? {});
  e.remoteLogistic = structuredClone(s.remoteLogistic ?? {});
  rebuildExternal(e);
  e.counters = { ...s.counters };
  e.promotions.clear();
  for (const p of s.promotions) e.promotions.set(p.id, { ...p, startsAtMs: p.startsAtMs ?? -Infinity, endsAtMs: p.endsAtMs ?? Infinity });
  return e;
}
