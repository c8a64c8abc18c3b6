import { DiscardPolicy, JetStreamApiError, jetstreamManager, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { nanos, type NatsConnection } from "@nats-io/transport-node";
import type { Config } from "../../config/index.ts";
import type { Logger } from "../../log/index.ts";
import { Subjects } from "../../events/index.ts";
import { isNotFound, NatsError, PS_ERR_NATS } from "./errors.ts";

type Limits = Config["streams"]["events"];

/** JetStream's API error "replicas > 1 not supported in non-clustered mode". */
const REPLICAS_NOT_CLUSTERED = 10074;

export function streamConfig(l: Limits, subjects: string[]): Partial<StreamConfig> & { name: string } {
  return {
    name: l.name,
    subjects,
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(l.maxAgeSec * 1000),
    max_bytes: l.maxBytes,
    max_msg_size: l.maxMsgBytes,
    duplicate_window: nanos(l.duplicateWindowSec * 1000),
    num_replicas: l.replicas,
  };
}

export function streamConfigs(cfg: Config): (Partial<StreamConfig> & { name: string })[] {
  const s = new Subjects(cfg.nats.subjectPrefix);
  return [
    streamConfig(cfg.streams.events, [s.eventsAll]),
    streamConfig(cfg.streams.decisions, [s.decisionsAll]),
    streamConfig(cfg.streams.outcomes, [s.outcomesAll]),
    streamConfig(cfg.streams.deadletter, [s.deadletter]),
  ];
}

export interface ProvisionReport {
  created: string[];
  existing: string[];
  /** Existing streams whose limits differ from config: left as they are (never shrunk, never deleted). */
  differs: { name: string; fields: string[] }[];
}

const COMPARED = ["max_age", "max_bytes", "max_msg_size", "duplicate_window", "num_replicas"] as const;

async function ensureStream(jsm: JetStreamManager, want: Partial<StreamConfig> & { name: string }, r: ProvisionReport): Promise<void> {
  let info;
  try {
    info = await jsm.streams.info(want.name);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  if (!info) {
    await jsm.streams.add(want);
    r.created.push(want.name);
    return;
  }
  r.existing.push(want.name);
  const have = info.config;
  const missing = (want.subjects ?? []).filter((s) => !have.subjects?.includes(s));
  if (missing.length)
    throw new NatsError(
      PS_ERR_NATS.Provision,
      `stream ${want.name} exists but does not capture ${missing.join(", ")} (it has ${have.subjects?.join(", ")}); fix: change nats.subjectPrefix or the stream names in config, or add the subjects to the stream by hand`,
    );
  const fields = COMPARED.filter((f) => want[f] !== undefined && Number(want[f]) !== Number(have[f]));
  if (fields.length) r.differs.push({ name: want.name, fields });
}

/** Creates the streams and KV buckets when missing. Idempotent: never updates or deletes what exists. */
export async function provision(nc: NatsConnection, cfg: Config, log: Logger): Promise<ProvisionReport> {
  const jsm = await jetstreamManager(nc);
  const r: ProvisionReport = { created: [], existing: [], differs: [] };
  // The config key whose replicas the stream or bucket being created takes (the buckets take the events
  // stream's), for an error that names it.
  let replicasKey = "streams.events.replicas";
  try {
    const keys = ["events", "decisions", "outcomes", "deadletter"] as const;
    for (const [i, sc] of streamConfigs(cfg).entries()) {
      replicasKey = `streams.${keys[i]!}.replicas`;
      await ensureStream(jsm, sc, r);
    }
    replicasKey = "streams.events.replicas";
    const kvm = new Kvm(nc);
    // Answers to decide requests (issue 22) are kept for a retry under the same event id, then dropped:
    // their own age and size bounds.
    const limits = (bucket: string) =>
      bucket === cfg.kv.answersBucket ? { ttl: cfg.decide.answerTtlSec * 1000, max_bytes: cfg.decide.answersMaxBytes } : {};
    for (const bucket of [cfg.kv.stateBucket, cfg.kv.inventoryBucket, cfg.kv.leaseBucket, cfg.kv.answersBucket]) {
      const name = `KV_${bucket}`;
      let exists = true;
      try {
        const si = await jsm.streams.info(name);
        // One made before the answers dropped their oldest (or by hand) is left as it is, and said so.
        if (bucket === cfg.kv.answersBucket && si.config.discard !== DiscardPolicy.Old) {
          r.differs.push({ name, fields: ["discard"] });
          log.warn({ stream: name }, `the decide answers bucket refuses new answers when full (discard new), which holds every event's acknowledgement until old answers expire; fix: nats stream edit ${name} --discard old`);
        }
      } catch (err) {
        if (!isNotFound(err)) throw err;
        exists = false;
      }
      if (exists) r.existing.push(name);
      else {
        await kvm.create(bucket, { history: 1, replicas: cfg.streams.events.replicas, storage: StorageType.File, ...limits(bucket) });
        // nats.js makes a bucket with discard "new": at max_bytes the server refuses every new answer
        // (10077), and the processor acknowledges nothing until one is stored. The oldest answers go first.
        if (bucket === cfg.kv.answersBucket) {
          const si = await jsm.streams.info(name);
          if (si.config.discard !== DiscardPolicy.Old) await jsm.streams.update(name, { ...si.config, discard: DiscardPolicy.Old });
        }
        r.created.push(name);
      }
    }
  } catch (err) {
    if (err instanceof NatsError) throw err;
    if (err instanceof JetStreamApiError && err.code === REPLICAS_NOT_CLUSTERED)
      throw new NatsError(
        PS_ERR_NATS.Provision,
        `provisioning JetStream failed: ${replicasKey} is more than 1 but the server is not part of a cluster (${err.message}); fix: set ${replicasKey} to 1, or run a NATS cluster (config/nats/cluster.conf)`,
        { cause: err },
      );
    throw new NatsError(PS_ERR_NATS.Provision, `provisioning JetStream failed: ${(err as Error).message}; fix: check that the server runs with JetStream enabled (-js)`, { cause: err });
  }
  for (const d of r.differs)
    log.warn({ stream: d.name, fields: d.fields }, "stream exists with other limits than config; left unchanged (edit it with the nats CLI if intended)");
  log.info({ created: r.created, existing: r.existing }, "JetStream provisioned");
  return r;
}
