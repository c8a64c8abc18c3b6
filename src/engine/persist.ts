// The engine's whole state as plain JSON and back, for checkpoints. A restored engine must behave
// exactly like one that never stopped (same LRU order and ages, same pending expiries, same posteriors),
// so a replay from the checkpoint's stream position reproduces the same decisions.
import { AmountPosterior, ArmTable, LogisticArms, type AmountState, type ArmTableState, type LogisticState } from "../bandit/index.ts";
import { ByteReader, FeatureStore, FeaturesError, PS_ERR_FEATURES, StoreApplier, type ByteWriter, type PartSink, type StoreBase, type StoreDelta, type StoreState } from "../features/index.ts";
import { PS_ERR_STATE, StateError } from "../state/errors.ts";
import { addPromotion, createEngine, removePromotion, type EngineOptions } from "./engine.ts";
import { PendingTable } from "./pending.ts";
import type { ClockLeader, Engine, EngineCounters } from "./state.ts";
import { CLOCK_QUORUM } from "./intake.ts";
import { createSafeState, reconcileConfigMode, type SafeState } from "./safe.ts";
import { rebuildExternal } from "./sync.ts";
import { Ledger, type LedgerState } from "./ledger.ts";
import type { EngineConfig, Pending, Promotion } from "./types.ts";

type PromotionJSON = Omit<Promotion, "startsAtMs" | "endsAtMs"> & { startsAtMs: number | null; endsAtMs: number | null };

/** The checkpoint format this engine writes and reads. */
export const ENGINE_STATE_VERSION = 4;

export interface EngineState {
  /**
   * 4: safe start's state (issue 23: the policy's mode, the apprentice's evidence, the conservative
   * bound's sums) and open decisions' safe entries; a version 3 checkpoint (without them) is restored
   * with the configuration's mode, as that engine had no other. 3: the logistic model's arm terms
   * centred on the contexts' running mean, and the context evidence (issue #21); 2 held uncentred arm
   * terms, 1 margin-reward posteriors: neither can be restored.
   */
  version: 3 | 4;
  watermarkMs: number;
  /** Absent from checkpoints before the clock waited for three customers (src/engine/intake.ts). */
  clockLeaders?: ClockLeader[];
  farFutureRun: number;
  /** Absent from checkpoints before it was kept. */
  farFutureSources?: string[];
  farFutureAnchorMs: number;
  lastPurgeMs: number;
  remoteArms?: Engine["remoteArms"];
  remoteLogistic?: Engine["remoteLogistic"];
  counters: EngineCounters;
  safe?: SafeState;
  promotions: PromotionJSON[];
  /**
   * The configuration's promotions the engine ran with (absent from checkpoints before it was kept): a
   * restore compares the configuration's with them, and what changed there since takes over.
   */
  configPromotions?: PromotionJSON[];
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

function promotionJSON(p: Promotion): PromotionJSON {
  return { ...p, startsAtMs: Number.isFinite(p.startsAtMs) ? p.startsAtMs : null, endsAtMs: Number.isFinite(p.endsAtMs) ? p.endsAtMs : null };
}

/** What a restore changed because the configuration's promotions changed since the checkpoint. */
export interface ConfigPromotionChanges {
  added: string[];
  changed: string[];
  removed: string[];
}

/** One promotion's definition, to compare (keys in order, without a runtime change's time). */
function definitionOf(p: PromotionJSON): string {
  const { changedAtMs: _changedAtMs, ...rest } = p;
  return JSON.stringify(Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1))));
}

/**
 * After a restore: the checkpoint's promotions are the engine's (runtime changes included), and the
 * configuration's change since the checkpoint takes over, as policy.mode's does. A promotion added to
 * it, or changed there, applies as a change asked for now (it keeps what it learned and its spend, and
 * a new budget applies from here); one taken out of it makes no more offers. What the configuration did
 * not change keeps its runtime changes. A checkpoint from before the configuration's promotions were
 * kept only gains those it does not hold.
 */
function reconcileConfigPromotions(e: Engine, recorded: readonly PromotionJSON[] | undefined): ConfigPromotionChanges {
  const changes: ConfigPromotionChanges = { added: [], changed: [], removed: [] };
  const before = new Map((recorded ?? []).map((p) => [p.id, definitionOf(p)]));
  for (const p of e.cfg.promotions) {
    const was = before.get(p.id);
    const now = e.promotions.get(p.id);
    if (recorded === undefined ? now !== undefined : was === definitionOf(promotionJSON(p))) continue;
    // Partitioned, the global ledger takes a budget only as new as the one it holds (a runtime
    // change's time): a change after the promotion's last one.
    addPromotion(e, now?.changedAtMs !== undefined ? { ...p, changedAtMs: now.changedAtMs + 1 } : p);
    (now === undefined ? changes.added : changes.changed).push(p.id);
  }
  const listed = new Set(e.cfg.promotions.map((p) => p.id));
  for (const id of before.keys())
    if (!listed.has(id) && e.promotions.has(id)) {
      removePromotion(e, id);
      changes.removed.push(id);
    }
  return changes;
}

/** Everything but the large parts (customers, open decisions, recent event ids), copied. */
function smallStateOf(e: Engine): SmallState {
  return {
    version: ENGINE_STATE_VERSION,
    watermarkMs: e.watermarkMs,
    clockLeaders: e.clockLeaders.map((l) => ({ ...l })),
    farFutureRun: e.farFutureRun,
    farFutureSources: [...e.farFutureSources],
    farFutureAnchorMs: e.farFutureAnchorMs,
    lastPurgeMs: e.lastPurgeMs,
    remoteArms: structuredClone(e.remoteArms),
    remoteLogistic: structuredClone(e.remoteLogistic),
    counters: { ...e.counters },
    safe: structuredClone(e.safe),
    promotions: [...e.promotions.values()].map(promotionJSON),
    configPromotions: e.cfg.promotions.map(promotionJSON),
    arms: e.arms.toJSON(),
    ...(e.logistic ? { logistic: e.logistic.toJSON() } : {}),
    amounts: e.amounts.toJSON(),
    ledger: e.ledger.toJSON(),
  };
}

export function engineToJSON(e: Engine): EngineState {
  return {
    ...smallStateOf(e),
    features: e.features.exportJSON(),
    pending: e.pending.inAddOrder().map(pendingJSON),
    recentIds: e.recentIds.toArray(),
  };
}

/**
 * An engine from a checkpoint. Promotions come from the checkpoint (runtime additions included), with
 * what the configuration changed since taking over (reconcileConfigPromotions).
 */
export function engineFromJSON(cfg: EngineConfig, s: EngineState, opts: EngineOptions = {}): Engine {
  checkVersion(s.version);
  // Start from a fresh engine so every option (cache sizes, offer memory, priors) comes from one place.
  const e = createEngine(cfg, opts);
  applySmallState(e, s);
  e.features = FeatureStore.fromJSON(e.features.opts, s.features);
  e.pending = new PendingTable();
  // (A checkpoint written before outcomes carried propensities has none: 1, "certain".)
  for (const p of s.pending) e.pending.add({ ...p, propensity: p.propensity ?? 1, closed: false }, true);
  e.recentIds.clear();
  for (const id of s.recentIds) e.recentIds.add(id);
  return e;
}

/** The engine state versions this build restores (3 has no safe start's state: restored with the configuration's mode). */
export const READABLE_STATE_VERSIONS: readonly number[] = [3, ENGINE_STATE_VERSION];

/**
 * A version this build cannot read is PS_ERR_STATE_VERSION, apart from damage: after a rollback the
 * newer build's checkpoint is whole, and the way out (a build that reads it) differs. It was a plain
 * Error, which the processor's start could not tell from any other failure.
 */
function checkVersion(v: unknown): void {
  if (!READABLE_STATE_VERSIONS.includes(v as number))
    throw new StateError(
      PS_ERR_STATE.Version,
      `checkpoint engine state version ${String(v)} is not one this build reads (it reads ${READABLE_STATE_VERSIONS.join(" and ")}; ${typeof v === "number" && v > ENGINE_STATE_VERSION ? "it was written by a newer build" : "versions 1 and 2 held models this build cannot restore"})`,
    );
}

/** Everything but customers, open decisions and recent ids, from a checkpoint. */
function applySmallState(e: Engine, s: SmallState): ConfigPromotionChanges {
  e.arms = ArmTable.fromJSON(e.arms.opts, s.arms);
  if (e.logistic && s.logistic) e.logistic = LogisticArms.fromJSON(e.logistic.opts, s.logistic);
  e.amounts = AmountPosterior.fromJSON(e.amounts.opts, s.amounts);
  e.ledger = Ledger.fromJSON(s.ledger);
  e.watermarkMs = s.watermarkMs;
  // A checkpoint from before they were kept: as if three customers had reached its clock (a customer
  // ahead of it then waits for two more, as in an engine that never stopped; an empty list would let
  // the first customers after the restart move the clock alone).
  e.clockLeaders = s.clockLeaders?.map((l) => ({ ...l })) ?? (s.watermarkMs > 0 ? Array.from({ length: CLOCK_QUORUM }, (_, k) => ({ customerId: `\u0000restored-${k}`, ts: s.watermarkMs })) : []);
  e.farFutureRun = s.farFutureRun;
  // A checkpoint from before the sources were kept: a run it was in starts over.
  e.farFutureSources = s.farFutureSources ?? [];
  if (!s.farFutureSources) e.farFutureRun = 0;
  e.farFutureAnchorMs = s.farFutureAnchorMs;
  e.lastPurgeMs = s.lastPurgeMs;
  e.remoteArms = structuredClone(s.remoteArms ?? {});
  e.remoteLogistic = structuredClone(s.remoteLogistic ?? {});
  rebuildExternal(e);
  e.counters = { ...s.counters };
  // A version 3 checkpoint has no mode: its engine ran the configuration's.
  e.safe = s.safe ? structuredClone(s.safe) : createSafeState(e.cfg.safe);
  reconcileConfigMode(e, s.watermarkMs);
  e.promotions.clear();
  for (const p of s.promotions) e.promotions.set(p.id, { ...p, startsAtMs: p.startsAtMs ?? -Infinity, endsAtMs: p.endsAtMs ?? Infinity });
  return reconcileConfigPromotions(e, s.configPromotions);
}

// ---------------------------------------------------------------- incremental checkpoints (issue #16)
//
// A checkpoint is a part: a delta (what changed since the previous checkpoint) or, now and then, also
// a base (everything). A part is a stream of frames (src/features/parts.ts has the feature store's);
// the engine adds its own, in capitals:
//
//   K  the part's kind (d: delta, b: base) and format version
//   J  a delta's small state as JSON: posteriors, ledger, promotions, counters, clock, the next decision
//      seq, and the caller's extra (the processor's KPI accumulator); written whole each time (a few KB
//      to a few hundred, not growing with customers)
//   P  an open decision (JSON)
//   C  a decision closed in the delta's epoch (its seq)
//   I  an event id remembered for duplicates (added in the epoch; all of them in a base)
//
// Restore = the chain's base (if any), then its deltas in order. The last delta's J is the small state.

export const PARTS_VERSION = 1;
const EF = { kind: 0x4b, small: 0x4a, pending: 0x50, closed: 0x43, id: 0x49 } as const;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

function writeText(w: ByteWriter, type: number, text: string): void {
  const bytes = utf8.encode(text);
  w.byte(type);
  w.uvar(bytes.length);
  w.bytes(bytes);
}

/**
 * Starts keeping what changes for incremental checkpoints. `fromHere` says the state came from nowhere
 * a chain can follow (a fresh engine with events already in it, or an older JSON checkpoint): then
 * everything counts as changed, and the first delta holds it all.
 */
export function startTracking(e: Engine, fromHere: boolean): void {
  e.pending.startJournal();
  if (!fromHere) return;
  e.features.markAllChanged();
  for (const list of e.pending.lists()) for (const p of list) if (!p.closed) e.pending.journalAdded(p);
  e.recentIds.markAllAdded();
}

/** An open decision, one frame. */
function writePending(sink: PartSink, p: Pending): void {
  writeText(sink.w, EF.pending, JSON.stringify(pendingJSON(p)));
  sink.endFrame();
}

/** Recent event ids from `at` on, one frame each, until done or `shouldYield` (asked every 256); where it stopped. */
function writeIds(sink: PartSink, ids: readonly string[], at: number, shouldYield: () => boolean): number {
  while (at < ids.length) {
    sink.w.byte(EF.id);
    sink.w.str(ids[at++]!);
    sink.endFrame();
    if (at % 256 === 0 && at < ids.length && shouldYield()) return at;
  }
  return at;
}

/**
 * What changed in the engine since the previous capture, captured at a message boundary and written
 * beside the loop (`step`): the loop stops only to copy the small state, close the feature store's
 * epoch and take the journals.
 */
export class EngineDelta {
  private readonly small: string;
  readonly features: StoreDelta;
  private readonly added: Pending[];
  private readonly closed: number[];
  private readonly ids: string[];
  private stage = 0;
  private at = 0;

  constructor(e: Engine, extra: unknown) {
    this.small = JSON.stringify({ engine: smallStateOf(e), nextSeq: e.pending.seqNext, extra });
    this.features = e.features.captureDelta();
    const j = e.pending.takeJournal();
    this.added = j.added;
    this.closed = j.closed;
    this.ids = e.recentIds.takeAdded();
  }

  get complete(): boolean {
    return this.stage === 4;
  }

  /** Its checkpoint failed: the feature store stops keeping changed customers for it. */
  abandon(): void {
    this.features.abandon();
  }

  /** Writes frames until `shouldYield` says stop; true when the part is complete. */
  step(sink: PartSink, shouldYield: () => boolean): boolean {
    const w = sink.w;
    if (this.stage === 0) {
      w.byte(EF.kind);
      w.byte(0x64);
      w.uvar(PARTS_VERSION);
      writeText(w, EF.small, this.small);
      sink.endFrame();
      this.stage = 1;
    }
    if (this.stage === 1) {
      if (!this.features.step(sink, shouldYield)) return false;
      this.stage = 2;
      this.at = 0;
    }
    if (this.stage === 2) {
      while (this.at < this.added.length) {
        writePending(sink, this.added[this.at++]!);
        if (this.at % 64 === 0 && shouldYield()) return false;
      }
      for (const seq of this.closed) {
        w.byte(EF.closed);
        w.num(seq);
        sink.endFrame();
      }
      this.stage = 3;
      this.at = 0;
    }
    if (this.stage === 3) {
      this.at = writeIds(sink, this.ids, this.at, shouldYield);
      if (this.at < this.ids.length) return false;
      this.stage = 4;
      sink.seal();
    }
    return true;
  }
}

/**
 * Everything (customers, open decisions, recent ids), begun with a delta and written after it, beside
 * the loop. It is fuzzy, like the feature store's base: a restore needs the delta captured next too.
 */
export class EngineBase {
  private readonly features: StoreBase;
  private readonly lists: IterableIterator<Pending[]>;
  private readonly ids: string[];
  private stage = 0;
  private at = 0;

  constructor(e: Engine, delta: EngineDelta) {
    this.features = e.features.beginBase(delta.features);
    this.lists = e.pending.lists();
    this.ids = e.recentIds.toArray();
  }

  get complete(): boolean {
    return this.stage === 4;
  }

  /** Its checkpoint failed: the feature store may begin another base. */
  abandon(): void {
    this.features.abandon();
  }

  step(sink: PartSink, shouldYield: () => boolean): boolean {
    const w = sink.w;
    if (this.stage === 0) {
      w.byte(EF.kind);
      w.byte(0x62);
      w.uvar(PARTS_VERSION);
      sink.endFrame();
      this.stage = 1;
    }
    if (this.stage === 1) {
      if (!this.features.step(sink, shouldYield)) return false;
      this.stage = 2;
    }
    if (this.stage === 2) {
      for (let it = this.lists.next(); !it.done; it = this.lists.next()) {
        for (const p of it.value.slice()) {
          if (p.closed) continue;
          writePending(sink, p);
        }
        if (shouldYield()) return false;
      }
      this.stage = 3;
    }
    if (this.stage === 3) {
      this.at = writeIds(sink, this.ids, this.at, shouldYield);
      if (this.at < this.ids.length) return false;
      this.stage = 4;
      sink.seal();
    }
    return true;
  }
}

/** A customer store frame applied (false: not the store's); a store part of a newer build's format is PS_ERR_STATE_VERSION. */
function storeFrame(features: StoreApplier, type: number, r: ByteReader, n: number): boolean {
  try {
    return features.frame(type, r);
  } catch (err) {
    if (!(err instanceof FeaturesError && err.code === PS_ERR_FEATURES.PartVersion)) throw err;
    const v = err.version ?? NaN;
    const newer = err.readable !== undefined && err.readable.every((x) => v > x);
    throw new StateError(
      newer ? PS_ERR_STATE.Version : PS_ERR_STATE.Corrupt,
      `checkpoint part ${n} holds a customer store part of format ${v}${newer ? ", written by a newer build" : ""} (this build reads customer store formats ${err.readable?.join(" and ")})`,
      { cause: err },
    );
  }
}

/**
 * An engine from a chain of parts (a base or none, then deltas; each part's chunks joined), and the
 * extra the last delta carried. The restored engine keeps tracking changes, so its next delta follows
 * the chain.
 */
export function restoreEngine(cfg: EngineConfig, parts: readonly Uint8Array[]): { engine: Engine; extra: unknown; promotionChanges: ConfigPromotionChanges } {
  // Content that passes its checksum yet does not decode (a frame cut short, JSON that is no state: a
  // writer's fault, or parts put together by hand) threw whatever the reader met, a RangeError or a
  // TypeError, and the processor's start let it out with a stack instead of the damaged checkpoint's
  // message and way out (Processor.damagedCheckpoint).
  const at = { part: -1 };
  try {
    return restoreChain(cfg, parts, at);
  } catch (err) {
    if (err instanceof StateError) throw err;
    const where = at.part < parts.length ? `checkpoint part ${at.part}` : "the checkpoint chain's state";
    throw new StateError(PS_ERR_STATE.Corrupt, `${where} does not decode: ${(err as Error).message}`, { cause: err });
  }
}

function restoreChain(cfg: EngineConfig, parts: readonly Uint8Array[], at: { part: number }): { engine: Engine; extra: unknown; promotionChanges: ConfigPromotionChanges } {
  const e = createEngine(cfg, { trackChanges: true });
  const store = new FeatureStore(e.features.opts);
  const pending = new Map<number, Omit<Pending, "closed">>();
  let ids: string[] = [];
  let small: { engine: SmallState; nextSeq: number; extra: unknown } | undefined;
  const r = new ByteReader();
  parts.forEach((part, n) => {
    at.part = n;
    r.reset(part);
    if (r.byte() !== EF.kind) throw new StateError(PS_ERR_STATE.Corrupt, `checkpoint part ${n} does not start with its kind`);
    const kind = r.byte();
    const version = r.uvar();
    // A format above this build's is a newer build's part (found after a rollback), whole and readable
    // by that build: PS_ERR_STATE_VERSION, as an engine state version, not the damage it was reported as.
    if (version > PARTS_VERSION) throw new StateError(PS_ERR_STATE.Version, `checkpoint part ${n} is parts format ${version}, written by a newer build (this build reads parts format ${PARTS_VERSION})`);
    if (version !== PARTS_VERSION) throw new StateError(PS_ERR_STATE.Corrupt, `checkpoint part ${n} is format ${version}; this build reads ${PARTS_VERSION}`);
    if (kind === 0x62 && n !== 0) throw new StateError(PS_ERR_STATE.Corrupt, `checkpoint part ${n} is a base; only the first part of a chain may be`);
    if (kind === 0x62) ids = [];
    const features = new StoreApplier(store);
    while (!r.done) {
      const type = r.byte();
      if (storeFrame(features, type, r, n)) continue;
      switch (type) {
        case EF.small:
          small = JSON.parse(fromUtf8.decode(r.bytes(r.uvar()))) as typeof small;
          break;
        case EF.pending: {
          const p = JSON.parse(fromUtf8.decode(r.bytes(r.uvar()))) as Omit<Pending, "closed">;
          pending.set(p.seq, p);
          break;
        }
        case EF.closed:
          pending.delete(r.num());
          break;
        case EF.id:
          ids.push(r.str());
          break;
        default:
          throw new StateError(PS_ERR_STATE.Corrupt, `checkpoint part ${n} has an unknown frame type ${type} at byte ${r.pos - 1}`);
      }
    }
    features.finish();
  });
  at.part = parts.length;
  if (!small) throw new StateError(PS_ERR_STATE.Corrupt, "checkpoint chain holds no delta (no small state)");
  checkVersion(small.engine.version);
  const promotionChanges = applySmallState(e, small.engine);
  store.restored();
  e.features = store;
  e.pending = new PendingTable();
  for (const p of [...pending.values()].sort((a, b) => a.seq - b.seq)) e.pending.add({ ...p, closed: false }, true);
  e.pending.seqNext = small.nextSeq;
  e.pending.startJournal();
  e.recentIds.clear();
  for (const id of ids.length > e.recentIds.max ? ids.slice(ids.length - e.recentIds.max) : ids) e.recentIds.add(id);
  e.recentIds.takeAdded();
  return { engine: e, extra: small.extra, promotionChanges };
}
