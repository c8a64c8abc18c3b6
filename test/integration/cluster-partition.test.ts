// One node of a 3-node cluster cut off by the network (issue 25) while two partitioned processors run:
// each node in a network namespace of its own, the processors and the producer beside them; the node a
// processor is connected to loses its link for 15 s (no reset reaches anyone: silence), then gets it
// back. The cluster tests' checks must hold (every visit decided exactly once, a scarce product never
// promised past its stock, a tight budget never reserved past its cents) and deciding must go on
// through the other two nodes while the cut lasts.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { loadConfig } from "../../src/config/index.ts";
import { partitionOf, type Decision, type ShopEvent } from "../../src/events/index.ts";
import { connectNats } from "../../src/io/nats/index.ts";
import { createLogger } from "../../src/log/index.ts";
import type { BudgetRecord, UnitsRecord } from "../../src/scale/index.ts";
import { testOutputDir } from "../support/chromium.ts";
import { startLabCluster, type LabCluster } from "../support/lab-cluster.ts";
import { createNetLab, netlabAvailable, type NetLab } from "../support/netlab.ts";
import { configFile, spawnPart, type Child } from "../support/processes.ts";
import { readStream } from "../support/streams.ts";
import { CLUSTER_OVERLAY, CLUSTER_PARTITIONS, decisionsByEvent as readDecisions, publishWithRetry, visitMaker } from "../support/shoppers.ts";
import { waitFor } from "../support/system.ts";

const T0 = Date.parse("2026-03-02T08:00:00Z");
const PARTITIONS = CLUSTER_PARTITIONS;
const CUT_MS = 15_000;
const overlay = CLUSTER_OVERLAY;
const cfg = loadConfig({ env: {}, overrides: overlay });

let lab: NetLab | undefined;
let cluster: LabCluster | undefined;
let nc: NatsConnection | undefined;
const children: Child[] = [];

afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail") {
    for (const [i, c] of children.entries()) writeFileSync(join(testOutputDir(), `cluster-partition-${i}.log`), c.output());
    for (const [i, n] of (cluster?.nodes ?? []).entries()) writeFileSync(join(testOutputDir(), `cluster-partition-n${i}.log`), n.log());
  }
  for (const c of children.splice(0)) {
    c.signal("SIGKILL");
    await c.exited;
  }
  await nc?.close().catch(() => undefined);
  await cluster?.stop();
  lab?.close();
  nc = cluster = lab = undefined;
});

const { visits } = visitMaker();
const publish = (events: ShopEvent[]) => publishWithRetry(nc!, events, PARTITIONS, { timeoutMs: 3_000, attempts: 100 });
const decisionsByEvent = () => readDecisions(nc!);

describe("a cluster node cut off by the network", { timeout: 240_000 }, () => {
  it("the processors fail over to the other nodes and go on deciding; every visit decided once, stock and budget never over-promised", async () => {
    expect(netlabAvailable(), "this test makes network namespaces: run it as root with iproute2 installed (.ci/run installs it)").toBe(true);
    lab = createNetLab();
    cluster = await startLabCluster(lab, 3);
    // The producer reconnects the way the processors do (stale connections left at once).
    nc = await connectNats(cfg.nats, cluster.url, "cluster-partition-producer", createLogger("silent"));
    const spawn = (id: string) => {
      const c = spawnPart("processor", { NATS_URL: cluster!.url, CONFIG_FILE: configFile(overlay), INSTANCE_ID: id });
      children.push(c);
      return c;
    };
    const a = spawn("A");
    const b = spawn("B");
    await waitFor("both instances running", () => /instance running/.test(a.output()) && /instance running/.test(b.output()), 60_000);
    await publish([
      { type: "inventory", id: "inv-7", ts: T0, productId: "sku-007", category: "toys", stock: 6, priceCents: 10_000, costCents: 6_000 },
      { type: "inventory", id: "inv-1", ts: T0, productId: "sku-001", category: "home", stock: 500, priceCents: 3_000, costCents: 2_000 },
    ]);
    // Cut the node A is connected to: A must notice and fail over.
    const aServer = /"server":"([\d.]+):4222","connection":"promo-stream-processor","msg":"connected to NATS"/.exec(a.output())?.[1];
    const victim = Math.max(0, cluster.hosts.findIndex((h) => h.ip === aServer));

    const firstSeen = new Map<string, number>();
    const sub = nc.subscribe("decisions.>", {
      callback: (_err, m) => {
        const d = m.json<Decision>();
        if (!firstSeen.has(d.eventId)) firstSeen.set(d.eventId, Date.now());
      },
    });
    const ids: string[] = [];
    const customerOf = new Map<string, string>();
    let cutAt = 0;
    let producerServer = "";
    let healAt = 0;
    for (let round = 0; round < 16; round++) {
      if (round === 3) {
        cluster.hosts[victim]!.cut();
        cutAt = Date.now();
        // Whether this test's own connection (the producer and the decisions' subscriber) was on the node cut.
        producerServer = nc!.getServer();
        setTimeout(() => {
          cluster!.hosts[victim]!.heal();
          healAt = Date.now();
        }, CUT_MS);
      }
      const batch = visits(30, T0 + 1_000 + round * 5_000);
      ids.push(...batch.map((e) => e.id));
      for (const e of batch) if ("customerId" in e) customerOf.set(e.id, e.customerId);
      await publish(batch);
      await new Promise((r) => setTimeout(r, 1_000));
    }
    await waitFor("the heal", () => healAt > 0, CUT_MS + 5_000);
    let seen: Map<string, Decision[]> | undefined;
    const by = await waitFor("a decision for every visit", async () => {
      const m = await decisionsByEvent();
      seen = m;
      return ids.every((id) => m.has(id)) ? m : undefined;
    }, 120_000, 500).catch((err: Error) => {
      // Which visits, and whose partitions: what a failure needs to be read.
      const missing = ids.filter((id) => !seen?.has(id));
      const partitions = [...new Set(missing.map((id) => partitionOf(customerOf.get(id) ?? "", PARTITIONS)))].sort();
      throw new Error(`${err.message}; ${missing.length} of ${ids.length} visits without a decision (partitions ${partitions.join(", ")}; e.g. ${missing.slice(0, 5).join(", ")})`);
    });
    sub.unsubscribe();
    for (const id of ids) expect(by.get(id)!.length, id).toBe(1);

    // Deciding went on while the node was cut off (after the processors had found it dead).
    const duringCut = [...firstSeen.values()].filter((t) => t > cutAt && t < healAt).length;
    console.log(`cluster partition: node n${victim} cut for ${CUT_MS / 1000} s; ${duringCut} decisions stored while it was cut off, ${ids.length} visits decided once each`);
    // (A failure says what to read: whose connection was on the node cut, and what the processors logged.)
    const tail = (c: { output(): string }) => c.output().split("\n").filter((l) => /warn|error|lease|connect|reposition|stale/i.test(l)).slice(-40).join("\n");
    expect(duringCut, `node cut n${victim} (${cluster.hosts[victim]!.ip}); the test's connection on ${producerServer}; cut at ${new Date(cutAt).toISOString()}, healed at ${new Date(healAt).toISOString()}\nA:\n${tail(a)}\nB:\n${tail(b)}`).toBeGreaterThan(0);

    const all = [...by.values()].flat();
    expect(all.filter((d) => d.promotionId === "scarce").length).toBeLessThanOrEqual(4);
    expect(all.filter((d) => d.promotionId === "tight").length).toBeLessThanOrEqual(4);
    // Right after the heal the cluster may still be electing a stream's leader ("JetStream system
    // temporarily unavailable"): the checks' own reads wait it out, as a client would.
    const settled = <T>(what: string, read: () => Promise<T>) => waitFor(what, async () => ({ v: await read() }), 60_000, 500).then((r) => r.v);
    const kv = await settled("the inventory bucket", () => new Kvm(nc!).open(cfg.kv.inventoryBucket));
    const units = (await settled("units.sku-007", () => kv.get("units.sku-007")))?.json<UnitsRecord>();
    const budget = (await settled("budget.tight", () => kv.get("budget.tight")))?.json<BudgetRecord>();
    expect(Object.values(units?.granted ?? {}).reduce((x, y) => x + y, 0)).toBeLessThanOrEqual(6 - 2);
    expect(Object.values(budget?.granted ?? {}).reduce((x, y) => x + y, 0)).toBeLessThanOrEqual(2000);
    // The processor on the cut node found it dead and dialled another one.
    expect(a.output()).toMatch(/NATS server stopped answering/);
    // Every event was stored once. Read until the stream holds them all (a CI run read 479 of 480 views
    // right after the heal, though every one of them had been decided: the replicas were still catching
    // up); a copy too many still fails.
    const views = async () => (await readStream(nc!, "EVENTS")).map((m) => JSON.parse(new TextDecoder().decode(m.data)) as ShopEvent).filter((e) => e.type === "view");
    const stored = await settled("every view in the EVENTS stream", async () => {
      const v = await views();
      if (v.length < ids.length) throw new Error(`${v.length} of ${ids.length} views read`);
      return v;
    });
    expect(stored.length).toBe(ids.length);
    expect(new Set(stored.map((e) => e.id))).toEqual(new Set(ids));
  });
});
