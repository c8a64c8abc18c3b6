// The global ledger's compare-and-set on a real JetStream KV: a lost revision check is retried and
// counted; a KV that does not answer is told apart (PS_ERR_SCALE_KV_UNAVAILABLE), not retried as if
// someone else had written.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kvm, type KV } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamServer, type NatsServerHandle } from "../../test/support/nats-server.ts";
import { startNatsCluster } from "../io/nats/index.ts";
import { CasConflictError, PS_ERR_SCALE, ScaleError } from "./errors.ts";
import { GlobalLedger } from "./ledger.ts";

let server: NatsServerHandle;
let nc: NatsConnection;
let kv: KV;
const enc = new TextEncoder();

beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
  kv = await new Kvm(nc).create("LEDGER_TEST", { history: 1 });
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

/** A ledger whose record another writer changes just before each of its first `times` writes. */
function contended(times: number): GlobalLedger {
  let n = 0;
  return new (class extends GlobalLedger {
    protected override async write(key: string, data: Uint8Array, lastSeq: number, revision: number): Promise<void> {
      if (n++ < times) await kv.put(key, enc.encode(JSON.stringify({ v: 100 * n })));
      return super.write(key, data, lastSeq, revision);
    }
  })(kv, 0);
}

describe("GlobalLedger.cas", () => {
  it("retries when another writer changed the record in between, builds on its value, and counts the conflict", async () => {
    await kv.put("n", enc.encode(JSON.stringify({ v: 1 })));
    const ledger = contended(1);
    const out = await ledger.cas<{ v: number }>("n", (cur) => ({ v: cur!.v + 1 }));
    expect(out).toEqual({ v: 101 });
    expect(ledger.casConflicts).toBe(1);
    expect((await kv.get("n"))!.json<{ v: number }>()).toEqual({ v: 101 });
  });

  it("gives up with PS_ERR_SCALE_CAS_CONFLICT when others win every time", async () => {
    await kv.put("busy", enc.encode(JSON.stringify({ v: 0 })));
    const ledger = contended(Infinity);
    const err = await ledger.cas<{ v: number }>("busy", (cur) => ({ v: cur!.v + 1 }), 3).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CasConflictError);
    expect((err as ScaleError).code).toBe(PS_ERR_SCALE.CasConflict);
    expect(ledger.casConflicts).toBe(3);
  });

  it("tells a KV that does not answer apart from a conflict: one attempt, PS_ERR_SCALE_KV_UNAVAILABLE", async () => {
    const other = await connect({ servers: server.url });
    const kv2 = await new Kvm(other).open("LEDGER_TEST");
    const ledger = new GlobalLedger(kv2, 0);
    await other.close();
    let calls = 0;
    const err = await ledger.cas<number>("n", () => ++calls).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ScaleError);
    expect((err as ScaleError).code).toBe(PS_ERR_SCALE.KvUnavailable);
    expect((err as ScaleError).cause).toBeDefined();
    expect(ledger.casConflicts).toBe(0);
    expect(calls).toBeLessThanOrEqual(1);
  });
});

describe("GlobalLedger.grantBudget", () => {
  it("keeps a budget changed at runtime when a partition behind the change asks with the older one", async () => {
    const ledger = new GlobalLedger(kv, 0);
    // The configuration's budget (as of 0): partitions 0 and 1 take 1,000 each.
    expect(await ledger.grantBudget("flash", 5_500, 0, 0, 1_000)).toBe(1_000);
    expect(await ledger.grantBudget("flash", 5_500, 0, 1, 1_000)).toBe(1_000);
    // A change at t = 5,000 lowers it to 3,000; partition 0 has reached the change.
    expect(await ledger.grantBudget("flash", 3_000, 5_000, 0, 1_000)).toBe(2_000);
    // Partition 1 still replays from before the change: it may not raise the budget back.
    const lagging = await ledger.grantBudget("flash", 5_500, 0, 1, 1_000);
    expect(lagging).toBe(1_000);
    const rec = (await ledger.budget("flash"))!;
    expect(rec.budgetCents).toBe(3_000);
    expect(Object.values(rec.granted).reduce((a, b) => a + b, 0)).toBe(3_000);
    // A later change raises it again, and that one applies.
    expect(await ledger.grantBudget("flash", 4_000, 9_000, 1, 1_000)).toBe(2_000);
    expect((await ledger.budget("flash"))!.budgetCents).toBe(4_000);
  });

  it("reads a record written before the change time was kept as the configuration's", async () => {
    await kv.put("budget.old", enc.encode(JSON.stringify({ budgetCents: 1_000, granted: { "0": 500 } })));
    const ledger = new GlobalLedger(kv, 0);
    expect(await ledger.grantBudget("old", 2_000, 0, 0, 1_000)).toBe(1_500);
    expect((await ledger.budget("old"))!.budgetCents).toBe(2_000);
  });
});

describe("GlobalLedger.grantUnits", () => {
  it("does not grant units redeemed since the shop's last stock figure again: they left the stock", async () => {
    const ledger = new GlobalLedger(kv, 2);
    // 6 in stock, a reserve of 2: partition 0 takes the 4 units there are to promise.
    await ledger.setStock("sold", 6, 1);
    expect(await ledger.grantUnits("sold", 0, 4, 0)).toBe(4);
    // Three of its offers are redeemed: 3 units sold, 3 left, of which 1 promised and 2 the reserve.
    // The shop has sent no new figure yet: there is nothing more to grant, to it or to another.
    expect(await ledger.grantUnits("sold", 0, 4, 3)).toBe(4);
    expect(await ledger.grantUnits("sold", 1, 4, 0)).toBe(0);
    // The shop's next figure counts the sales: the same.
    await ledger.setStock("sold", 3, 2);
    expect(await ledger.grantUnits("sold", 1, 4, 0)).toBe(0);
    // One more redemption, then the same figure handled again: the sale is not in it.
    expect(await ledger.grantUnits("sold", 0, 4, 4)).toBe(4);
    await ledger.setStock("sold", 3, 2);
    expect(await ledger.grantUnits("sold", 1, 4, 0)).toBe(0);
    // A restock to 10: 10 − 2 = 8 to promise.
    await ledger.setStock("sold", 10, 4);
    expect(await ledger.grantUnits("sold", 1, 4, 0)).toBe(4);
    expect(await ledger.grantUnits("sold", 2, 4, 0)).toBe(4);
    expect(await ledger.grantUnits("sold", 3, 4, 0)).toBe(0);
  });
});

// nats-server before 2.9.21 checks kv.update's expected revision on a replicated stream only before
// proposing the write (nats-io/nats-server#4320): two instances' grants in flight at once were both
// stored, the first lost, and the partitions together promised more than stock − reserve.
describe("GlobalLedger on a 3-node cluster (R3 bucket)", { timeout: 120_000 }, () => {
  it("never grants more than stock − reserve when two instances ask at the same moment", async () => {
    const cluster = await startNatsCluster(3);
    const [u1, u2] = cluster.url.split(",");
    const a = await connect({ servers: u1! });
    const b = await connect({ servers: u2! });
    try {
      const ledgerA = new GlobalLedger(await new Kvm(a).create("LEDGER_RACE", { history: 1, replicas: 3 }), 2);
      const ledgerB = new GlobalLedger(await new Kvm(b).open("LEDGER_RACE"), 2);
      const over: string[] = [];
      for (let i = 0; i < 40; i++) {
        const product = `sku-${i}`;
        await ledgerA.setStock(product, 6, 1);
        // A holds partitions 1 and 3, B 0 and 2; each asks for one unit at a time, three rounds.
        const told = new Map<number, number>();
        for (let round = 0; round < 3; round++) {
          const asks: [GlobalLedger, number][] = [[ledgerA, 1], [ledgerB, 0], [ledgerA, 3], [ledgerB, 2]];
          const totals = await Promise.all(asks.map(([l, k]) => l.grantUnits(product, k, 1, 0)));
          asks.forEach(([, k], j) => told.set(k, Math.max(told.get(k) ?? 0, totals[j]!)));
        }
        const promised = [...told.values()].reduce((x, y) => x + y, 0);
        const recorded = Object.values((await ledgerA.units(product))!.granted).reduce((x, y) => x + y, 0);
        if (promised > 4 || recorded !== promised) over.push(`${product}: told ${JSON.stringify(Object.fromEntries(told))}, recorded ${recorded}`);
      }
      expect(over).toEqual([]);
    } finally {
      await a.close();
      await b.close();
      await cluster.stop();
    }
  });
});
