// Shoppers for the cluster tests (cluster.test.ts, cluster-partition.test.ts): decision points at a scarce
// product and a plentiful one, published with retries until a cluster takes them, and the decisions read
// back by event.
import type { NatsConnection } from "@nats-io/transport-node";
import { encodeEvent, Subjects, type Decision, type ShopEvent } from "../../src/events/index.ts";
import { PipelinedPublisher } from "../../src/io/nats/index.ts";
import { readStream } from "./streams.ts";

/** Partitions of the cluster tests' deployments. */
export const CLUSTER_PARTITIONS = 4;

/**
 * The cluster tests' configuration: partitioned processors (short leases, frequent syncs and grants)
 * on R3 streams, with a scarce product (6 in stock, 2 held back: at most 4 units may ever be promised
 * at once) and a tight budget ($20 at $5 an offer: at most 4 offers may ever hold a reservation).
 */
/**
 * Partitioned instances on one nats-server with short leases (3 s), for the tests of what happens to
 * leases when an instance pauses or the lease bucket goes: 4 partitions, one promotion, info logs (the
 * tests read the instances' output).
 */
export const LEASE_TEST_OVERLAY = {
  partitions: 4,
  scale: { enabled: true, leaseTtlSec: 3, syncEveryMs: 300, allowanceEveryMs: 200 },
  promotions: [{ id: "ten", name: "$10 off", kind: "amount", amountOffCents: 1000, channels: ["web"], budgetCents: 10_000_000, maxDiscountCents: 1000 }],
  log: { level: "info" },
};

export const CLUSTER_OVERLAY = {
  partitions: CLUSTER_PARTITIONS,
  streams: { events: { replicas: 3 }, decisions: { replicas: 3 }, outcomes: { replicas: 3 }, deadletter: { replicas: 3 } },
  scale: { enabled: true, leaseTtlSec: 6, syncEveryMs: 300, allowanceEveryMs: 100, unitGrant: 1, budgetGrantShare: 0.25 },
  processor: { checkpointEverySec: 2, checkpointEveryEvents: 200 },
  promotions: [
    { id: "scarce", name: "20% off the last units", kind: "percent", percentOff: 20, productId: "sku-007", channels: ["web"], budgetCents: 100_000_000, maxDiscountCents: 4000 },
    { id: "tight", name: "$5 off", kind: "amount", amountOffCents: 500, channels: ["web"], budgetCents: 2000, maxDiscountCents: 500 },
  ],
  guards: { stockReserve: 2, frequencyCaps: { web: { maxOffers: 100, windowSec: 60 } } },
  log: { level: "info" },
};

/** Publishes events, retrying failures with the same msg id until the server or cluster takes them. */
export async function publishWithRetry(nc: NatsConnection, events: ShopEvent[], partitions: number, opts: { timeoutMs?: number; attempts?: number } = {}): Promise<void> {
  const subjects = new Subjects();
  const pub = new PipelinedPublisher(nc, 500, opts.timeoutMs ?? 5_000);
  let todo = events;
  for (let attempt = 0; todo.length; attempt++) {
    const acks = await Promise.all(todo.map(async (e) => (await pub.publish(subjects.forEvent(e, partitions), encodeEvent(e), e.id)).acked));
    const results = await Promise.all(acks);
    todo = todo.filter((_, i) => !results[i]!.ok);
    if (todo.length && attempt > (opts.attempts ?? 60)) throw new Error(`${todo.length} events not stored: ${pub.lastError?.message}`);
    if (todo.length) await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Decision points: n shoppers, each looking at a product in a visit of their own (the default
 * decisionPoints decide at the first product view), half at the scarce sku-007, half at sku-001;
 * numbered on from the previous call (`reset` starts again at 1).
 */
export function visitMaker(): { visits(n: number, ts: number): ShopEvent[]; reset(): void } {
  let seq = 0;
  return {
    visits: (n, ts) =>
      Array.from({ length: n }, () => {
        const i = ++seq;
        const [productId, category, priceCents] = i % 2 ? ["sku-007", "toys", 10_000] : ["sku-001", "home", 3_000];
        return { type: "view", id: `v-${i}`, ts: ts + i, customerId: `c${i}`, sessionId: `s${i}`, productId, category, priceCents } as ShopEvent;
      }),
    reset: () => void (seq = 0),
  };
}

/** Every decision in DECISIONS, by the event it was made at. */
export async function decisionsByEvent(nc: NatsConnection): Promise<Map<string, Decision[]>> {
  const out = new Map<string, Decision[]>();
  for (const m of await readStream(nc, "DECISIONS")) {
    const d = JSON.parse(new TextDecoder().decode(m.data)) as Decision;
    out.set(d.eventId, [...(out.get(d.eventId) ?? []), d]);
  }
  return out;
}
