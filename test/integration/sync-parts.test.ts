// Partitioned processors share what they learned through sync events in each other's streams. A share
// grows with promotions × segments; the stream refuses a message over streams.events.maxMsgBytes, so
// a shop with many promotions (here 66) must get its share across in parts, or
// every partition learns alone. A real nats-server, one instance holding both partitions.
import { isDeepStrictEqual } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { loadConfig, type Config } from "../../src/config/index.ts";
import { ownArms, ownLogistic } from "../../src/engine/index.ts";
import { decodeEvent, type ShopEvent } from "../../src/events/index.ts";
import type { Running } from "../../src/system.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { freePort } from "../support/ports.ts";
import { publishWithRetry } from "../support/shoppers.ts";
import { readStream } from "../support/streams.ts";
import { startParts, testConfig, waitFor } from "../support/system.ts";

const T0 = Date.parse("2026-03-02T08:00:00Z");
const EXTRA = 60;

let server: NatsServerHandle;
let sys: Running;
let nc: NatsConnection;
let cfg: Readonly<Config>;
let metricsPort: number;

const logLines: string[] = [];

beforeAll(async () => {
  server = await jetstreamServer();
  const promotions = [
    ...loadConfig({ env: {} }).promotions,
    ...Array.from({ length: EXTRA }, (_, i) => ({ id: `extra-${i}`, name: `extra ${i}`, kind: "amount" as const, amountOffCents: 100 + i, channels: ["web" as const], budgetCents: 10_000_000, maxDiscountCents: 100 + i })),
  ];
  // Small limits (a shop event of at most 4 KB, a message of 6 KB): the shares of this short run
  // (about 8 KB) outgrow them as a busy shop's, with many segments, outgrow the default 64 KB.
  metricsPort = await freePort();
  cfg = testConfig(server.url, {
    processor: { maxEventBytes: 4_096, metricsPort },
    partitions: 2,
    scale: { enabled: true, syncEveryMs: 200 },
    promotions,
    streams: { events: { maxMsgBytes: 6_000 } },
    log: { level: "warn" },
  });
  sys = await startParts("processor", cfg, logLines);
  nc = await connect({ servers: server.url });
  await waitFor("both partitions owned", () => sys.instance!.workers.size === 2, 30_000);
});

afterAll(async () => {
  await nc?.close();
  await sys?.stop();
  await server?.stop();
});

describe("sync events with many promotions", () => {
  it("carry each partition's whole share to the other, in parts the stream accepts", async () => {
    // Views of products in visits of their own: every promotion a candidate, each decision learned.
    const views: ShopEvent[] = Array.from({ length: 1200 }, (_, i) => ({ type: "view", id: `v${i}`, ts: T0 + i * 1_000, customerId: `c${i}`, sessionId: `s${i}`, productId: "sku-001", category: "home", priceCents: 3_000 }));
    await publishWithRetry(nc, views, cfg.partitions);
    const workers = sys.instance!.workers;
    const engines = [0, 1].map((k) => workers.get(k)!.engine);
    await waitFor("a decision at every view", () => engines[0]!.counters.decisions + engines[1]!.counters.decisions >= views.length, 30_000, 250);
    // Nothing is learned after the last view: each partition ends up holding the other's share as it is.
    await waitFor(
      "each partition holding the other's whole share",
      () =>
        [0, 1].every((k) => {
          const there = engines[1 - k]!;
          return isDeepStrictEqual(there.remoteArms[String(k)], ownArms(engines[k]!)) && isDeepStrictEqual(there.remoteLogistic[String(k)]?.arms, ownLogistic(engines[k]!)!.arms);
        }),
      30_000,
      250,
    );
    const promotionsLearned = Math.min(...engines.map((e) => Object.keys(ownLogistic(e)!.arms).length));
    expect(promotionsLearned).toBeGreaterThan(50);
    const sync = (await readStream(nc, cfg.streams.events.name)).filter((m) => m.subject.includes(".sync."));
    const decoded = sync.map((m) => decodeEvent(m.data, cfg.streams.events.maxMsgBytes));
    expect(decoded.filter((d) => !d.ok)).toEqual([]);
    // Once the shares had grown, they went in parts: events carrying some of the promotions.
    const armsPerEvent = decoded.map((d) => (d.ok && d.value.type === "sync" ? Object.keys(d.value.arms).length : 0));
    expect(armsPerEvent.filter((n) => n < promotionsLearned).length).toBeGreaterThan(0);
    expect(Math.max(...sync.map((m) => m.data.byteLength))).toBeLessThanOrEqual(cfg.streams.events.maxMsgBytes);
    expect(logLines.filter((l) => l.includes("sync event was not stored") || l.includes("dead"))).toEqual([]);
    // The instance's /metrics: its partitions' figures together, not the last one's to report.
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const customers = Number(/^ps_feature_cache_customers (\d+)$/m.exec(metrics)?.[1]);
    expect(customers).toBe(engines[0]!.features.size + engines[1]!.features.size);
    expect(Math.min(engines[0]!.features.size, engines[1]!.features.size)).toBeGreaterThan(0);
  });
});
