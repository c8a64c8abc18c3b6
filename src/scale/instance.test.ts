// A partitioned instance's grant rounds against a real nats-server: a partition whose stream is behind
// (a backlog, a replay after a takeover) has not yet seen the allowance event of its last grant, which
// waits behind the backlog in its own stream; it must not be granted another chunk at every round
// meanwhile, or it ends up holding the whole budget while the others get nothing.
import { afterAll, beforeAll, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Kvm } from "@nats-io/kv";
import { jetstreamServer, type NatsServerHandle } from "../../test/support/nats-server.ts";
import { publishWithRetry } from "../../test/support/shoppers.ts";
import { startParts, testConfig, waitFor } from "../../test/support/system.ts";
import { partitionOf, type ShopEvent } from "../events/index.ts";
import { provision } from "../io/nats/index.ts";
import { createLogger } from "../log/index.ts";
import type { Running } from "../system.ts";

let server: NatsServerHandle;
let nc: NatsConnection;
let sys: Running | undefined;

beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
});
afterAll(async () => {
  await sys?.stop();
  await nc?.close();
  await server?.stop();
});

const T0 = Date.parse("2026-03-02T08:00:00Z");

it("grants a partition behind on its stream one chunk, not one per round until it catches up", { timeout: 120_000 }, async () => {
  const cfg = testConfig(server.url, {
    partitions: 2,
    scale: { enabled: true, leaseTtlSec: 10, syncEveryMs: 60_000, allowanceEveryMs: 20, budgetGrantShare: 0.02 },
    // A chunk is max(2 × maxDiscount, 2% of the budget) = 2,000 cents; an offer reserves 500, so one
    // chunk covers the two offers a round asks for.
    promotions: [{ id: "five", name: "$5 off", kind: "amount", amountOffCents: 500, channels: ["web"], budgetCents: 100_000, maxDiscountCents: 500 }],
  });
  await provision(nc, cfg, createLogger("silent"));
  // A backlog in partition 0 that decides nothing (clicks) and spends nothing: one grant is all it needs.
  const customers = Array.from({ length: 400 }, (_, i) => `c${i}`).filter((c) => partitionOf(c, 2) === 0);
  const clicks: ShopEvent[] = Array.from({ length: 20_000 }, (_, i) => ({ type: "click", id: `k${i}`, ts: T0 + i, customerId: customers[i % customers.length]! }));
  await publishWithRetry(nc, clicks, 2);

  sys = await startParts("processor", cfg);
  const instance = sys.instance!;
  await waitFor("partition 0 through its backlog, with its grant", () => {
    const w = instance.workers.get(0);
    return w && w.engine.counters.events >= clicks.length && (w.engine.ledger.budgets.get("five")?.budgetCents ?? 0) > 0;
  }, 90_000, 50);
  // Some more rounds once it caught up.
  await new Promise((r) => setTimeout(r, 500));
  const rec = await instance.ledger.budget("five");
  expect(rec?.granted["0"]).toBe(2_000);
  expect(instance.workers.get(0)!.engine.ledger.budgets.get("five")!.budgetCents).toBe(2_000);
  expect(rec?.granted["1"]).toBe(2_000);
});

it("answers promo.control's list and mode from an instance that holds no partition with an error saying so, not an empty list", { timeout: 60_000 }, async () => {
  // A server of its own: no other test's instance in the promo-control queue group to answer instead.
  const own = await jetstreamServer();
  const nc = await connect({ servers: own.url });
  const cfg = testConfig(own.url, { partitions: 1, kv: { leaseBucket: "PS_LEASES_IDLE" }, scale: { enabled: true, leaseTtlSec: 10, syncEveryMs: 60_000 } } as never);
  await provision(nc, cfg, createLogger("silent"));
  // The one partition is another instance's (a standby's view of a running deployment).
  const leases = await new Kvm(nc).open(cfg.kv.leaseBucket);
  await leases.put("lease.p0", JSON.stringify({ owner: "elsewhere", expiresAtMs: Date.now() + 600_000 }));
  const idle = await startParts("processor", cfg);
  try {
    expect(idle.instance!.workers.size).toBe(0);
    const ask = async (req: object) => (await nc.request(cfg.nats.subjectPrefix + "promo.control", JSON.stringify(req), { timeout: 5_000 })).json<{ ok: boolean; promotions?: string[]; mode?: string; error?: string }>();
    for (const req of [{ op: "list" }, { op: "mode" }]) {
      const a = await ask(req);
      expect(a, JSON.stringify(req)).toMatchObject({ ok: false, error: expect.stringMatching(/holds no partition/) });
    }
  } finally {
    await idle.stop();
    await nc.close();
    await own.stop();
  }
});
