import { Heap } from "heap-js";
import type { Pending } from "./types.ts";

/**
 * Open decisions by customer, and by expiry for closing them when event time passes their window.
 * Closed entries stay in the heap until they surface (lazy deletion), so closing is O(1).
 */
export class PendingTable {
  private readonly byCustomer = new Map<string, Pending[]>();
  private readonly heap = new Heap<Pending>((a, b) => a.expiresAt - b.expiresAt);
  open = 0;

  add(p: Pending): void {
    let list = this.byCustomer.get(p.customerId);
    if (!list) {
      list = [];
      this.byCustomer.set(p.customerId, list);
    }
    list.push(p);
    this.heap.push(p);
    this.open++;
  }

  /** Open decisions of a customer whose window holds time t (decided at or before t, not yet expired). */
  openAt(customerId: string, t: number): Pending[] {
    const list = this.byCustomer.get(customerId);
    if (!list) return [];
    return list.filter((p) => !p.closed && p.ts <= t && t <= p.expiresAt);
  }

  /** Marks closed and forgets it from the customer's list. */
  close(p: Pending): void {
    if (p.closed) return;
    p.closed = true;
    this.open--;
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
}
