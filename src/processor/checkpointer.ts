// The checkpointer (Kafka Streams' StateManager, the writing half): when to checkpoint, taking the
// state at a message boundary, serialising it beside the loop, and writing it only once every publish
// it covers is stored.
import type { NatsConnection } from "@nats-io/transport-node";
import { EngineSnapshot, type Engine } from "../engine/index.ts";
import type { KpiAccumulator } from "../kpi/index.ts";
import type { Logger } from "../log/index.ts";
import type { Metrics } from "../metrics/index.ts";
import { CheckpointStore, PS_ERR_STATE, StateError, type Loaded } from "../state/index.ts";
import type { ProcessorState } from "./types.ts";

/** A checkpoint's serialisation runs in slices of about this many ms between the loop's turns. */
const SNAPSHOT_SLICE_MS = 2;

export interface CheckpointerOptions {
  everyEvents: number;
  everyMs: number;
  /** Someone else wrote this checkpoint's head: another instance owns the partition now. */
  onFenced?: (() => void) | undefined;
}

/** The state at one message boundary, as the driver hands it over. */
export interface CheckpointSource {
  /** Stream sequence of the last event the state reflects. */
  seq: number;
  engine: Engine;
  kpi: KpiAccumulator;
}

export class Checkpointer {
  private readonly store: CheckpointStore<ProcessorState>;
  /** The checkpoint being written, if any: one at a time. */
  private saving: Promise<void> | undefined;
  private sinceCheckpoint = 0;
  private lastCheckpointMs = Date.now();

  constructor(
    nc: NatsConnection,
    bucket: string,
    /** The processor's durable name, also the checkpoint's key. */
    name: string,
    private readonly opts: CheckpointerOptions,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.store = new CheckpointStore<ProcessorState>(nc, bucket, name);
  }

  /** The newest checkpoint, if any. */
  async load(): Promise<Loaded<ProcessorState> | undefined> {
    await this.store.open();
    return this.store.load();
  }

  /** One more event is reflected in the state. */
  noteEvent(): void {
    this.sinceCheckpoint++;
  }

  /** True when a checkpoint is due and none is being written. */
  due(nowMs: number): boolean {
    return !this.saving && (this.sinceCheckpoint >= this.opts.everyEvents || nowMs - this.lastCheckpointMs >= this.opts.everyMs);
  }

  /**
   * Takes the state at this message boundary and writes it beside the loop: the loop stops only to
   * copy the small parts and list the large ones (`ps_checkpoint_pause_seconds`); the customers, open
   * decisions and recent ids are serialised in slices of SNAPSHOT_SLICE_MS between the loop's turns,
   * copy-on-write (`EngineSnapshot`). The checkpoint is written once `covered` (the flush of every
   * publish handled up to now) resolves: a checkpoint must never cover a decision that could still be
   * lost. `wait` awaits all of it, serialising at once (as on stop).
   */
  async checkpoint(src: () => CheckpointSource, covered: () => Promise<void>, opts: { wait?: boolean } = {}): Promise<void> {
    await this.saving;
    const t0 = performance.now();
    const { seq, engine, kpi } = src();
    const snap = new EngineSnapshot(engine);
    const kpiJson = JSON.stringify(kpi.toJSON());
    this.sinceCheckpoint = 0;
    this.lastCheckpointMs = Date.now();
    this.metrics.checkpointPauseSeconds.observe((performance.now() - t0) / 1000);
    const flushed = covered();
    if (opts.wait) await flushed;
    const serialised = opts.wait ? Promise.resolve(snap.json()) : inSlices(snap, SNAPSHOT_SLICE_MS);
    // Settles only once the snapshot is done, even if the flush fails first: the next checkpoint
    // must not begin while this one's snapshot is still under way.
    flushed.catch(() => undefined);
    const json = serialised.then(async (engineJson) => {
      await flushed;
      return `{"engine":${engineJson},"kpi":${kpiJson}}`;
    });
    const job = json
      .then((text) => this.store.save(text, seq))
      .then(
        (head) => {
          this.metrics.checkpoints.inc();
          this.metrics.checkpointBytes.set(head.bytes);
          this.metrics.checkpointSeconds.observe((performance.now() - t0) / 1000);
        },
        (err: Error) => {
          this.log.error({ err: err.message, code: (err as { code?: string }).code }, "checkpoint failed; the previous one stays valid");
          if (err instanceof StateError && err.code === PS_ERR_STATE.Conflict) this.opts.onFenced?.();
        },
      );
    this.saving = job.finally(() => (this.saving = undefined));
    if (opts.wait) await job;
  }
}

/**
 * Finishes a snapshot a slice at a time, each in its own turn of the event loop. The clock is read
 * here, in the shell: the snapshot only asks "should I yield?".
 */
function inSlices(snap: EngineSnapshot, sliceMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const slice = () => {
      try {
        const until = performance.now() + sliceMs;
        if (snap.step(() => performance.now() >= until)) resolve(snap.json());
        else setImmediate(slice);
      } catch (err) {
        reject(err as Error);
      }
    };
    setImmediate(slice);
  });
}
