// A checkpoint whose engine's small state (posteriors, ledger, promotions, as one JSON frame) is larger
// than a KV value may be (NATS max_payload, 1 MiB by default) is still written and restored: the part's
// chunks must each fit in a KV value, whatever the size of a single frame.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamServer, type NatsServerHandle } from "../../test/support/nats-server.ts";
import { loadConfig } from "../config/index.ts";
import { createEngine, engineConfigFrom, engineToJSON, startTracking, step } from "../engine/index.ts";
import type { ShopEvent } from "../events/index.ts";
import { KpiAccumulator } from "../kpi/index.ts";
import { createLogger } from "../log/index.ts";
import { createMetrics } from "../metrics/index.ts";
import { rngFromKey } from "../random/index.ts";
import { CheckpointStore } from "../state/index.ts";
import { Checkpointer, loadCheckpoint } from "./checkpointer.ts";

let server: NatsServerHandle;
let nc: NatsConnection;
const BUCKET = "CKPT_LARGE";

beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
  await new Kvm(nc).create(BUCKET, { history: 1 });
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

describe("Checkpointer with a large catalogue", () => {
  it("writes and restores a checkpoint whose ledger is larger than a KV value", async () => {
    const cfg = engineConfigFrom(loadConfig({ env: {} }));
    const engine = createEngine(cfg, { trackChanges: true });
    startTracking(engine, false);
    const ts = Date.parse("2026-03-02T08:00:00Z");
    // A catalogue of 30,000 products: the ledger keeps each one's stock, price and cost.
    for (let i = 0; i < 30_000; i++) {
      const ev: ShopEvent = { type: "inventory", id: `inv-${i}`, ts, productId: `product-${String(i).padStart(6, "0")}`, category: `category-${i % 40}`, stock: 10 + (i % 90), priceCents: 1000 + i, costCents: 700 };
      step(engine, ev, rngFromKey(1, ev.id));
    }
    const small = JSON.stringify(engine.ledger.toJSON()).length;
    expect(small).toBeGreaterThan(1024 * 1024);
    const cp = new Checkpointer(nc, BUCKET, "large", { everyEvents: 1e9, everyMs: 1e9 }, createMetrics(), createLogger("silent"));
    await cp.checkpoint(() => ({ seq: 30_000, engine, kpi: new KpiAccumulator() }), () => Promise.resolve(), { wait: true });
    const restored = await loadCheckpoint(new CheckpointStore(nc, BUCKET, "large"), cfg);
    expect(restored?.streamSeq).toBe(30_000);
    expect(engineToJSON(restored!.engine)).toEqual(engineToJSON(engine));
  });
});
