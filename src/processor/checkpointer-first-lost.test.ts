// A processor whose very first checkpoint is lost (the publishes it covers not stored) must still leave
// a head that a restart can load: the next checkpoint writes a base waiting for a delta, and a restart
// right after it starts from what the head says (no checkpoint yet), not from an error.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamServer, type NatsServerHandle } from "../../test/support/nats-server.ts";
import { shopEvents } from "../../test/support/engine.ts";
import { loadConfig } from "../config/index.ts";
import { createEngine, engineConfigFrom, startTracking, step } from "../engine/index.ts";
import { KpiAccumulator } from "../kpi/index.ts";
import { createLogger } from "../log/index.ts";
import { createMetrics } from "../metrics/index.ts";
import { rngFromKey } from "../random/index.ts";
import { Checkpointer } from "./checkpointer.ts";

let server: NatsServerHandle;
let nc: NatsConnection;
const BUCKET = "CKPT_FIRST";

beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
  await new Kvm(nc).create(BUCKET, { history: 1 });
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

describe("Checkpointer, first checkpoint lost", () => {
  it("a restart after the base that follows it loads (nothing to restore yet)", async () => {
    const cfg = engineConfigFrom(loadConfig({ env: {} }));
    const evs = shopEvents(5, 1000);
    const engine = createEngine(cfg, { trackChanges: true });
    startTracking(engine, false);
    const kpi = new KpiAccumulator();
    const cp = new Checkpointer(nc, BUCKET, "first", { everyEvents: 1e9, everyMs: 1e9 }, createMetrics(), createLogger("silent"));
    let seq = 0;
    for (; seq < 500; seq++) step(engine, evs[seq]!, rngFromKey(1, evs[seq]!.id));
    await cp.checkpoint(() => ({ seq, engine, kpi }), () => Promise.reject(new Error("publishes failed")), { wait: true });
    for (; seq < 1000; seq++) step(engine, evs[seq]!, rngFromKey(1, evs[seq]!.id));
    await cp.checkpoint(() => ({ seq, engine, kpi }), () => Promise.resolve(), { wait: true });
    // A restart now (kill -9 before the next checkpoint).
    const next = new Checkpointer(nc, BUCKET, "first", { everyEvents: 1e9, everyMs: 1e9 }, createMetrics(), createLogger("silent"));
    const restored = await next.load(cfg);
    expect(restored?.streamSeq ?? 0).toBe(0);
  });
});
