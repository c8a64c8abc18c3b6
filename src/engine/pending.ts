// Open decisions waiting for their outcome, by customer and by expiry (attribution.ts opens and closes them).
import { Heap } from "heap-js";
import type { Pending } from "./types.ts";

/** Closed entries the heap may hold beyond the open ones before it is rebuilt (a small table is left alone). */
const COMPACT_SLACK = 64;

/**
 * Open decisions by customer, and by expiry for closing them when event time passes their window.
 * Closed entries stay in the heap until they surface (lazy deletion), so closing is O(1); when they
 * outnumber the open ones the heap is rebuilt without them. Without that, decisions closed by a
 * purchase stayed until their window's end (48 h for email) behind an open one expiring sooner, and
 * the table held every decision of the window whatever attribution.maxPending said.
 */
export class PendingTable {
  private readonly byCustomer = new Map<string, Pending[]>();
  // Ties broken by the order of adding: the heap then pops in one order whatever its history, so a
  // table rebuilt from a checkpoint closes decisions in the same order as the one that never stopped.
  private readonly heap = new Heap<Pending>((a, b) => a.expiresAt - b.expiresAt || a.seq - b.seq);
  private nextSeq = 1;
  open = 0;
  /**
   * Open decisions that will be their arm's trials once closed (learned, not holdout), by arm: the
   * dashboard's "still open" beside each arm's conversion. Kept as they open and close: a walk of the
   * table per snapshot took 9 ms at 200,000 open decisions, twice a second on the processor's loop.
   */
  private readonly openTrials = new Map<string, number>();

  /**
   * Decisions opened and closed since the journal was last taken (incremental checkpoints); off until
   * `startJournal`, so an evaluation run keeps no history. One opened and closed between two takes
   * leaves the journal at its close (only its seq stays): the journal holds what a checkpoint must
   * write, not every decision made.
   */
  private journal: { added: Map<number, Pending>; closed: number[] } | undefined;

  startJournal(): void {
    this.journal ??= { added: new Map(), closed: [] };
  }

  /** What opened (and is still open) and what closed since the last call (the table forgets it). */
  takeJournal(): { added: Pending[]; closed: number[] } {
    const j = this.journal;
    if (!j) return { added: [], closed: [] };
    this.journal = { added: new Map(), closed: [] };
    return { added: [...j.added.values()], closed: j.closed };
  }

  /** Counts an open decision as added since the journal was taken (a chain starting from this state). */
  journalAdded(p: Pending): void {
    this.journal?.added.set(p.seq, p);
  }

  /** The seq the next decision gets (kept by checkpoints, so a restored table numbers as the one that never stopped). */
  get seqNext(): number {
    return this.nextSeq;
  }
  set seqNext(n: number) {
    this.nextSeq = Math.max(this.nextSeq, n);
  }

  /** Each customer's open decisions (a walk that tolerates changes between its steps: Map iteration). */
  lists(): IterableIterator<Pending[]> {
    return this.byCustomer.values();
  }

  /** Adds an open decision; `keepSeq` when restoring one that already has its place in the order. */
  add(p: Pending, keepSeq = false): void {
    if (keepSeq) this.nextSeq = Math.max(this.nextSeq, p.seq + 1);
    else p.seq = this.nextSeq++;
    this.journal?.added.set(p.seq, p);
    let list = this.byCustomer.get(p.customerId);
    if (!list) {
      list = [];
      this.byCustomer.set(p.customerId, list);
    }
    list.push(p);
    this.heap.push(p);
    this.open++;
    if (p.learn && !p.holdout) this.openTrials.set(p.promotionId, (this.openTrials.get(p.promotionId) ?? 0) + 1);
  }

  /** The arm's open decisions that will be its trials (see openTrials). */
  openTrialsOf(promotionId: string): number {
    return this.openTrials.get(promotionId) ?? 0;
  }

  /** Open decisions of a customer whose window holds time t (decided at or before t, not yet expired). */
  openAt(customerId: string, t: number): Pending[] {
    const list = this.byCustomer.get(customerId);
    if (!list) return [];
    return list.filter((p) => !p.closed && p.ts <= t && t <= p.expiresAt);
  }

  /** Entries the table holds: the open ones and the closed ones its expiry order has not dropped yet. */
  get held(): number {
    return this.heap.length;
  }

  /** The customer's open decision of that id, if any. */
  openById(customerId: string, decisionId: string): Pending | undefined {
    return this.byCustomer.get(customerId)?.find((p) => !p.closed && p.decisionId === decisionId);
  }

  /** Marks closed and forgets it from the customer's list. */
  close(p: Pending): void {
    if (p.closed) return;
    p.closed = true;
    this.open--;
    if (p.learn && !p.holdout) this.openTrials.set(p.promotionId, (this.openTrials.get(p.promotionId) ?? 1) - 1);
    // Amortised O(1): a rebuild (O(n)) follows at least n/2 closes. The order of popping is the
    // comparator's (expiry, then seq: a total order), so a rebuilt heap pops as the old one would.
    if (this.heap.length > 2 * this.open + COMPACT_SLACK) this.heap.init(this.heap.toArray().filter((x) => !x.closed));
    if (this.journal) {
      // Its seq is kept even if it opened in this epoch: a base written meanwhile may hold it.
      this.journal.added.delete(p.seq);
      this.journal.closed.push(p.seq);
    }
    const list = this.byCustomer.get(p.customerId);
    if (!list) return;
    const i = list.indexOf(p);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byCustomer.delete(p.customerId);
  }

  /** Pops the next open decision that expired before `beforeMs`, or undefined. */
  popExpired(beforeMs: number): Pending | undefined {
    for (;;) {
      const top = this.heap.peek();
      if (!top) return undefined;
      if (top.closed) {
        this.heap.pop();
        continue;
      }
      if (top.expiresAt >= beforeMs) return undefined;
      this.heap.pop();
      return top;
    }
  }

  /** Pops the open decision expiring soonest (for overflow). */
  popOldest(): Pending | undefined {
    return this.popExpired(Infinity);
  }

  values(): Pending[] {
    return [...this.byCustomer.values()].flat();
  }

  /** Open decisions in the order they were added (what a rebuilt table must replay). */
  inAddOrder(): Pending[] {
    return this.values().sort((a, b) => a.seq - b.seq);
  }
}
