// The lease bucket made again after it was deleted under running instances (an operator's
// `nats kv rm PS_LEASES`; LeaseManager.recover finds it gone). The bucket also holds the partition
// count the partitioned processors run with (src/io/nats/partition-count.ts), which every part that
// routes events or takes partitions is checked against at start. Made again empty, it held no count,
// and a server, simulator or processor started later with another PARTITIONS was let in, routing
// events to partitions no processor reads. So it is made as provisioning makes it and the count is
// recorded in it, as a partitioned processor's start records it in a bucket made fresh.
import { StorageType } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { ConfigError, type Config } from "../config/index.ts";
import { checkPartitionCount } from "../io/nats/index.ts";
import type { Logger } from "../log/index.ts";

/** What LeaseManager calls to make the lease bucket again: the bucket, with this instance's partition count in it. */
export function leaseBucketMaker(nc: NatsConnection, cfg: Pick<Config, "kv" | "streams" | "partitions">, log: Logger): () => Promise<KV> {
  const bucket = cfg.kv.leaseBucket;
  return async () => {
    // As provisioning makes it (src/io/nats/provision.ts).
    const kv = await new Kvm(nc).create(bucket, { history: 1, replicas: cfg.streams.events.replicas, storage: StorageType.File });
    // A count that differs is another instance's, recorded first in the bucket it made again: the
    // instances disagree, which nothing here can settle. A failed write leaves the bucket without a
    // count, as before; the bucket itself is made, and the leases go on.
    await checkPartitionCount(nc, bucket, cfg.partitions, true).catch((err: Error) =>
      err instanceof ConfigError
        ? log.error({ bucket, partitions: cfg.partitions, err: err.message }, "the lease bucket made again holds another partition count")
        : log.warn({ bucket, err: err.message }, "the partition count was not recorded again in the lease bucket made again: parts started with another count are not refused"),
    );
    return kv;
  };
}
