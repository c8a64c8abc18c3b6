// The global ledger of stock and budget for partitioned processors (issue #8), in JetStream KV. Every
// change is a compare-and-set on the record's revision, retried on conflict, so two instances can
// never together grant more than there is. Partitions get grants (cumulative totals per partition);
// a grant reaches a partition's engine as an `allowance` event in its own stream, so the engine stays
// pure and a replay sees the same grants in the same place.
import type { KV } from "@nats-io/kv";
import { isWrongLastSequence } from "../io/nats/index.ts";
import { CasConflictError, PS_ERR_SCALE, ScaleError } from "./errors.ts";
import { compareAndSet, readFromLeader, writeIfUnchanged, type CasStore, type LeaderRead } from "./strict-kv.ts";

export interface BudgetRecord {
  budgetCents: number;
  /**
   * When the budget was set: the time of the promotion change that set it (0: the configuration's).
   * A partition still behind that change in its stream asks with its older budget, which must not
   * undo the newer one (absent in records written before this field: 0).
   */
  asOfMs?: number;
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
  /**
   * Units consumed (all partitions) when the stock figure was set: those the figure already counts
   * as sold (absent in records written before it was kept: all consumed so far, until the next figure).
   */
  consumedAtStock?: number;
}

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
   * "Nobody wrote in between" is checked on the bucket's whole stream, not on the key's revision alone
   * (src/scale/strict-kv.ts says why: nats-server before 2.9.21 on R3 lost one of two concurrent grants).
   */
  async cas<T>(key: string, change: (cur: T | undefined) => T | undefined, attempts = 50): Promise<T | undefined> {
    // Reads and writes through the test hooks; what is not a conflict is PS_ERR_SCALE_KV_UNAVAILABLE.
    const store: CasStore = {
      read: <R>(k: string) => this.read<R>(k).catch((err: unknown) => Promise.reject(unavailable(key, err))),
      write: async (k, data, lastSeq, revision) => {
        await this.write(k, data, lastSeq, revision).catch((err: unknown) => Promise.reject(isWrongLastSequence(err) ? err : unavailable(key, err)));
        return 0;
      },
    };
    const r = await compareAndSet(store, key, change, attempts, () => this.casConflicts++);
    if (r.kind === "exhausted") throw new CasConflictError(key, attempts);
    return r.value;
  }

  /** The record as the stream's leader holds it (strict-kv.ts); a hook for tests. */
  protected read<T>(key: string): Promise<LeaderRead<T>> {
    return readFromLeader<T>(this.kv, key);
  }

  /** Stores the record only if nothing was written in the bucket since it was read (strict-kv.ts); a hook for tests. */
  protected async write(key: string, data: Uint8Array, lastSeq: number, revision: number): Promise<void> {
    await writeIfUnchanged(this.kv, key, data, lastSeq, revision);
  }

  /**
   * Grants up to `chunk` more cents of a promotion's budget to a partition; returns its cumulative total.
   * `budgetCents` is the budget as the partition knows it, set at `asOfMs` (its promotion change's
   * time, 0 for the configuration's): a newer one replaces the record's, an older one (a partition
   * that has not reached the change yet, e.g. replaying after a takeover) is granted from under the
   * record's newer budget.
   */
  async grantBudget(promotionId: string, budgetCents: number, asOfMs: number, partition: number, chunk: number): Promise<number> {
    const k = String(partition);
    const r = await this.cas<BudgetRecord>(`budget.${promotionId}`, (cur) => {
      const rec = cur ?? { budgetCents, asOfMs, granted: {} };
      if (asOfMs >= (rec.asOfMs ?? 0)) {
        // a budget changed at runtime applies from now
        rec.budgetCents = budgetCents;
        rec.asOfMs = asOfMs;
      }
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
      // A figure handled again (a remade inventory consumer) is not a new one: the redemptions since
      // it are not in it.
      if (cur && (cur.asOfMs > asOfMs || (cur.asOfMs === asOfMs && cur.stock === stock && cur.consumedAtStock !== undefined))) return undefined;
      const rec: UnitsRecord = cur ?? { stock, asOfMs, granted: {}, consumed: {} };
      rec.stock = stock;
      rec.asOfMs = asOfMs;
      rec.consumedAtStock = sum(rec.consumed);
      return rec;
    });
  }

  /**
   * Records the units a partition's redemptions consumed (a cumulative count, so repeating it is
   * harmless) and grants up to `chunk` more units if the stock allows: units granted since the shop's
   * last stock figure, outstanding or redeemed (granted − consumed when the figure was set), never
   * exceed stock − reserve. Redeemed units left the stock: counting only the outstanding ones (granted
   * − consumed) granted each redeemed unit again until the shop's next figure. A redemption reported
   * after a figure that already counts its sale is counted twice until the next one: fewer units, never
   * more. Returns the partition's cumulative grant.
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
      const sinceStock = sum(cur.granted) - (cur.consumedAtStock ?? sum(cur.consumed));
      const give = Math.min(chunk, cur.stock - this.stockReserve - sinceStock);
      if (give > 0) {
        cur.granted[k] = (cur.granted[k] ?? 0) + give;
        changed = true;
      }
      return changed ? cur : undefined;
    });
    return r?.granted[k] ?? 0;
  }

  /**
   * The record as the grants read it: from the stream's leader. `kv.get` reads with direct get, which
   * any replica of an R3 bucket may answer: just after a grant it gave a record without it (a test on a
   * 3-node cluster saw 3 units recorded where 4 were granted and told).
   */
  async units(productId: string): Promise<UnitsRecord | undefined> {
    return (await this.read<UnitsRecord>(`units.${productId}`)).cur;
  }

  async budget(promotionId: string): Promise<BudgetRecord | undefined> {
    return (await this.read<BudgetRecord>(`budget.${promotionId}`)).cur;
  }
}

function unavailable(key: string, err: unknown): ScaleError {
  return new ScaleError(PS_ERR_SCALE.KvUnavailable, `KV record ${key}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}
