// The partition count is part of the data's layout: an event goes to `events.<type>.<k>` with k its
// customer's hash modulo the count, and each partition's checkpoint holds its own customers. Parts
// started with different counts (PARTITIONS set on the processors and not on the server, say) fail
// nowhere: events go to partitions no instance reads and stay in the stream undecided, or a customer's
// events reach a partition whose checkpoint does not hold it. So the first partitioned processor records
// the count in the lease bucket, and every part that routes events or takes partitions compares its own
// with it at start (a configuration error naming the key and the fix).
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { ConfigError, PS_ERR_CONFIG } from "../../config/index.ts";

/** The lease bucket's key holding the partition count the partitioned processors run with. */
export const PARTITIONS_KEY = "partitions";

/**
 * Compares `partitions` with the count recorded in the lease bucket `bucket`; with `record` (a
 * partitioned processor) records it when none is. Throws a ConfigError on a mismatch.
 */
export async function checkPartitionCount(nc: NatsConnection, bucket: string, partitions: number, record: boolean): Promise<void> {
  const kv = await new Kvm(nc).open(bucket);
  const json = () => new TextEncoder().encode(JSON.stringify({ partitions }));
  let recorded = await readCount(kv);
  if (recorded === undefined && record) {
    try {
      await kv.create(PARTITIONS_KEY, json());
      return;
    } catch {
      // Another instance recorded it first (or the write failed): what is there now decides.
      recorded = await readCount(kv);
    }
  }
  if (recorded === undefined || recorded === partitions) return;
  throw new ConfigError(PS_ERR_CONFIG.Invalid, [
    {
      key: "partitions",
      env: "PARTITIONS",
      problem: `is ${partitions}, but the partitioned processors on this NATS run ${recorded} (KV bucket ${bucket}, key '${PARTITIONS_KEY}'): events would be routed to partitions no processor reads, or away from the checkpoint holding their customer`,
      fix: `set PARTITIONS=${recorded} for every part (processors, server, simulator); a new count needs new streams and state, or, if no partitioned processor runs on this NATS any more, remove the record: nats kv del ${bucket} ${PARTITIONS_KEY}`,
    },
  ]);
}

async function readCount(kv: KV): Promise<number | undefined> {
  const e = await kv.get(PARTITIONS_KEY);
  if (!e || e.operation !== "PUT") return undefined;
  const n = (e.json() as { partitions?: unknown }).partitions;
  return typeof n === "number" && Number.isInteger(n) && n > 0 ? n : undefined;
}
