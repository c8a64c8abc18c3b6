// Provisioning against a real nats-server: it creates what is missing and nothing else, so a store
// from before OUTCOMES existed gains that stream on the next start and keeps everything it had.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { connect, nanos, type NatsConnection } from "@nats-io/transport-node";
import { loadConfig } from "../../config/index.ts";
import { createLogger } from "../../log/index.ts";
import { jetstreamServer, type NatsServerHandle } from "../../../test/support/nats-server.ts";
import { NatsError, PS_ERR_NATS, provision, streamConfigs } from "./index.ts";

const cfg = loadConfig({ env: {} });
const log = createLogger("silent");
let server: NatsServerHandle;
let nc: NatsConnection;
let jsm: JetStreamManager;

beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
  jsm = await jetstreamManager(nc);
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

describe("provision", () => {
  it("configures OUTCOMES like the other streams, from streams.outcomes", () => {
    const outcomes = streamConfigs(cfg).find((s) => s.name === "OUTCOMES")!;
    expect(outcomes).toMatchObject({
      subjects: ["outcomes.>"],
      max_age: nanos(cfg.streams.outcomes.maxAgeSec * 1000),
      max_bytes: cfg.streams.outcomes.maxBytes,
      max_msg_size: cfg.streams.outcomes.maxMsgBytes,
      duplicate_window: nanos(cfg.streams.outcomes.duplicateWindowSec * 1000),
      num_replicas: 1,
    });
    const prefixed = loadConfig({ env: { SUBJECT_PREFIX: "shop1." } });
    expect(streamConfigs(prefixed).find((s) => s.name === "OUTCOMES")!.subjects).toEqual(["shop1.outcomes.>"]);
  });

  it("creates every stream and bucket on an empty server, and nothing the second time", async () => {
    const first = await provision(nc, cfg, log);
    expect(first.created).toEqual(["EVENTS", "DECISIONS", "OUTCOMES", "DEADLETTER", "KV_PS_STATE", "KV_PS_INVENTORY", "KV_PS_LEASES", "KV_PS_ANSWERS"]);
    const second = await provision(nc, cfg, log);
    expect(second.created).toEqual([]);
    expect(second.existing).toEqual(first.created);
    expect(second.differs).toEqual([]);
  });

  it("adds OUTCOMES to a store from before it, leaving the other streams and their messages alone", async () => {
    await jsm.streams.delete("OUTCOMES");
    await nc.request("decisions.web", new TextEncoder().encode("{}"), { timeout: 5_000 });
    const before = (await jsm.streams.info("DECISIONS")).state.messages;
    const r = await provision(nc, cfg, log);
    expect(r.created).toEqual(["OUTCOMES"]);
    expect((await jsm.streams.info("DECISIONS")).state.messages).toBe(before);
    expect((await jsm.streams.info("OUTCOMES")).config.subjects).toEqual(["outcomes.>"]);
  });

  it("leaves an OUTCOMES with other limits as it is and reports the fields", async () => {
    const other = loadConfig({ env: {}, overrides: { streams: { outcomes: { maxBytes: 1_000_000, duplicateWindowSec: 900 } } } });
    const r = await provision(nc, other, log);
    expect(r.created).toEqual([]);
    expect(r.differs).toEqual([{ name: "OUTCOMES", fields: ["max_bytes", "duplicate_window"] }]);
    expect((await jsm.streams.info("OUTCOMES")).config.max_bytes).toBe(cfg.streams.outcomes.maxBytes);
  });

  it("names the config key, the stream's value and config's in the warning for a stream kept as it is", async () => {
    const lines: string[] = [];
    const other = loadConfig({ env: {}, overrides: { streams: { outcomes: { duplicateWindowSec: 900 } } } });
    await provision(nc, other, createLogger("warn", "test", { write: (l: string) => void lines.push(l) }));
    const w = lines.map((l) => JSON.parse(l) as { msg: string; key: string; stream_value: number; config_value: number });
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({ key: "streams.outcomes.duplicateWindowSec", stream_value: nanos(600_000), config_value: nanos(900_000) });
    expect(w[0]!.msg).toMatch(/^stream OUTCOMES keeps duplicate_window 600 s from its creation, not streams\.outcomes\.duplicateWindowSec's 900 s: .*fix: set streams\.outcomes\.duplicateWindowSec to the stream's value/);
  });

  // A bucket is a stream too: its replicas (all four) and the answers' age and size bounds come from config
  // when it is made, and a later config that asks for others was kept silently (no word at all), where the
  // streams were reported. The warning names the key and both values.
  it("reports buckets that keep other replicas or answer bounds than config, naming the key and both values", async () => {
    const lines: string[] = [];
    const other = loadConfig({ env: {}, overrides: { streams: { events: { replicas: 3 } }, decide: { answerTtlSec: 3600, answersMaxBytes: 1_000_000 } } });
    const r = await provision(nc, other, createLogger("warn", "test", { write: (l: string) => void lines.push(l) }));
    expect(r.created).toEqual([]);
    for (const b of ["KV_PS_STATE", "KV_PS_INVENTORY", "KV_PS_LEASES"]) expect(r.differs).toContainEqual({ name: b, fields: ["num_replicas"] });
    expect(r.differs).toContainEqual({ name: "KV_PS_ANSWERS", fields: ["max_age", "max_bytes", "num_replicas"] });
    // Left as they are.
    const answers = (await jsm.streams.info("KV_PS_ANSWERS")).config;
    expect([answers.max_age, answers.max_bytes, answers.num_replicas]).toEqual([nanos(cfg.decide.answerTtlSec * 1000), cfg.decide.answersMaxBytes, 1]);
    const warned = lines.map((l) => JSON.parse(l) as { msg: string; key?: string });
    expect(warned.find((w) => w.key === "decide.answerTtlSec")?.msg).toBe(
      "stream KV_PS_ANSWERS keeps max_age 600 s from its creation, not decide.answerTtlSec's 3600 s: provisioning never changes an existing stream; fix: set decide.answerTtlSec to the stream's value, or change the stream with the nats CLI (nats stream edit KV_PS_ANSWERS)",
    );
    expect(warned.find((w) => w.key === "streams.events.replicas" && w.msg.startsWith("stream KV_PS_STATE "))?.msg).toMatch(/keeps num_replicas 1 from its creation, not streams\.events\.replicas's 3/);
    // A config that matches again says nothing.
    expect((await provision(nc, cfg, log)).differs).toEqual([]);
  });

  it("refuses an OUTCOMES that does not capture outcomes.>", async () => {
    await jsm.streams.delete("OUTCOMES");
    await jsm.streams.add({ name: "OUTCOMES", subjects: ["other.outcomes.>"] });
    const err = await provision(nc, cfg, log).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NatsError);
    expect((err as NatsError).code).toBe(PS_ERR_NATS.Provision);
    expect((err as NatsError).message).toMatch(/stream OUTCOMES exists but does not capture outcomes\.>/);
  });

  // This server is not clustered: more than one replica is refused by it, and the error names the key
  // to change (it once said to check that JetStream was enabled).
  it("names the replicas key when the server is not clustered, the events stream's for the buckets", async () => {
    const own = (over: { events?: number; decisions?: number }) =>
      loadConfig({
        env: { SUBJECT_PREFIX: "r3." },
        overrides: {
          streams: { events: { name: "R3_EVENTS", replicas: over.events ?? 1 }, decisions: { name: "R3_DECISIONS", replicas: over.decisions ?? 1 }, outcomes: { name: "R3_OUTCOMES" }, deadletter: { name: "R3_DEADLETTER" } },
          kv: { stateBucket: "R3_STATE", inventoryBucket: "R3_INVENTORY", leaseBucket: "R3_LEASES", answersBucket: "R3_ANSWERS" },
        },
      });
    const failure = (c: ReturnType<typeof own>) => provision(nc, c, log).then(() => undefined, (e: unknown) => e as NatsError);
    const streams = await failure(own({ decisions: 3 }));
    expect(streams).toMatchObject({ code: PS_ERR_NATS.Provision, message: expect.stringMatching(/streams\.decisions\.replicas is more than 1 .* fix: set streams\.decisions\.replicas to 1, or run a NATS cluster/) });
    const buckets = await failure(own({ events: 3 }));
    expect(buckets).toMatchObject({ code: PS_ERR_NATS.Provision, message: expect.stringMatching(/fix: set streams\.events\.replicas to 1, or run a NATS cluster/) });
  });
});
