// Checkpoints in JetStream KV (issue #16): a chain of parts, a base (or none) and the deltas after it.
// Each part is written as chunks under keys of its own (a NATS message is at most 1 MiB by default),
// then a head naming the chain is moved with a revision check; parts no head names any more are purged
// after. A reader only ever follows the head, so it sees a whole chain or the previous one.
//
// Heads written before parts (a gzip'd JSON state in chunks, `CheckpointHead`) are still read.
import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { jetstreamManager, StorageType, type JetStreamManager } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { isNotFound, isWrongLastSequence } from "../io/nats/index.ts";
import { PS_ERR_STATE, StateError } from "./errors.ts";

const gunz = promisify(gunzip);

/** A checkpoint of the format before parts: one gzip'd JSON state. */
export interface CheckpointHead {
  generation: number;
  writer?: string;
  chunks: number;
  bytes: number;
  sha256: string;
  /** The last stream sequence the state reflects. */
  streamSeq: number;
  writtenAtMs: number;
}

export interface PartRef {
  /** Key prefix of its chunks (writer and number). */
  key: string;
  kind: "base" | "delta";
  chunks: number;
  bytes: number;
  sha256: string;
}

/** The head format this build writes and reads (ChainHead.format). */
const CHAIN_FORMAT = 3;

export interface ChainHead {
  format: 3;
  generation: number;
  /** Who wrote it: parts are keyed by writer, so two writers (a partition changing hands) never overwrite each other's. */
  writer: string;
  /** The last stream sequence the chain reflects. */
  streamSeq: number;
  writtenAtMs: number;
  base?: PartRef | undefined;
  deltas: PartRef[];
  /** A base already written that joins the chain with the next delta (kept named so it is cleaned up if it never does). */
  nextBase?: PartRef | undefined;
  /** Bytes this checkpoint wrote (its new parts). */
  bytes: number;
  /**
   * The creation time of the stream `streamSeq` counts in: a stream deleted and made again numbers its
   * events from 1 anew (absent in heads written before it was kept).
   */
  streamCreated?: string | undefined;
}

export type Loaded =
  | { format: "chain"; head: ChainHead; /** The chain's parts, each joined: base (if any) first. */ parts: Uint8Array[]; bytes: number }
  | { format: "json"; head: CheckpointHead; state: unknown };

/** Chunks fetched at once when loading (a restore reads hundreds of them). */
const FETCH_CONCURRENCY = 8;

export class CheckpointStore {
  private kv!: KV;
  private jsm: JetStreamManager | undefined;
  private headRevision = 0;
  private head: ChainHead | CheckpointHead | undefined;
  /** Written into each head (ChainHead.streamCreated): the owner sets it once it knows the stream. */
  streamCreated: string | undefined;
  private partNo = 0;
  readonly writer = `w${process.pid.toString(36)}${Math.floor(Math.random() * 2 ** 32).toString(36)}`;

  constructor(
    private readonly nc: NatsConnection,
    private readonly bucket: string,
    /** Key prefix: one processor (durable) per prefix. */
    private readonly name: string,
  ) {}

  private opening: Promise<void> | undefined;

  /** Opens the bucket (once; later calls wait for the first). */
  open(): Promise<void> {
    this.opening ??= new Kvm(this.nc).open(this.bucket).then((kv) => {
      this.kv = kv;
    });
    return this.opening;
  }

  private headKey(): string {
    return `${this.name}.head`;
  }
  private legacyChunkKey(gen: number, i: number, writer?: string): string {
    return writer ? `${this.name}.g${gen}.${writer}.c${i}` : `${this.name}.g${gen}.c${i}`;
  }

  /** The newest checkpoint, if any. */
  async load(): Promise<Loaded | undefined> {
    const e = await this.kv.get(this.headKey());
    if (!e || e.operation !== "PUT" || e.length === 0) return undefined;
    let head: ChainHead | CheckpointHead;
    try {
      head = e.json<ChainHead | CheckpointHead>();
      if (typeof head !== "object" || head === null || ("format" in head && head.format === 3 && !Array.isArray(head.deltas))) throw new Error("not a head's fields");
    } catch (err) {
      // Else the parser's bare "Expected property name…" stopped the start, naming nothing.
      throw new StateError(PS_ERR_STATE.Corrupt, `checkpoint head ${this.headKey()} in bucket ${this.bucket} is not a checkpoint head (${(err as Error).message})`, { cause: err });
    }
    // A head of a chain format above this build's is a newer build's (found after a rollback): it went
    // down the path of the format before chains and was reported as damage ("fails its checksum").
    if ("format" in head && typeof head.format === "number" && head.format > CHAIN_FORMAT)
      throw new StateError(PS_ERR_STATE.Version, `checkpoint head ${this.headKey()} in bucket ${this.bucket} is chain format ${head.format}, written by a newer build (this build reads chain format ${CHAIN_FORMAT} and the gzip'd JSON state before it)`);
    this.head = head;
    this.headRevision = e.revision;
    if ("format" in head && head.format === CHAIN_FORMAT) {
      const refs = [...(head.base ? [head.base] : []), ...head.deltas];
      const parts: Uint8Array[] = [];
      let bytes = 0;
      for (const ref of refs) {
        parts.push(await this.readPart(ref));
        bytes += ref.bytes;
      }
      return { format: "chain", head, parts, bytes };
    }
    const legacy = head as CheckpointHead;
    const chunks = await this.fetch(Array.from({ length: legacy.chunks }, (_, i) => this.legacyChunkKey(legacy.generation, i, legacy.writer)), `generation ${legacy.generation}`);
    const zipped = Buffer.concat(chunks);
    const sha = createHash("sha256").update(zipped).digest("hex");
    if (sha !== legacy.sha256) throw new StateError(PS_ERR_STATE.Corrupt, `checkpoint ${this.name} generation ${legacy.generation} fails its checksum`);
    return { format: "json", head: legacy, state: JSON.parse((await gunz(zipped)).toString("utf8")) as unknown };
  }

  private async fetch(keys: string[], what: string): Promise<Uint8Array[]> {
    const out = new Array<Uint8Array>(keys.length);
    let next = 0;
    const worker = async () => {
      while (next < keys.length) {
        const i = next++;
        const c = await this.kv.get(keys[i]!);
        if (!c || c.operation !== "PUT") throw new StateError(PS_ERR_STATE.Corrupt, `checkpoint ${this.name} ${what} is missing chunk ${i} of ${keys.length}`);
        out[i] = c.value;
      }
    };
    await Promise.all(Array.from({ length: Math.min(FETCH_CONCURRENCY, keys.length) }, worker));
    return out;
  }

  private async readPart(ref: PartRef): Promise<Uint8Array> {
    const chunks = await this.fetch(Array.from({ length: ref.chunks }, (_, i) => `${ref.key}.c${i}`), `part ${ref.key}`);
    const hash = createHash("sha256");
    const out = new Uint8Array(ref.bytes);
    let at = 0;
    for (const c of chunks) {
      hash.update(c);
      if (at + c.length > out.length) throw new StateError(PS_ERR_STATE.Corrupt, `checkpoint part ${ref.key} is longer than its ${ref.bytes} bytes`);
      out.set(c, at);
      at += c.length;
    }
    if (at !== ref.bytes || hash.digest("hex") !== ref.sha256) throw new StateError(PS_ERR_STATE.Corrupt, `checkpoint part ${ref.key} fails its checksum`);
    return out;
  }

  /** A new part, written chunk by chunk as it is produced (each chunk one KV value). */
  beginPart(kind: PartRef["kind"]): PartWriter {
    const key = `${this.name}.${this.writer}.p${++this.partNo}`;
    return new PartWriter(this.kv, key, kind);
  }

  /**
   * Moves the head to a new chain (its parts all written). Fails with PS_ERR_STATE_CONFLICT when
   * another writer moved the head since this one read or wrote it. Parts the previous head named and
   * this one does not are purged afterwards (best effort).
   */
  async commit(
    chain: { base?: PartRef | undefined; deltas: PartRef[]; nextBase?: PartRef | undefined },
    streamSeq: number,
    bytes: number,
    /** The stream `streamSeq` counts in (the one the owner set, unless the head keeps an older sequence). */
    streamCreated: string | undefined = this.streamCreated,
  ): Promise<ChainHead> {
    const head: ChainHead = { format: 3, generation: (this.head?.generation ?? 0) + 1, writer: this.writer, streamSeq, writtenAtMs: Date.now(), base: chain.base, deltas: chain.deltas, nextBase: chain.nextBase, bytes, ...(streamCreated ? { streamCreated } : {}) };
    const data = new TextEncoder().encode(JSON.stringify(head));
    /** A head of this writer's found in the bucket in place of the one it last knew: its own write whose answer was lost. */
    let unanswered: ChainHead | undefined;
    try {
      this.headRevision = this.headRevision === 0 ? await this.kv.create(this.headKey(), data) : await this.kv.update(this.headKey(), data, this.headRevision);
    } catch (err) {
      // Only a failed revision check means another writer: a timeout must not fence this processor.
      if (!isWrongLastSequence(err)) throw new StateError(PS_ERR_STATE.Unavailable, `checkpoint head ${this.headKey()} not written: ${(err as Error).message}`, { cause: err });
      // A head write whose answer never came (a timeout, a reconnect: Unavailable above) may have been
      // stored all the same, and moved the revision past the one kept here. Written by this writer (no
      // one else writes under its name), it is not someone else's: the new head goes over it.
      let e: Awaited<ReturnType<KV["get"]>>;
      try {
        e = await this.kv.get(this.headKey());
      } catch (read) {
        // Whose head it is cannot be told now: no fencing on that (the next commit asks again).
        throw new StateError(PS_ERR_STATE.Unavailable, `checkpoint head ${this.headKey()} not written: its revision moved and the head could not be read (${(read as Error).message})`, { cause: read });
      }
      let found: ChainHead | CheckpointHead | undefined;
      try {
        found = e && e.operation === "PUT" && e.length > 0 ? e.json<ChainHead | CheckpointHead>() : undefined;
      } catch {
        found = undefined;
      }
      // No head at all where this writer had one: its key was deleted, or the bucket was deleted and
      // made again (provisioning at any part's start makes a missing bucket). Nobody else's head: taken
      // for a conflict, the processor was fenced and never checkpointed again in its run.
      if (!e || e.operation !== "PUT") {
        this.forgetHead();
        throw new StateError(PS_ERR_STATE.Gone, `checkpoint head ${this.headKey()} is gone from bucket ${this.bucket} (the key deleted, or the bucket deleted and made again): the next checkpoints write the whole state anew`, { cause: err });
      }
      if (!found || !("format" in found) || found.writer !== this.writer)
        throw new StateError(PS_ERR_STATE.Conflict, `checkpoint head ${this.headKey()} was changed by someone else (two processors with one name?): ${(err as Error).message}`, { cause: err });
      unanswered = found;
      try {
        this.headRevision = await this.kv.update(this.headKey(), data, e.revision);
      } catch (again) {
        if (isWrongLastSequence(again))
          throw new StateError(PS_ERR_STATE.Conflict, `checkpoint head ${this.headKey()} was changed by someone else (two processors with one name?): ${(again as Error).message}`, { cause: again });
        // The revision is this writer's own head's: the next commit finds it again.
        throw new StateError(PS_ERR_STATE.Unavailable, `checkpoint head ${this.headKey()} not written: ${(again as Error).message}`, { cause: again });
      }
    }
    const old = this.head;
    this.head = head;
    if (old) await this.purgeUnnamed(old, head);
    // What the unanswered head named and this one does not (the parts of the checkpoint that counted as failed).
    if (unanswered) await this.purgeUnnamed(unanswered, head);
    // Once per process, and with each new base: parts no head names (a checkpoint killed after writing
    // its parts and before moving the head, a part that failed halfway) would stay in the bucket for good.
    // Safe now: the head is this writer's, and any other writer's commit would fail on its revision.
    if (!this.orphansSwept || chain.nextBase) {
      this.orphansSwept = true;
      await this.purgeOrphans(head);
    }
    return head;
  }

  private orphansSwept = false;

  /** The head this writer knew is gone: the next head is created (revision 0), not updated. */
  forgetHead(): void {
    this.headRevision = 0;
    this.head = undefined;
  }

  /**
   * After a write failed: whether the bucket itself is gone (`nats kv rm`, a stream deleted). Then it is
   * made again as provisioning makes it, and the head this writer knew is forgotten, so the next
   * checkpoints write a chain anew into it (PS_ERR_STATE_GONE). Nothing else changes: an answer that
   * did not come (the server away) says nothing about the bucket, and leaves it as it is.
   */
  async remakeIfGone(replicas: number): Promise<StateError | undefined> {
    try {
      this.jsm ??= await jetstreamManager(this.nc);
      await this.jsm.streams.info(`KV_${this.bucket}`);
      return undefined;
    } catch (err) {
      if (!isNotFound(err)) return undefined;
    }
    this.forgetHead();
    let made = "made again";
    try {
      await new Kvm(this.nc).create(this.bucket, { history: 1, replicas, storage: StorageType.File });
    } catch (err) {
      made = `not made again (${(err as Error).message}; fix: nats kv add ${this.bucket} --history 1, or restart the processor, whose start makes it)`;
    }
    return new StateError(PS_ERR_STATE.Gone, `checkpoint bucket ${this.bucket} was deleted, and the checkpoint with it; ${made}: the next checkpoints write the whole state anew`);
  }

  /** Purges every part under this name that `head` does not name. Best effort. */
  private async purgeOrphans(head: ChainHead): Promise<void> {
    try {
      this.jsm ??= await jetstreamManager(this.nc);
      const prefix = `$KV.${this.bucket}.${this.name}.`;
      const info = await this.jsm.streams.info(`KV_${this.bucket}`, { subjects_filter: `${prefix}>` });
      const keep = new Set([head.base, head.nextBase, ...head.deltas].flatMap((r) => (r ? [r.key] : [])));
      const orphans = new Set<string>();
      for (const subject of Object.keys(info.state.subjects ?? {})) {
        // `<writer>.p<n>.c<i>` (beginPart's keys): nothing else under the name, nor another name's.
        const part = /^(w[0-9a-z]+\.p\d+)\.c\d+$/.exec(subject.slice(prefix.length))?.[1];
        if (part && !keep.has(`${this.name}.${part}`)) orphans.add(`${this.name}.${part}`);
      }
      for (const key of orphans) await this.purgeKeys(key, 0);
    } catch {
      // The next sweep tries again.
      this.orphansSwept = false;
    }
  }

  /** Purges what the old head named and the new one does not. */
  private async purgeUnnamed(old: ChainHead | CheckpointHead, now: ChainHead): Promise<void> {
    if (!("format" in old)) {
      await this.purgeKeys(this.legacyChunkKey(old.generation, 0, old.writer).replace(/\.c0$/, ""), old.chunks);
      return;
    }
    const keep = new Set([now.base, now.nextBase, ...now.deltas].filter((r) => r !== undefined).map((r) => r.key));
    for (const ref of [old.base, old.nextBase, ...old.deltas]) {
      if (!ref || keep.has(ref.key)) continue;
      await this.dropPart(ref);
    }
  }

  /** Purges a part's chunks (a part no head names any more). */
  async dropPart(ref: PartRef): Promise<void> {
    await this.purgeKeys(ref.key, ref.chunks);
  }

  /**
   * Removes the chunks `<prefix>.c<i>` from the bucket's stream with one subject-filtered purge, which
   * leaves nothing behind; KV's own purge leaves a marker per key, and chunk keys are never reused, so
   * the markers would pile up in the bucket checkpoint after checkpoint. Best effort.
   */
  private async purgeKeys(prefix: string, chunks: number): Promise<void> {
    try {
      this.jsm ??= await jetstreamManager(this.nc);
      await this.jsm.streams.purge(`KV_${this.bucket}`, { filter: `$KV.${this.bucket}.${prefix}.*` });
    } catch {
      for (let i = 0; i < chunks; i++) await this.kv.purge(`${prefix}.c${i}`).catch(() => undefined);
    }
  }

  get latest(): ChainHead | CheckpointHead | undefined {
    return this.head;
  }
}

/** One part's chunks going out: each a KV value under `<key>.c<i>`, hashed as it goes. */
export class PartWriter {
  private readonly hash = createHash("sha256");
  private chunks = 0;
  private bytes = 0;

  constructor(
    private readonly kv: KV,
    readonly key: string,
    private readonly kind: PartRef["kind"],
  ) {}

  async put(chunk: Uint8Array): Promise<void> {
    this.hash.update(chunk);
    try {
      await this.kv.put(`${this.key}.c${this.chunks}`, chunk);
    } catch (err) {
      throw new StateError(PS_ERR_STATE.Unavailable, `checkpoint part ${this.key} chunk ${this.chunks} not written: ${(err as Error).message}`, { cause: err });
    }
    this.chunks++;
    this.bytes += chunk.length;
  }

  finish(): PartRef {
    return { key: this.key, kind: this.kind, chunks: this.chunks, bytes: this.bytes, sha256: this.hash.digest("hex") };
  }
}
