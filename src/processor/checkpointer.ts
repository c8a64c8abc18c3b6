// The checkpointer (Kafka Streams' StateManager, the writing half): when to checkpoint, capturing the
// state at a message boundary, writing it beside the loop, and moving the head only once every publish
// it covers is stored.
//
// Checkpoints are incremental (issue #16): each writes a delta, what changed since the previous one,
// appended to a chain that starts with a base (everything) or with nothing. Now and then a checkpoint
// also writes a new base; it joins the chain with the next delta (a base is written while the loop
// goes on, so it needs the changes made during its writing), and the old chain is purged then.
import type { NatsConnection } from "@nats-io/transport-node";
import { EngineBase, EngineDelta, engineFromJSON, restoreEngine, startTracking, ENGINE_STATE_VERSION, type Engine, type ConfigPromotionChanges, type EngineConfig, type EngineState } from "../engine/index.ts";
import { PartSink } from "../features/index.ts";
import { KpiAccumulator, type KpiState } from "../kpi/index.ts";
import type { Logger } from "../log/index.ts";
import type { Metrics } from "../metrics/index.ts";
import { CheckpointStore, PS_ERR_STATE, StateError, type ChainHead, type PartRef } from "../state/index.ts";

/** A checkpoint's writing runs in slices of about this many ms between the loop's turns. */
const SLICE_MS = 2;
/** Chunks of a part (one KV value each; NATS messages are at most 1 MiB by default). */
const CHUNK_BYTES = 512 * 1024;
/**
 * When a new base is due: once the deltas since the last one add up to `share` of it (a restore reads
 * base + deltas, so it stays within 1 + share of a base's time), or to `bytes` when the chain has no
 * base, or once the chain has `deltas` deltas.
 */
export const BASE_POLICY = { share: 0.5, bytes: 8 * 2 ** 20, deltas: 32 };

export interface CheckpointerOptions {
  everyEvents: number;
  everyMs: number;
  /** Someone else wrote this checkpoint's head: another instance owns the partition now. */
  onFenced?: (() => void) | undefined;
  /**
   * Whether this instance's lease on the partition is still good (partitioned; no request), asked
   * before a checkpoint is taken and before its head is moved. An instance paused past its lease wakes
   * with a checkpoint due: written, it moved the head the new owner had restored, whose next
   * checkpoint then failed its revision check and fenced the owner off its own partition. Asked, no
   * head moves until the lease is renewed, and the lease round stops the partition if it was lost.
   */
  leaseHeld?: (() => boolean) | undefined;
  /** Replicas of the state bucket, should it have to be made again (deleted while running): streams.events.replicas, as provisioning. */
  bucketReplicas?: number | undefined;
  /** When a new base is due (BASE_POLICY by default). */
  basePolicy?: typeof BASE_POLICY | undefined;
}

/** The state at one message boundary, as the driver hands it over. */
export interface CheckpointSource {
  /** Stream sequence of the last event the state reflects. */
  seq: number;
  engine: Engine;
  kpi: KpiAccumulator;
}

export interface Restored {
  streamSeq: number;
  engine: Engine;
  kpi: KpiAccumulator;
  /** How it was stored: a chain of parts, or one JSON state of an earlier version. */
  format: "chain" | "json";
  bytes: number;
  parts: number;
  /** The creation time of the stream `streamSeq` counts in, when the checkpoint says (ChainHead.streamCreated). */
  streamCreated?: string | undefined;
  /** Promotions the configuration added, changed or took out since the checkpoint (applied at the restore). */
  promotionChanges?: ConfigPromotionChanges | undefined;
}

/** Reads a processor's newest checkpoint and restores its engine (the restored engine tracks changes). */
export async function loadCheckpoint(store: CheckpointStore, cfg: EngineConfig, log?: Logger): Promise<Restored | undefined> {
  await store.open();
  const loaded = await store.load();
  if (!loaded) return undefined;
  if (loaded.format === "chain") {
    // A head naming no part yet (the first checkpoints were lost, a base waits for its delta): nothing
    // to restore, the stream is read from its start.
    if (loaded.parts.length === 0) return undefined;
    const { engine, extra, promotionChanges } = restoreEngine(cfg, loaded.parts);
    return { streamSeq: loaded.head.streamSeq, engine, kpi: KpiAccumulator.fromJSON(extra as KpiState), format: "chain", bytes: loaded.bytes, parts: loaded.parts.length, streamCreated: loaded.head.streamCreated, promotionChanges };
  }
  const state = loaded.state as { engine: EngineState; kpi: KpiState };
  // (Version 3, before safe start's state, is restored with the configuration's mode: issue 23.)
  if (state.engine.version !== ENGINE_STATE_VERSION && state.engine.version !== 3) {
    // A checkpoint of an older engine (issue #14 changed what the models hold): the caller rebuilds
    // the state by replaying the stream from its start.
    log?.warn({ version: state.engine.version, expected: ENGINE_STATE_VERSION }, "checkpoint from another engine version; rebuilding the state from the start of the stream");
    return undefined;
  }
  const engine = engineFromJSON(cfg, state.engine, { trackChanges: true });
  // Nothing a chain can follow: the first delta will hold everything.
  startTracking(engine, true);
  return { streamSeq: loaded.head.streamSeq, engine, kpi: KpiAccumulator.fromJSON(state.kpi), format: "json", bytes: loaded.head.bytes, parts: 1 };
}

export class Checkpointer {
  private readonly store: CheckpointStore;
  /** The checkpoint being written, if any: one at a time. */
  private saving: Promise<void> | undefined;
  private sinceCheckpoint = 0;
  private lastCheckpointMs = Date.now();
  /** The chain the head names. */
  private chain: { base?: PartRef | undefined; deltas: PartRef[] } = { deltas: [] };
  /** A base written with the previous checkpoint, joining the chain with the next delta. */
  private nextBase: PartRef | undefined;
  /** A delta was lost (a write failed): the chain cannot go on, a new base must start one. */
  private broken = false;

  constructor(
    nc: NatsConnection,
    bucket: string,
    /** The processor's durable name, also the checkpoint's key. */
    name: string,
    private readonly opts: CheckpointerOptions,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.store = new CheckpointStore(nc, bucket, name);
  }

  /** The creation time of the stream the checkpoints' sequences count in, written into each from now on. */
  set streamCreated(created: string) {
    this.store.streamCreated = created;
  }

  /** The newest checkpoint restored, if any; the chain it came from is the one new deltas follow. */
  async load(cfg: EngineConfig): Promise<Restored | undefined> {
    const restored = await loadCheckpoint(this.store, cfg, this.log);
    const head = this.store.latest;
    if (restored?.format === "chain" && head && "format" in head) {
      this.chain = { base: head.base, deltas: [...head.deltas] };
      // A base written for the chain but never joined: the next checkpoint writes a new one.
      this.nextBase = undefined;
      if (head.nextBase) await this.store.dropPart(head.nextBase);
    }
    return restored;
  }

  /** One more event is reflected in the state. */
  noteEvent(): void {
    this.sinceCheckpoint++;
  }

  /** True when a checkpoint is due and none is being written. */
  due(nowMs: number): boolean {
    return !this.saving && (this.sinceCheckpoint >= this.opts.everyEvents || nowMs - this.lastCheckpointMs >= this.opts.everyMs);
  }

  private baseDue(): boolean {
    if (this.nextBase) return false;
    if (this.broken) return true;
    const policy = this.opts.basePolicy ?? BASE_POLICY;
    const deltaBytes = this.chain.deltas.reduce((s, d) => s + d.bytes, 0);
    if (this.chain.deltas.length >= policy.deltas) return true;
    return this.chain.base ? deltaBytes >= Math.max(policy.bytes / 2, this.chain.base.bytes * policy.share) : deltaBytes >= policy.bytes;
  }

  /**
   * Captures the state at this message boundary and writes it beside the loop: the loop stops only to
   * copy the small state and close the epoch (`ps_checkpoint_pause_seconds`); the changed customers,
   * decisions and ids are written in slices of SLICE_MS between the loop's turns, copy-on-write. The
   * head moves once `covered` (the flush of every publish handled up to now) resolves: a checkpoint
   * must never cover a decision that could still be lost. `wait` awaits all of it, writing at once (as
   * on stop). `final` (the stop's) writes no base even when one is due: a base joins the chain only with
   * the delta after it, which a stopped processor never writes, and the next start drops it unread (a
   * 43 MB base took 3.7 s of a Ctrl-C at max speed); the next run's first checkpoint writes it instead.
   */
  async checkpoint(src: () => CheckpointSource, covered: () => Promise<void>, opts: { wait?: boolean; final?: boolean } = {}): Promise<void> {
    await this.saving;
    // Not taken while the lease may be someone else's (see leaseHeld): asked again when next due.
    if (this.opts.leaseHeld && !this.opts.leaseHeld()) {
      if (opts.final) this.log.warn("final checkpoint not written: the partition's lease was not renewed in time (the next owner replays from the last one)");
      return;
    }
    const t0 = performance.now();
    const { seq, engine, kpi } = src();
    let delta: EngineDelta | undefined;
    let base: EngineBase | undefined;
    try {
      delta = new EngineDelta(engine, kpi.toJSON());
      base = !opts.final && this.baseDue() ? new EngineBase(engine, delta) : undefined;
    } catch (err) {
      // Nothing is written and what was captured is lost: the next checkpoint starts a new chain. The
      // loop goes on (a checkpoint that cannot be taken must not stop the processor deciding).
      delta?.abandon();
      this.broken = true;
      this.nextBase = undefined;
      this.log.error({ err }, "checkpoint not taken; the previous one stays valid");
      return;
    }
    this.sinceCheckpoint = 0;
    this.lastCheckpointMs = Date.now();
    this.metrics.checkpointPauseSeconds.observe((performance.now() - t0) / 1000);
    const flushed = covered();
    // Settles only once the parts are written, even if the flush fails first: the next checkpoint must
    // not capture while this one's parts are still being written.
    flushed.catch(() => undefined);
    /** Parts written for this checkpoint; dropped if it fails before its head could have moved. */
    const written: PartRef[] = [];
    let committing = false;
    const job = (async () => {
      const deltaRef = await this.writePart("delta", delta, opts.wait ?? false);
      written.push(deltaRef);
      const baseRef = base ? await this.writePart("base", base, opts.wait ?? false) : undefined;
      if (baseRef) written.push(baseRef);
      await flushed;
      let chain = this.chain;
      if (this.nextBase) chain = { base: this.nextBase, deltas: [deltaRef] };
      else if (!this.broken) chain = { base: chain.base, deltas: [...chain.deltas, deltaRef] };
      else await this.store.dropPart(deltaRef);
      const moved = chain !== this.chain;
      if (this.opts.leaseHeld && !this.opts.leaseHeld()) throw new Error("the partition's lease was not renewed in time (another instance may own it now): the checkpoint head is not moved");
      committing = true;
      // A head that keeps the previous sequence keeps the stream it counts in too: after EVENTS was made
      // again, the old stream's sequence stamped with the new stream's creation would skip as many events.
      const kept = moved ? undefined : this.store.latest;
      const bytes = deltaRef.bytes + (baseRef?.bytes ?? 0);
      const head = kept
        ? await this.store.commit({ ...chain, nextBase: baseRef }, kept.streamSeq, bytes, "streamCreated" in kept ? kept.streamCreated : undefined)
        : await this.store.commit({ ...chain, nextBase: baseRef }, moved ? seq : 0, bytes);
      this.chain = chain;
      this.nextBase = baseRef;
      if (baseRef) this.broken = false;
      return head;
    })().then(
      (head) => {
        this.metrics.checkpoints.inc();
        this.metrics.checkpointBytes.set(head.bytes);
        this.metrics.checkpointSeconds.observe((performance.now() - t0) / 1000);
      },
      async (err: Error) => {
        // This delta is lost: the chain cannot go on without it, so the next checkpoint starts a new one.
        // What was not written is let go, or the store would wait for it forever (no new base, no new
        // delta: every later checkpoint would fail).
        delta.abandon();
        base?.abandon();
        this.broken = true;
        this.nextBase = undefined;
        // A write that failed because the bucket is gone is no passing fault: the previous checkpoint
        // went with it, and the chain's parts too. The next checkpoints start from nothing: a base and
        // the delta after it.
        const gone = err instanceof StateError && err.code === PS_ERR_STATE.Gone ? err : err instanceof StateError && err.code === PS_ERR_STATE.Unavailable ? await this.store.remakeIfGone(this.opts.bucketReplicas ?? 1) : undefined;
        if (gone) {
          this.chain = { deltas: [] };
          this.log.error({ err: gone.message, code: gone.code }, "checkpoint failed: the checkpoint was deleted under the processor; a restart before the next two checkpoints rebuilds the state by replaying EVENTS from its start");
        } else this.log.error({ err: err.message, code: (err as { code?: string }).code }, "checkpoint failed; the previous one stays valid");
        const fenced = err instanceof StateError && err.code === PS_ERR_STATE.Conflict;
        // Its parts are no one's unless the head may have moved (a commit that timed out may have landed).
        if (!committing || fenced) for (const ref of written) await this.store.dropPart(ref);
        if (fenced) this.opts.onFenced?.();
      },
    );
    this.saving = job.finally(() => (this.saving = undefined));
    if (opts.wait) await job;
  }

  /**
   * Writes one part, a slice at a time, each in its own turn of the event loop (all at once with
   * `now`). The clock is read here, in the shell: the part only asks "should I yield?".
   */
  private async writePart(kind: PartRef["kind"], part: EngineDelta | EngineBase, now: boolean): Promise<PartRef> {
    await this.store.open();
    const sink = new PartSink(CHUNK_BYTES);
    const out = this.store.beginPart(kind);
    for (;;) {
      const until = performance.now() + SLICE_MS;
      const done = part.step(sink, now ? () => false : () => performance.now() >= until);
      for (const chunk of sink.take()) await out.put(chunk);
      if (done) break;
      if (!now) await new Promise((r) => setImmediate(r));
    }
    return out.finish();
  }
}
