// Checkpoints in JetStream KV. A checkpoint is gzip'd JSON cut into chunks (a NATS message is at most
// 1 MiB by default), written under a new generation, then published by moving the head key to it with
// a revision check; the previous generation's chunks are purged afterwards. A reader only ever follows
// the head, so it sees a whole checkpoint or the previous one, never a mix.
import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { gunzip, gzip } from "node:zlib";
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { isWrongLastSequence } from "../io/nats/index.ts";
import { PS_ERR_STATE, StateError } from "./errors.ts";

const gz = promisify(gzip);
const gunz = promisify(gunzip);

export interface CheckpointHead {
  generation: number;
  /** Who wrote it: chunks are keyed by writer too, so two writers (a partition changing hands) never
   *  overwrite each other's chunks; the head's revision check decides which checkpoint counts. */
  writer?: string;
  chunks: number;
  bytes: number;
  sha256: string;
  /** The last stream sequence the state reflects. */
  streamSeq: number;
  writtenAtMs: number;
}

export interface Loaded<T> {
  head: CheckpointHead;
  state: T;
}

export class CheckpointStore<T> {
  private kv!: KV;
  private headRevision = 0;
  private head: CheckpointHead | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly bucket: string,
    /** Key prefix: one processor (durable) per prefix. */
    private readonly name: string,
    private readonly chunkBytes = 256 * 1024,
  ) {}

  async open(): Promise<void> {
    this.kv = await new Kvm(this.nc).open(this.bucket);
  }

  private headKey(): string {
    return `${this.name}.head`;
  }
  private chunkKey(gen: number, i: number, writer?: string): string {
    return writer ? `${this.name}.g${gen}.${writer}.c${i}` : `${this.name}.g${gen}.c${i}`;
  }
  private readonly writer = `w${process.pid.toString(36)}${Math.floor(Math.random() * 2 ** 32).toString(36)}`;

  /** The newest whole checkpoint, or undefined when none was written. */
  async load(): Promise<Loaded<T> | undefined> {
    const e = await this.kv.get(this.headKey());
    if (!e || e.operation !== "PUT" || e.length === 0) return undefined;
    const head = e.json<CheckpointHead>();
    const parts: Uint8Array[] = [];
    for (let i = 0; i < head.chunks; i++) {
      const c = await this.kv.get(this.chunkKey(head.generation, i, head.writer));
      if (!c || c.operation !== "PUT") throw new StateError(PS_ERR_STATE.Corrupt, `checkpoint ${this.name} generation ${head.generation} is missing chunk ${i} of ${head.chunks}`);
      parts.push(c.value);
    }
    const zipped = Buffer.concat(parts);
    const sha = createHash("sha256").update(zipped).digest("hex");
    if (sha !== head.sha256) throw new StateError(PS_ERR_STATE.Corrupt, `checkpoint ${this.name} generation ${head.generation} fails its checksum`);
    const state = JSON.parse((await gunz(zipped)).toString("utf8")) as T;
    this.head = head;
    this.headRevision = e.revision;
    return { head, state };
  }

  /** Writes a checkpoint of `state` (already serialised to JSON text) reflecting stream sequence `streamSeq`. */
  async save(json: string, streamSeq: number): Promise<CheckpointHead> {
    const zipped = await gz(Buffer.from(json, "utf8"));
    const generation = (this.head?.generation ?? 0) + 1;
    const chunks = Math.max(1, Math.ceil(zipped.length / this.chunkBytes));
    for (let i = 0; i < chunks; i++) await this.kv.put(this.chunkKey(generation, i, this.writer), zipped.subarray(i * this.chunkBytes, (i + 1) * this.chunkBytes));
    const head: CheckpointHead = { generation, writer: this.writer, chunks, bytes: zipped.length, sha256: createHash("sha256").update(zipped).digest("hex"), streamSeq, writtenAtMs: Date.now() };
    const data = new TextEncoder().encode(JSON.stringify(head));
    try {
      this.headRevision = this.headRevision === 0 ? await this.kv.create(this.headKey(), data) : await this.kv.update(this.headKey(), data, this.headRevision);
    } catch (err) {
      // Only a failed revision check means another writer: a timeout must not fence this processor.
      if (isWrongLastSequence(err))
        throw new StateError(PS_ERR_STATE.Conflict, `checkpoint head ${this.headKey()} was changed by someone else (two processors with one name?): ${(err as Error).message}`, { cause: err });
      throw new StateError(PS_ERR_STATE.Unavailable, `checkpoint head ${this.headKey()} not written: ${(err as Error).message}`, { cause: err });
    }
    const old = this.head;
    this.head = head;
    if (old) for (let i = 0; i < old.chunks; i++) await this.kv.purge(this.chunkKey(old.generation, i, old.writer)).catch(() => undefined);
    return head;
  }

  get latest(): CheckpointHead | undefined {
    return this.head;
  }
}
