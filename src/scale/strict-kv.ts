// Compare-and-set on a JetStream KV bucket that holds on every nats-server version. kv.update's expected
// revision (Nats-Expected-Last-Subject-Sequence) is checked by a replicated stream of nats-server before
// 2.9.21 only before the write is proposed, against what the leader has applied: two updates in flight
// with one revision are both stored and the first is lost (nats-io/nats-server#4320; 120 of 200
// concurrent pairs on a 3-node 2.9.10 cluster). The stream's expected last sequence is checked where the
// write is applied, in log order: a write made with it lands only if nothing at all was stored in the
// bucket since the record was read. Both reads go to the stream's leader (a direct get may be answered by
// a replica that lags), the stream's last sequence first.
import type { Bucket, KV } from "@nats-io/kv";
import { isWrongLastSequence } from "../io/nats/index.ts";

export interface LeaderRead<T> {
  cur: T | undefined;
  /** The key's last sequence (0: never written; a delete marker's when deleted). */
  revision: number;
  /** The bucket stream's last sequence, read just before the record. */
  lastSeq: number;
  /** Something was written between the two reads: read again. */
  stale: boolean;
}

const bucket = (kv: KV) => kv as unknown as Bucket;

/** The record as the bucket stream's leader holds it, with the stream's last sequence read just before. */
export async function readFromLeader<T>(kv: KV, key: string): Promise<LeaderRead<T>> {
  const b = bucket(kv);
  const lastSeq = (await b.jsm.streams.info(b.bucketName())).state.last_seq;
  const m = await b.jsm.streams.getMessage(b.bucketName(), { last_by_subj: b.subjectForKey(b.encodeKey(key)) });
  const put = m !== null && !m.header?.get("KV-Operation");
  return { cur: put ? m.json<T>() : undefined, revision: m?.seq ?? 0, lastSeq, stale: (m?.seq ?? 0) > lastSeq };
}

/**
 * Stores the record only if the bucket's stream still ends at `lastSeq` (and the key at `revision`);
 * resolves to the record's new revision. A write that lost throws the server's "wrong last sequence".
 */
export async function writeIfUnchanged(kv: KV, key: string, data: Uint8Array, lastSeq: number, revision: number): Promise<number> {
  const b = bucket(kv);
  return (await b.js.publish(b.subjectForKey(b.encodeKey(key), true), data, { expect: { lastSequence: lastSeq, lastSubjectSequence: revision } })).seq;
}

/** Where compareAndSet reads and writes: the bucket (strictStore), or a wrapper (tests, error mapping). */
export interface CasStore {
  read<T>(key: string): Promise<LeaderRead<T>>;
  /** Resolves to the record's new revision; a lost write rejects with the server's "wrong last sequence". */
  write(key: string, data: Uint8Array, lastSeq: number, revision: number): Promise<number>;
}

export const strictStore = (kv: KV): CasStore => ({
  read: (key) => readFromLeader(kv, key),
  write: (key, data, lastSeq, revision) => writeIfUnchanged(kv, key, data, lastSeq, revision),
});

export type CasResult<T> =
  /** `change` gave the next value and it was stored. */
  | { kind: "written"; value: T; revision: number }
  /** `change` left the record as it was (returned undefined). */
  | { kind: "left"; value: T | undefined }
  /** Every attempt lost to another write in between. */
  | { kind: "exhausted" };

/**
 * Reads a record, lets `change` produce the next value (undefined: leave it; it gets a copy) and stores
 * it only if nothing was stored in the bucket since the read. A read that raced a write, or a write that
 * lost, is a conflict (`onConflict` is told): read again, up to `attempts` times. Any other error is
 * thrown as it is: a timeout says nothing about the record (the write may even have landed).
 */
export async function compareAndSet<T>(store: CasStore, key: string, change: (cur: T | undefined) => T | undefined, attempts: number, onConflict?: () => void): Promise<CasResult<T>> {
  for (let i = 0; i < attempts; i++) {
    const read = await store.read<T>(key);
    if (read.stale) {
      onConflict?.();
      continue;
    }
    const next = change(read.cur === undefined ? undefined : structuredClone(read.cur));
    if (next === undefined) return { kind: "left", value: read.cur };
    try {
      return { kind: "written", value: next, revision: await store.write(key, new TextEncoder().encode(JSON.stringify(next)), read.lastSeq, read.revision) };
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
      onConflict?.();
    }
  }
  return { kind: "exhausted" };
}
