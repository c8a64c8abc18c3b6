// A checkpoint that does not move the head (the chain broken by a lost delta) commits the old head's
// streamSeq again, and with it the stream that sequence counts in. Stamped with the stream the
// checkpointer was told of now, after EVENTS was made again, the head claimed the old stream's sequence
// counted in the new one: the next start skipped that many events of the new stream.
import { afterAll, beforeAll, expect, it } from "vitest";
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
import { CheckpointStore } from "../state/index.ts";
import { Checkpointer, loadCheckpoint } from "./checkpointer.ts";

let server: NatsServerHandle;
let nc: NatsConnection;
const BUCKET = "CKPT_REVIEW";
beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
  await new Kvm(nc).create(BUCKET, { history: 1 });
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

const cfg = engineConfigFrom(loadConfig({ env: {} }));
const evs = shopEvents(5, 2000);

it("never writes a head whose streamSeq counts in another stream than the one it names", async () => {
  const name = "remade";
  const engine = createEngine(cfg, { trackChanges: true });
  startTracking(engine, false);
  const kpi = new KpiAccumulator();
  const a = new Checkpointer(nc, BUCKET, name, { everyEvents: 1e9, everyMs: 1e9 }, createMetrics(), createLogger("silent"));
  a.streamCreated = "2026-12-01T00:00:00Z"; // EVENTS as it was
  let seq = 0;
  for (; seq < 1000; seq++) step(engine, evs[seq]!, rngFromKey(1, evs[seq]!.id));
  await a.checkpoint(() => ({ seq, engine, kpi }), () => Promise.resolve(), { wait: true });

  // Restart after EVENTS was deleted and made again: the processor reads the new stream from 1.
  const b = new Checkpointer(nc, BUCKET, name, { everyEvents: 1e9, everyMs: 1e9 }, createMetrics(), createLogger("silent"));
  const restored = (await b.load(cfg))!;
  expect(restored.streamCreated).toBe("2026-12-01T00:00:00Z");
  b.streamCreated = "2026-12-07T00:00:00Z";
  let newSeq = 0;
  for (let i = 0; i < 100; i++, newSeq++) step(restored.engine, evs[seq + i]!, rngFromKey(1, evs[seq + i]!.id));
  // One checkpoint's flush fails (publishes refused for a while): its delta is lost.
  await b.checkpoint(() => ({ seq: newSeq, engine: restored.engine, kpi: restored.kpi }), () => Promise.reject(new Error("publishes failed")), { wait: true });
  // Then the processor stops: the final checkpoint cannot append (the chain is broken) and re-commits the head.
  await b.checkpoint(() => ({ seq: newSeq, engine: restored.engine, kpi: restored.kpi }), () => Promise.resolve(), { wait: true, final: true });

  const next = (await loadCheckpoint(new CheckpointStore(nc, BUCKET, name), cfg))!;
  // The processor's rule (restoreAndPosition): same streamCreated → go on after streamSeq.
  if (next.streamCreated === "2026-12-07T00:00:00Z") expect(next.streamSeq, "a head naming the new stream must count in it").toBeLessThanOrEqual(newSeq);
  else expect(next.streamCreated).toBe("2026-12-01T00:00:00Z");
});
