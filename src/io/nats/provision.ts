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
  /** Existing streams (KV buckets too) whose limits differ from config: left as they are (never shrunk, never deleted). */
  differs: { name: string; fields: string[] }[];
  /** Each stream's message limit and duplicate window as the stream has them (a stream kept from before may have others than config's). */
  limits: Record<string, { maxMsgBytes: number; duplicateWindowSec: number }>;
}

/**
 * Config with the streams' message limits and duplicate windows lowered to what the streams keep, where
 * they keep less (provisioning never changes an existing stream). The processor fits its decisions and
 * sync events to the message limit and judges from the window whether a restart must look for what it
 * already stored: from config's, a stream kept at a smaller limit refused every decision over it, and the
 * processor retried it for ever (test/integration/stream-kept-limits.test.ts).
 */
export function withStreamLimits(cfg: Readonly<Config>, r: ProvisionReport): Readonly<Config> {
  const keys = ["events", "decisions", "outcomes", "deadletter"] as const;
  let streams: Config["streams"] | undefined;
  for (const k of keys) {
    const want = cfg.streams[k];
    const have = r.limits[want.name];
    if (!have) continue;
    const maxMsgBytes = have.maxMsgBytes > 0 ? Math.min(want.maxMsgBytes, have.maxMsgBytes) : want.maxMsgBytes;
    const duplicateWindowSec = have.duplicateWindowSec > 0 ? Math.min(want.duplicateWindowSec, have.duplicateWindowSec) : want.duplicateWindowSec;
    if (maxMsgBytes === want.maxMsgBytes && duplicateWindowSec === want.duplicateWindowSec) continue;
    streams ??= { ...cfg.streams };
    streams[k] = { ...want, maxMsgBytes, duplicateWindowSec };
  }
  return streams ? Object.freeze({ ...cfg, streams: Object.freeze(streams) }) : cfg;
}

const COMPARED = ["max_age", "max_bytes", "max_msg_size", "duplicate_window", "num_replicas"] as const;
type Compared = (typeof COMPARED)[number];

/** One limit an existing stream keeps although config asks for another: what the warning names. */
interface Kept {
  stream: string;
  field: Compared;
  /** The config key that asked for it. */
  key: string;
  have: number;
  want: number;
}

/** Seconds for the duration fields (nanoseconds on the wire), as config writes them. */
const shown = (field: Compared, v: number) => (field === "max_age" || field === "duplicate_window" ? `${v / 1e9} s` : String(v));

/** The differing compared fields of an existing stream, each with the config key that set it. */
function keptLimits(stream: string, have: Partial<StreamConfig>, want: Partial<StreamConfig>, keys: Partial<Record<Compared, string>>): Kept[] {
  const kept: Kept[] = [];
  for (const f of COMPARED) {
    const key = keys[f];
    if (key === undefined || want[f] === undefined || Number(want[f]) === Number(have[f])) continue;
    kept.push({ stream, field: f, key, have: Number(have[f]), want: Number(want[f]) });
  }
  return kept;
}

async function ensureStream(jsm: JetStreamManager, want: Partial<StreamConfig> & { name: string }, r: ProvisionReport, keys: Record<Compared, string>, kept: Kept[]): Promise<void> {
  let info;
  try {
    info = await jsm.streams.info(want.name);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  if (!info) {
    await jsm.streams.add(want);
    r.created.push(want.name);
    r.limits[want.name] = { maxMsgBytes: Number(want.max_msg_size ?? -1), duplicateWindowSec: Number(want.duplicate_window ?? 0) / 1e9 };
    return;
  }
  r.existing.push(want.name);
  const have = info.config;
  r.limits[want.name] = { maxMsgBytes: Number(have.max_msg_size ?? -1), duplicateWindowSec: Number(have.duplicate_window ?? 0) / 1e9 };
  const missing = (want.subjects ?? []).filter((s) => !have.subjects?.includes(s));
  if (missing.length)
    throw new NatsError(
      PS_ERR_NATS.Provision,
      `stream ${want.name} exists but does not capture ${missing.join(", ")} (it has ${have.subjects?.join(", ")}); fix: change nats.subjectPrefix or the stream names in config, or add the subjects to the stream by hand`,
    );
  const k = keptLimits(want.name, have, want, keys);
  if (k.length) {
    r.differs.push({ name: want.name, fields: k.map((x) => x.field) });
    kept.push(...k);
  }
}

/** Creates the streams and KV buckets when missing. Idempotent: never updates or deletes what exists, and warns of each limit an existing one keeps against config. */
export async function provision(nc: NatsConnection, cfg: Config, log: Logger): Promise<ProvisionReport> {
  const jsm = await jetstreamManager(nc);
  const r: ProvisionReport = { created: [], existing: [], differs: [], limits: {} };
  const kept: Kept[] = [];
  // The config key whose replicas the stream or bucket being created takes (the buckets take the events
  // stream's), for an error that names it.
  let replicasKey = "streams.events.replicas";
  try {
    const keys = ["events", "decisions", "outcomes", "deadletter"] as const;
    for (const [i, sc] of streamConfigs(cfg).entries()) {
      const p = `streams.${keys[i]!}`;
      replicasKey = `${p}.replicas`;
      await ensureStream(jsm, sc, r, { max_age: `${p}.maxAgeSec`, max_bytes: `${p}.maxBytes`, max_msg_size: `${p}.maxMsgBytes`, duplicate_window: `${p}.duplicateWindowSec`, num_replicas: replicasKey }, kept);
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
        // A bucket is a stream: one made under another config keeps its replicas (and the answers their
        // age and size bounds) as the streams do, and is reported the same way. Before, only the streams
        // were compared: PS_STATE stayed on 1 replica with no word after a move to streams.*.replicas 3,
        // and a raised decide.answerTtlSec went on dropping answers at the old age.
        const isAnswers = bucket === cfg.kv.answersBucket;
        const k = keptLimits(
          name,
          si.config,
          { num_replicas: cfg.streams.events.replicas, ...(isAnswers ? { max_age: nanos(cfg.decide.answerTtlSec * 1000), max_bytes: cfg.decide.answersMaxBytes } : {}) },
          { num_replicas: "streams.events.replicas", ...(isAnswers ? { max_age: "decide.answerTtlSec", max_bytes: "decide.answersMaxBytes" } : {}) },
        );
        if (k.length) {
          r.differs.push({ name, fields: k.map((x) => x.field) });
          kept.push(...k);
        }
        // One made before the answers dropped their oldest (or by hand) is left as it is, and said so.
        if (isAnswers && si.config.discard !== DiscardPolicy.Old) {
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
  // One line per limit, naming the key, both values and both ways out: the line said only "fields" before,
  // and the operator had to work out which config key and which value the stream kept.
  for (const k of kept)
    log.warn(
      { stream: k.stream, field: k.field, key: k.key, stream_value: k.have, config_value: k.want },
      `stream ${k.stream} keeps ${k.field} ${shown(k.field, k.have)} from its creation, not ${k.key}'s ${shown(k.field, k.want)}: provisioning never changes an existing stream; fix: set ${k.key} to the stream's value, or change the stream with the nats CLI (nats stream edit ${k.stream})`,
    );
  log.info({ created: r.created, existing: r.existing }, "JetStream provisioned");
  return r;
}
