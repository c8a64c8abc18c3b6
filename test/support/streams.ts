import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { encodeEvent, Subjects, type Routed, type ShopEvent } from "../../src/events/index.ts";
import { PipelinedPublisher, readOrdered } from "../../src/io/nats/index.ts";

export interface StoredMsg {
  seq: number;
  subject: string;
  data: Uint8Array;
  msgId: string | undefined;
}

/**
 * Every message currently in a stream, in order (an ordered consumer, read to the last sequence).
 * Throws when the read ends before the last sequence or stalls for `stallMs` (an ordered consumer can
 * give up while a cluster elects a stream's leader): a partial read must never pass for the stream.
 */
export async function readStream(nc: NatsConnection, stream: string, stallMs = 15_000): Promise<StoredMsg[]> {
  const jsm = await jetstreamManager(nc);
  const last = (await jsm.streams.info(stream)).state.last_seq;
  const out: StoredMsg[] = [];
  if (last === 0) return out;
  const c = await jetstream(nc).consumers.get(stream);
  const { stalled, upTo } = await readOrdered(c, stallMs, (m) => {
    out.push({ seq: m.seq, subject: m.subject, data: m.data, msgId: m.headers?.get("Nats-Msg-Id") || undefined });
    return m.seq < last;
  });
  if (upTo < last) throw new Error(`reading ${stream} ended at sequence ${upTo} of ${last}${stalled ? ` (nothing for ${stallMs} ms)` : ""}`);
  return out;
}

/** Publishes events the way the simulator does (subject by type and partition, msg id = event id). */
export async function publishEvents(nc: NatsConnection, events: readonly ShopEvent[], partitions = 8, prefix = ""): Promise<void> {
  const s = new Subjects(prefix);
  await publishRouted(
    nc,
    events.map((event) => ({ subject: s.forEvent(event, partitions), event })),
  );
}

/** Publishes events on the subjects given, in order, msg id = event id (promotion changes: Subjects.promotionChange). */
export async function publishRouted(nc: NatsConnection, items: readonly Routed[]): Promise<void> {
  const pub = new PipelinedPublisher(nc, 2000);
  for (const { subject, event } of items) await pub.publish(subject, encodeEvent(event), event.id);
  if (!(await pub.flush())) throw new Error(`publishing events failed: ${pub.lastError?.message}`);
}
