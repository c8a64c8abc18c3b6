// Partitioned processors on a 3-node JetStream cluster with R3 streams (issue #8): real servers and
// real processes on loopback. Every decision point gets exactly one decision, and every decision a
// purchase closes one outcome; stock and budget are never over-promised across instances; a NATS node
// or a processor can die without loss.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { testOutputDir } from "../support/chromium.ts";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { loadConfig } from "../../src/config/index.ts";
import { PromoStreamClient, type DecideEvent } from "../../src/client/index.ts";
import { partitionOf, type Decision, type OutcomeRecord, type ShopEvent } from "../../src/events/index.ts";
import type { BudgetRecord, UnitsRecord } from "../../src/scale/index.ts";
import { startCluster, type Cluster } from "../support/cluster.ts";
import { configFile, spawnPart, type Child } from "../support/processes.ts";
import { readStream } from "../support/streams.ts";
import { CLUSTER_OVERLAY, CLUSTER_PARTITIONS, decisionsByEvent as readDecisions, publishWithRetry, visitMaker } from "../support/shoppers.ts";
import { startParts, testConfig, waitFor } from "../support/system.ts";

const T0 = Date.parse("2026-03-02T08:00:00Z");
const PARTITIONS = CLUSTER_PARTITIONS;
const overlay = CLUSTER_OVERLAY;
const cfg = loadConfig({ env: {}, overrides: overlay });

let cluster: Cluster | undefined;
let nc: NatsConnection | undefined;
const children: Child[] = [];

afterEach(async (ctx) => {
  // A failing run leaves the processes' logs in test-output/ for whoever reads the failure.
  if (ctx.task.result?.state === "fail") for (const [i, c] of children.entries()) writeFileSync(join(testOutputDir(), `cluster-${ctx.task.name.slice(0, 20).replace(/\W+/g, "-")}-${i}.log`), c.output());
  for (const c of children.splice(0)) c.signal("SIGKILL");
  await nc?.close();
  await cluster?.stop();
  nc = cluster = undefined;
});

function processor(id: string): Child {
  const c = spawnPart("processor", { NATS_URL: cluster!.url, CONFIG_FILE: configFile(overlay), INSTANCE_ID: id });
  children.push(c);
  return c;
}

const shoppers = visitMaker();
const visits = shoppers.visits;
const publish = (events: ShopEvent[]) => publishWithRetry(nc!, events, PARTITIONS);
const decisionsByEvent = () => readDecisions(nc!);

async function expectExactlyOnce(ids: string[]): Promise<Map<string, Decision[]>> {
  const by = await waitFor("a decision for every visit", async () => {
    const m = await decisionsByEvent();
    return ids.every((id) => m.has(id)) ? m : undefined;
  }, 90_000, 500);
  for (const id of ids) expect(by.get(id)!.length, id).toBe(1);
  return by;
}

async function setup(): Promise<void> {
  shoppers.reset();
  cluster = await startCluster(3);
  nc = await connect({ servers: cluster.url.split(",") });
}

async function inventory(): Promise<void> {
  const products: ShopEvent[] = [
    { type: "inventory", id: "inv-7", ts: T0, productId: "sku-007", category: "toys", stock: 6, priceCents: 10_000, costCents: 6_000 },
    { type: "inventory", id: "inv-1", ts: T0, productId: "sku-001", category: "home", stock: 500, priceCents: 3_000, costCents: 2_000 },
  ];
  await publish(products);
}

/** A fresh cluster with processors A and B up (each has logged `ready`), and the inventory published. */
async function twoInstances(ready: RegExp, what: string): Promise<{ a: Child; b: Child }> {
  await setup();
  const a = processor("A");
  const b = processor("B");
  await waitFor(what, () => ready.test(a.output()) && ready.test(b.output()), 60_000);
  await inventory();
  return { a, b };
}

describe("partitioned processors on a 3-node cluster", { timeout: 150_000 }, () => {
  it("share the partitions, decide each visit once, and never over-promise scarce stock or a tight budget", async () => {
    const { a, b } = await twoInstances(/instance running/, "both instances running");
    const ids: string[] = [];
    // Several rounds, so grants are used up, asked for again, and contended by both instances.
    for (let round = 0; round < 6; round++) {
      await new Promise((r) => setTimeout(r, 700));
      const batch = visits(60, T0 + 1_000 + round * 10_000);
      ids.push(...batch.map((e) => e.id));
      await publish(batch);
    }
    const by = await expectExactlyOnce(ids);
    const all = [...by.values()].flat();
    const scarce = all.filter((d) => d.promotionId === "scarce").length;
    const tight = all.filter((d) => d.promotionId === "tight").length;
    // Each instance took partitions (the leases split them).
    expect(a.output()).toMatch(/partition lease acquired/);
    expect(b.output()).toMatch(/partition lease acquired/);
    // Within the window nothing was redeemed or restocked: offers of the scarce product never exceed
    // stock − reserve, offers of the tight promotion never exceed budget ÷ reservation, together.
    expect(scarce).toBeGreaterThan(0);
    expect(scarce).toBeLessThanOrEqual(4);
    expect(tight).toBeGreaterThan(0);
    expect(tight).toBeLessThanOrEqual(4);
    const kv = await new Kvm(nc!).open(cfg.kv.inventoryBucket);
    const units = (await kv.get("units.sku-007"))!.json<UnitsRecord>();
    const budget = (await kv.get("budget.tight"))!.json<BudgetRecord>();
    expect(Object.values(units.granted).reduce((x, y) => x + y, 0)).toBeLessThanOrEqual(6 - 2);
    expect(Object.values(budget.granted).reduce((x, y) => x + y, 0)).toBeLessThanOrEqual(2000);
    // Grants went to partitions of both instances.
    expect(Object.keys(units.granted).length + Object.keys(budget.granted).length).toBeGreaterThan(1);

    // The first round's shoppers buy what they looked at: each purchase closes that shopper's decision,
    // in whichever partition (and instance) holds it, and its outcome is stored once in OUTCOMES (R3).
    const buyers = ids.slice(0, 40).map((id) => Number(id.slice(2)));
    // (A view of the first round is at T0 + 1,000 + i; the purchase a second later.)
    const purchases = buyers.map((i): ShopEvent => {
      const [productId, priceCents] = i % 2 ? ["sku-007", 10_000] as const : ["sku-001", 3_000] as const;
      return { type: "purchase", id: `p-${i}`, ts: T0 + 2_000 + i, customerId: `c${i}`, totalCents: priceCents, items: [{ productId, quantity: 1, priceCents }] };
    });
    await publish(purchases);
    const want = buyers.map((i) => `o-d-v-${i}`);
    const outcomes = await waitFor("an outcome for every purchase", async () => {
      const got = (await readStream(nc!, "OUTCOMES")).map((m) => ({ subject: m.subject, msgId: m.msgId, o: JSON.parse(new TextDecoder().decode(m.data)) as OutcomeRecord }));
      return want.every((id) => got.some((g) => g.o.id === id)) ? got : undefined;
    }, 60_000, 500);
    expect(outcomes.map((g) => g.o.id).sort()).toEqual([...want].sort());
    for (const g of outcomes) {
      expect(g.msgId).toBe(g.o.id);
      expect(g.subject).toBe("outcomes.web");
      expect(["purchased", "redeemed"]).toContain(g.o.closedBy);
    }
    expect(new Set(buyers.map((i) => partitionOf(`c${i}`, PARTITIONS))).size).toBe(PARTITIONS);
    expect((await (await jetstreamManager(nc!)).streams.info("OUTCOMES")).config.num_replicas).toBe(3);

    // Decide in one call (issue 22) works here too: the server asks, whichever instance owns the
    // shopper's partition decides, and the answer is the decision stored in DECISIONS.
    const web = await startParts("server", testConfig(cluster!.url, { ...overlay, decide: { timeoutMs: 10_000 }, log: { level: "silent" } } as never));
    try {
      const asked = visits(12, T0 + 90_000);
      // Through the client a storefront uses: on a loaded machine a call may be answered 503 (the event
      // not stored while a stream's leader moves, or shed), and the client asks again under the same id.
      const client = new PromoStreamClient({ baseUrl: web.url! });
      const answers = await Promise.all(asked.map((e) => client.decide(e as DecideEvent, { deadlineMs: 30_000 })));
      const stored = await decisionsByEvent();
      for (const [i, a] of answers.entries()) {
        expect(a.decision, `${asked[i]!.id}: ${JSON.stringify(a)}`).toBeTruthy();
        expect(stored.get(asked[i]!.id)).toEqual([a.decision]);
      }
      expect(new Set(asked.map((e) => partitionOf((e as { customerId: string }).customerId, PARTITIONS))).size).toBeGreaterThan(1);
    } finally {
      await web.stop();
    }
  });

  it("loses nothing when a NATS node is killed mid-run", async () => {
    await twoInstances(/instance running/, "both instances running");
    const ids: string[] = [];
    for (let round = 0; round < 10; round++) {
      if (round === 3) await cluster!.kill(1);
      const batch = visits(40, T0 + 1_000 + round * 5_000);
      ids.push(...batch.map((e) => e.id));
      await publish(batch);
      await new Promise((r) => setTimeout(r, 300));
    }
    await expectExactlyOnce(ids);
    const jsm = await jetstreamManager(nc!);
    expect((await jsm.streams.info("EVENTS")).config.num_replicas).toBe(3);
    // Every visit is in the stream exactly once (publisher retries were deduplicated).
    const stored = (await waitFor("the stream readable", () => readStream(nc!, "EVENTS"), 60_000, 500)).map((m) => JSON.parse(new TextDecoder().decode(m.data)) as ShopEvent).filter((e) => e.type === "view");
    expect(stored.length).toBe(ids.length);
    expect(new Set(stored.map((e) => e.id)).size).toBe(ids.length);
  });

  it("takes over a killed processor's partitions and goes on deciding", async () => {
    const { a, b } = await twoInstances(/lease acquired/, "both instances hold partitions");
    // A promotion launched at runtime goes into every partition's stream: the partitions that change
    // hands below still have it (from the checkpoint A restores, or by replaying the stream).
    const launched = { id: "launched", name: "Launched at runtime", kind: "amount", amountOffCents: 300, channels: ["web"], budgetCents: 100_000, maxDiscountCents: 300 };
    // (Asked again while no instance answers yet: "lease acquired" comes before an instance subscribes.)
    const reply = await waitFor("an instance to answer promo.control", async () =>
      (await nc!.request("promo.control", new TextEncoder().encode(JSON.stringify({ op: "upsert", promotion: launched })), { timeout: 10_000 })).json<{ ok: boolean; events: number }>(),
    );
    expect(reply).toMatchObject({ ok: true, events: PARTITIONS });
    const ids: string[] = [];
    const first = visits(80, T0 + 1_000);
    ids.push(...first.map((e) => e.id));
    await publish(first);
    await waitFor("B deciding", async () => (await decisionsByEvent()).size > 40, 60_000, 300);
    // Kill B only once it has acknowledged events on a partition of its own, so there is something
    // of B's to resume (acks go out in batches: B could otherwise die before its first).
    const bParts = [...b.output().matchAll(/"partition":(\d+),"previousOwner":(?:null|"[^"]*"),"msg":"partition lease acquired"/g)].map((m) => Number(m[1]));
    expect(bParts.length).toBeGreaterThan(0);
    const jsmB = await jetstreamManager(nc!);
    await waitFor("B to acknowledge events of its partitions", async () => {
      for (const p of bParts) if ((await jsmB.consumers.info("EVENTS", `processor-p${p}`)).ack_floor.stream_seq > 0) return true;
      return false;
    }, 60_000, 100);
    b.signal("SIGKILL");
    await b.exited;
    const later = visits(120, T0 + 60_000);
    ids.push(...later.map((e) => e.id));
    await publish(later);
    await expectExactlyOnce(ids);
    // A took every partition over (B's leases expired after their TTL).
    const taken = [...a.output().matchAll(/"partition":(\d+),"previousOwner":"B"/g)].map((m) => Number(m[1]));
    expect(taken.length).toBeGreaterThan(0);
    // It resumed B's partitions from their checkpoints (or from the start, replaying what B had decided).
    expect(a.output()).toMatch(/restored checkpoint|replaying events handled before the restart/);
    // Every later decision, on every partition, weighed the launched promotion (or said why not).
    const by = await decisionsByEvent();
    const weighs = (d: Decision) => d.explanation.candidates.some((c) => c.promotionId === launched.id) || d.explanation.excluded.some((x) => x.promotionId === launched.id);
    expect(later.every((e) => by.get(e.id)!.every(weighs))).toBe(true);
  });
});
