// The msg ids a stream stored since a point in time. A processor restarted after a kill -9 publishes
// again what it had stored but not yet acknowledged; the stream's duplicate window drops those copies
// only while it remembers them (streams.<s>.duplicateWindowSec), so a restart after a longer downtime
// reads the ids itself and skips them (src/processor/processor.ts, restoreAndPosition).
import { DeliverPolicy, jetstream, jetstreamManager, type Consumer, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";

export interface StoredIds {
  ids: Set<string>;
  /** Messages read (some may carry no msg id). */
  read: number;
  /** The read stopped at `max` ids: later ids are not in the set. */
  truncated: boolean;
}

export interface StoredIdsOptions {
  /** Ids kept at most (memory: about 100 bytes each). */
  max: number;
  /** Gives up when nothing arrives for this long (an ordered consumer can stall while a leader is elected). */
  stallMs?: number;
  /** Stops the read (what was read so far is returned): a Ctrl-C of a replay reading a large stream's ids. */
  signal?: AbortSignal;
}

/**
 * The msg ids of the messages `stream` holds from `sinceMs` (server time) to its last message now. Headers
 * only (the payloads are not needed), through an ordered consumer that starts at that time.
 */
export async function storedIdsSince(nc: NatsConnection, stream: string, sinceMs: number, opts: StoredIdsOptions): Promise<StoredIds> {
  const out: StoredIds = { ids: new Set(), read: 0, truncated: false };
  const last = (await (await jetstreamManager(nc)).streams.info(stream)).state.last_seq;
  if (last === 0) return out;
  const c = await jetstream(nc).consumers.get(stream, {
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: new Date(sinceMs).toISOString(),
    headers_only: true,
  });
  // Nothing stored since then: the consumer would deliver nothing, and the read below would wait for it.
  if ((await c.info()).num_pending === 0) {
    await c.delete().catch(() => undefined);
    return out;
  }
  const stallMs = opts.stallMs ?? 15_000;
  try {
    const r = await readOrdered(c, stallMs, (m) => {
      if (opts.signal?.aborted) return false;
      out.read++;
      const id = m.headers?.get("Nats-Msg-Id");
      if (id) out.ids.add(id);
      if (out.ids.size >= opts.max) {
        out.truncated = m.seq < last;
        return false;
      }
      return m.seq < last && m.info.pending > 0;
    });
    if (r.stalled) throw new Error(`reading the msg ids of ${stream} stalled at sequence ${r.upTo} of ${last} (nothing for ${stallMs} ms)`);
  } finally {
    await c.delete().catch(() => undefined);
  }
  return out;
}

/** When the stream stored its first message at or after sequence `seq` (server time, ms); undefined when none is there. */
export async function storedAtFrom(nc: NatsConnection, stream: string, seq: number): Promise<number | undefined> {
  const c = await jetstream(nc).consumers.get(stream, { opt_start_seq: seq, headers_only: true });
  try {
    if ((await c.info()).num_pending === 0) return undefined;
    const m = await c.next({ expires: 5_000 });
    return m ? m.time.getTime() : undefined;
  } finally {
    await c.delete().catch(() => undefined);
  }
}

/**
 * Reads a consumer's messages in order, handing each to `each` until it returns false; gives up when
 * nothing arrives for `stallMs` (an ordered consumer can stall while a stream's leader is elected):
 * then `stalled`, with the last sequence read, for the caller to say so (a partial read must never pass
 * for a whole one).
 */
export async function readOrdered(c: Consumer, stallMs: number, each: (m: JsMsg) => boolean): Promise<{ stalled: boolean; upTo: number }> {
  const it = await c.consume({ max_messages: 1000 });
  let stalled = false;
  let timer: NodeJS.Timeout | undefined;
  const watch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      void it.close();
    }, stallMs);
  };
  watch();
  let upTo = 0;
  try {
    for await (const m of it) {
      upTo = m.seq;
      if (!each(m)) break;
      watch();
    }
  } finally {
    clearTimeout(timer);
    await it.close();
  }
  return { stalled, upTo };
}
