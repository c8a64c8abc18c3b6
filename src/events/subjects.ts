import { copyId } from "./ids.ts";
import type { PromotionConfig } from "./promotion.ts";
import type { Channel, EventType, PolicyMode, ShopEvent } from "./schema.ts";

/** An event and the subject it is published on. */
export interface Routed {
  subject: string;
  event: ShopEvent;
}

/**
 * FNV-1a (32-bit) over the UTF-8 bytes of the customer id. Hand-written on purpose: the partition of a
 * customer is part of the wire contract, so it must be a published algorithm that any producer, in
 * any language, can compute the same way; a library's hash could change between versions.
 */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  // ASCII (every id the contract's patterns allow) hashes its char codes, which are its UTF-8 bytes:
  // no encoder and no byte array per call (a TextEncoder was built per call, once per published event).
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return fnv1a32Bytes(utf8.encode(s));
    h = Math.imul(h ^ c, 0x01000193);
  }
  return h >>> 0;
}

const utf8 = new TextEncoder();

function fnv1a32Bytes(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

export function partitionOf(customerId: string, partitions: number): number {
  return fnv1a32(customerId) % partitions;
}

/** A subject token may not hold '.', '*', '>' or whitespace. */
export function subjectToken(s: string): string {
  return s.replace(/[.*>\s]/g, "_");
}

/** The events promo-stream publishes to each partition itself (`Subjects.partitioned`), never a shop's producer. */
export const PARTITIONED_TYPES = ["stock", "allowance", "sync", "promotion", "mode"] as const;
export type PartitionedType = (typeof PARTITIONED_TYPES)[number];

/** Every subject the system uses, under an optional prefix ("" by default, or e.g. "shop1."). */
export class Subjects {
  constructor(readonly prefix: string = "") {}
  event(type: Exclude<EventType, "inventory" | "stock" | "allowance" | "sync" | "promotion" | "mode">, partition: number): string {
    return `${this.prefix}events.${type}.${partition}`;
  }
  inventory(productId: string): string {
    return `${this.prefix}events.inventory.${subjectToken(productId)}`;
  }
  /** Where a producer publishes an event: customer events by partition, inventory by product. */
  forEvent(e: ShopEvent, partitions: number): string {
    if (e.type === "inventory") return this.inventory(e.productId);
    if (e.type === "stock" || e.type === "allowance" || e.type === "sync" || e.type === "promotion" || e.type === "mode") throw new Error(`${e.type} events go to each partition; use partitioned(), promotionChange() or modeChange()`);
    return this.event(e.type, partitionOf(e.customerId, partitions));
  }
  /** An internal event for one partition (partitioned processors), or a partition's copy of a promotion change. */
  partitioned(type: PartitionedType, partition: number): string {
    return `${this.prefix}events.${type}.${partition}`;
  }
  /**
   * A promotion change as the log carries it: one event per partition (`events.promotion.<n>`, event
   * id `<changeId>.p<n>`, also its msg id; events/ids.ts shortens a change id too long for it), so a partition's processor finds it among its own events,
   * in order. A processor of the whole stream applies every copy; they are the same change.
   */
  promotionChange(promotion: PromotionConfig, changeId: string, ts: number, partitions: number): Routed[] {
    const out: Routed[] = [];
    for (let k = 0; k < partitions; k++) out.push({ subject: this.partitioned("promotion", k), event: { type: "promotion", id: copyId(changeId, "p", k), ts, promotion } });
    return out;
  }
  /**
   * A policy mode change (issue 23) as the log carries it, like a promotion change: one event per
   * partition (`events.mode.<n>`, event id and msg id `<changeId>.p<n>`).
   */
  modeChange(change: { mode: PolicyMode; reason: "graduated" | "manual"; since?: string | undefined; evidence?: { decisions: number; mean: number; lo: number; hi: number } | undefined }, changeId: string, ts: number, partitions: number): Routed[] {
    const out: Routed[] = [];
    for (let k = 0; k < partitions; k++) {
      const event: ShopEvent = { type: "mode", id: copyId(changeId, "p", k), ts, mode: change.mode, reason: change.reason, ...(change.since !== undefined ? { since: change.since } : {}), ...(change.evidence ? { evidence: change.evidence } : {}) };
      out.push({ subject: this.partitioned("mode", k), event });
    }
    return out;
  }
  get eventsAll(): string {
    return `${this.prefix}events.>`;
  }
  /** Filter for one partition's customer events (all types). */
  eventsOfPartition(partition: number): string {
    return `${this.prefix}events.*.${partition}`;
  }
  decision(channel: Channel): string {
    // Once per decision on the processor's hot path: one string per channel, built once.
    return (this.decisionSubjects[channel] ??= `${this.prefix}decisions.${channel}`);
  }
  private readonly decisionSubjects: Partial<Record<Channel, string>> = {};
  get decisionsAll(): string {
    return `${this.prefix}decisions.>`;
  }
  /** Where a closed decision's outcome is published (stream OUTCOMES, msg id `o-<decision id>`). */
  outcome(channel: Channel): string {
    return (this.outcomeSubjects[channel] ??= `${this.prefix}outcomes.${channel}`);
  }
  private readonly outcomeSubjects: Partial<Record<Channel, string>> = {};
  get outcomesAll(): string {
    return `${this.prefix}outcomes.>`;
  }
  get deadletter(): string {
    return `${this.prefix}deadletter.events`;
  }
  get simControl(): string {
    return `${this.prefix}sim.control`;
  }
  get simTruth(): string {
    return `${this.prefix}sim.truth`;
  }
  /** Request/reply: add or change promotions at runtime ({"op":"upsert","promotion":{…}} or {"op":"list"}). */
  get promoControl(): string {
    return `${this.prefix}promo.control`;
  }
  /** Request/reply: decide one event now (issue 22); the token is the decision's channel. */
  decide(channel: Channel): string {
    return `${this.prefix}decide.${channel}`;
  }
  get decideAll(): string {
    return `${this.prefix}decide.*`;
  }
  get kpiSnapshot(): string {
    return `${this.prefix}kpi.snapshot`;
  }
  /** Parses an event subject back into its type; undefined when it is not one of ours. */
  typeOf(subject: string): string | undefined {
    // Once per consumed event: one slice, no template string and no split array.
    if (!subject.startsWith(this.eventsPrefix)) return undefined;
    const start = this.eventsPrefix.length;
    const dot = subject.indexOf(".", start);
    return dot < 0 ? subject.slice(start) : subject.slice(start, dot);
  }
  /** typeOf(subject) === type, without cutting the type out of the subject (once per consumed event). */
  isOfType(subject: string, type: string): boolean {
    const p = this.eventsPrefix;
    if (!subject.startsWith(p) || !subject.startsWith(type, p.length)) return false;
    const end = p.length + type.length;
    return end === subject.length || subject.charCodeAt(end) === 46;
  }
  private get eventsPrefix(): string {
    return (this.eventsPrefixCache ??= `${this.prefix}events.`);
  }
  private eventsPrefixCache: string | undefined;
}
