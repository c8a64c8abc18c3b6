// The decide answers bucket (kv.answersBucket) at its size bound (decide.answersMaxBytes, "bytes of
// answers kept (the oldest go first)"): a new answer must still be stored, the oldest dropped. The
// processor writes each answer through its publish-and-ack queue and acknowledges nothing until it is
// stored, so a bucket that refuses new answers (nats.js makes KV buckets with discard "new": the
// server answers 10077 "maximum bytes exceeded") holds every event's acknowledgement, retried in a
// loop, until the oldest answers reach their TTL.
import { afterAll, beforeAll, expect, it } from "vitest";
import { DiscardPolicy, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { loadConfig } from "../../src/config/index.ts";
import { answerPublish } from "../../src/events/index.ts";
import { PipelinedPublisher, provision } from "../../src/io/nats/index.ts";
import { createLogger } from "../../src/log/index.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";

let server: NatsServerHandle;
let nc: NatsConnection;

beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

it("a full answers bucket drops its oldest answers and stores the new one", async () => {
  const cfg = loadConfig({ env: {} });
  const small = { ...cfg, decide: { ...cfg.decide, answersMaxBytes: 4_096 } };
  await provision(nc, small, createLogger("silent"));
  const pub = new PipelinedPublisher(nc, 100);
  const refused: string[] = [];
  for (let i = 0; i < 100; i++) {
    const { subject, msgID } = answerPublish(cfg.kv.answersBucket, `ev-${i}`);
    const r = await pub.tryPublish(subject, JSON.stringify({ decision: null, reason: "not-a-decision-point" }), msgID)!;
    if (!r.ok) refused.push(`ev-${i}: ${r.error.message}`);
  }
  const si = await (await jetstreamManager(nc)).streams.info(`KV_${cfg.kv.answersBucket}`);
  expect({ refused: refused.length, firstRefused: refused[0], discard: si.config.discard }).toEqual({ refused: 0, firstRefused: undefined, discard: DiscardPolicy.Old });
  pub.close();
});

it("an answers bucket made before (discard new) is left as it is, and provisioning says so with the fix", async () => {
  const base = loadConfig({ env: {} });
  const cfg = { ...base, kv: { ...base.kv, answersBucket: "OLD_ANSWERS" } };
  await new Kvm(nc).create("OLD_ANSWERS", { history: 1 });
  const lines: string[] = [];
  const r = await provision(nc, cfg, createLogger("warn", "test", { write: (s: string) => void lines.push(s) }));
  expect(r.differs).toContainEqual({ name: "KV_OLD_ANSWERS", fields: ["discard"] });
  expect(lines.some((l) => l.includes("nats stream edit KV_OLD_ANSWERS --discard old"))).toBe(true);
  expect((await (await jetstreamManager(nc)).streams.info("KV_OLD_ANSWERS")).config.discard).toBe(DiscardPolicy.New);
});
