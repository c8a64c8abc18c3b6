// The global ledger of stock and budget for partitioned processors (issue #8), in JetStream KV. Every
// change is a compare-and-set on the record's revision, retried on conflict, so two instances can
// never together grant more than there is. Partitions get grants (cumulative totals per partition);
// a grant reaches a partition's engine as an `allowance` event in its own stream, so the engine stays
// pure and a replay sees the same grants in the same place.
import type { Bucket, KV } from "@nats-io/kv";
import { isWrongLastSequence } from "../io/nats/index.ts";
import { CasConflictError, PS_ERR_SCALE, ScaleError } from "./errors.ts";

export interface BudgetRecord {
  budgetCents: number;
  /** Cumulative cents granted, by partition. */
  granted: Record<string, number>;
}

export interface UnitsRecord {
  /** The shop's stock (from its inventory events) and its event time. */
  stock: number;
  asOfMs: number;
  /** Cumulative units granted, and consumed by redemptions, by partition. */
  granted: Record<string, number>;
  consumed: Record<string, number>;
}

const enc = new TextEncoder();
const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

export class GlobalLedger {
  casConflicts = 0;
  constructor(
    private readonly kv: KV,
    private readonly stockReserve: number,
  ) {}

  /**
   * Reads a record, lets `change` produce the next value (undefined: leave it), and writes it only if
   * nobody wrote in between; on conflict, reads again and retries. Only a conflict (the server's "wrong
   * last sequence") is retried here: a timeout or a closed connection says nothing about the record
   * (the write may even have landed), so it is thrown at once as PS_ERR_SCALE_KV_UNAVAILABLE for the
   * caller's next round to read again.
   *
   * "Nobody wrote in between" is checked on the bucket's whole stream, not on the key's revision alone:
   * a replicated stream of nats-server before 2.9.21 checks a key's expected revision
   * (Nats-Expected-Last-Subject-Sequence, what kv.update sends) only before proposing the write, against
   * what the leader has applied, so two updates in flight with the same revision are both stored and the
   * first is lost (nats-io/nats-server#4320; measured here: 120 of 200 concurrent pairs on a 3-node
   * 2.9.10 cluster). The stream's expected last sequence is checked where the write is applied, in log
   * order, on every version: a write lands only if nothing at all was stored in the bucket since the
   * record was read. Both reads go to the stream's leader (a direct get may be answered by a replica
   * that lags), the stream's last sequence first.
   */
  async cas<T>(key: string, change: (cur: T | undefined) => T | undefined, attempts = 50): Promise<T | undefined> {
    for (let i = 0; i < attempts; i++) {
      const read = await this.read<T>(key).catch((err: unknown) => Promise.reject(unavailable(key, err)));
      if (read.stale) {
        this.casConflicts++;
        continue;
      }
      const next = change(read.cur === undefined ? undefined : structuredClone(read.cur));
      if (next === undefined) return read.cur;
      try {
        await this.write(key, enc.encode(JSON.stringify(next)), read.lastSeq, read.revision);
        return next;
      } catch (err) {
        if (!isWrongLastSequence(err)) throw unavailable(key, err);
        this.casConflicts++;
      }
    }
    throw new CasConflictError(key, attempts);
  }

  private get bucket(): Bucket {
    return this.kv as unknown as Bucket;
  }

  /**
   * The record as the stream's leader holds it, with the stream's last sequence read just before
   * (`stale`: something was written between the two reads; read again).
   */
  protected async read<T>(key: string): Promise<{ cur: T | undefined; revision: number; lastSeq: number; stale: boolean }> {
    const b = this.bucket;
    const lastSeq = (await b.jsm.streams.info(b.bucketName())).state.last_seq;
    const m = await b.jsm.streams.getMessage(b.bucketName(), { last_by_subj: b.subjectForKey(b.encodeKey(key)) });
    const put = m !== null && !m.header?.get("KV-Operation");
    return { cur: put ? m.json<T>() : undefined, revision: m?.seq ?? 0, lastSeq, stale: (m?.seq ?? 0) > lastSeq };
  }

  /** Stores the record only if the bucket's stream still ends at `lastSeq` (and the key at `revision`). */
  protected async write(key: string, data: Uint8Array, lastSeq: number, revision: number): Promise<void> {
    const b = this.bucket;
    await b.js.publish(b.subjectForKey(b.encodeKey(key), true), data, { expect: { lastSequence: lastSeq, lastSubjectSequence: revision } });
  }

  /** Grants up to `chunk` more cents of a promotion's budget to a partition; returns its cumulative total. */
  async grantBudget(promotionId: string, budgetCents: number, partition: number, chunk: number): Promise<number> {
    const k = String(partition);
    const r = await this.cas<BudgetRecord>(`budget.${promotionId}`, (cur) => {
      const rec = cur ?? { budgetCents, granted: {} };
      rec.budgetCents = budgetCents; // a budget changed at runtime applies from now
      const room = rec.budgetCents - sum(rec.granted);
      const give = Math.min(chunk, room);
      if (give <= 0) return cur === undefined ? rec : undefined;
      rec.granted[k] = (rec.granted[k] ?? 0) + give;
      return rec;
    });
    return r?.granted[k] ?? 0;
  }

  /** The shop's stock of a product, applied when newer than what the record holds. */
  async setStock(productId: string, stock: number, asOfMs: number): Promise<void> {
    await this.cas<UnitsRecord>(`units.${productId}`, (cur) => {
      if (cur && cur.asOfMs > asOfMs) return undefined;
      const rec = cur ?? { stock, asOfMs, granted: {}, consumed: {} };
      rec.stock = stock;
      rec.asOfMs = asOfMs;
      return rec;
    });
  }

  /**
   * Records the units a partition's redemptions consumed (a cumulative count, so repeating it is
   * harmless) and grants up to `chunk` more units if the stock allows: units outstanding across all
   * partitions (granted − consumed) never exceed stock − reserve. Returns the partition's cumulative grant.
   */
  async grantUnits(productId: string, partition: number, chunk: number, consumedTotal: number): Promise<number> {
    const k = String(partition);
    const r = await this.cas<UnitsRecord>(`units.${productId}`, (cur) => {
      if (!cur) return undefined; // no stock known yet: nothing to grant
      let changed = false;
      if (consumedTotal > (cur.consumed[k] ?? 0)) {
        cur.consumed[k] = consumedTotal;
        changed = true;
      }
      let outstanding = 0;
      for (const [p, g] of Object.entries(cur.granted)) outstanding += g - (cur.consumed[p] ?? 0);
      const give = Math.min(chunk, cur.stock - this.stockReserve - outstanding);
      if (give > 0) {
        cur.granted[k] = (cur.granted[k] ?? 0) + give;
        changed = true;
      }
      return changed ? cur : undefined;
    });
    return r?.granted[k] ?? 0;
  }

  async units(productId: string): Promise<UnitsRecord | undefined> {
    const e = await this.kv.get(`units.${productId}`);
    return e && e.operation === "PUT" ? e.json<UnitsRecord>() : undefined;
  }

  async budget(promotionId: string): Promise<BudgetRecord | undefined> {
    const e = await this.kv.get(`budget.${promotionId}`);
    return e && e.operation === "PUT" ? e.json<BudgetRecord>() : undefined;
  }
}

function unavailable(key: string, err: unknown): ScaleError {
  return new ScaleError(PS_ERR_SCALE.KvUnavailable, `KV record ${key}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}
