// The lease bucket made again after it was deleted under running instances (an operator's
// `nats kv rm PS_LEASES`; LeaseManager.recover finds it gone). The bucket also holds the partition
// count the partitioned processors run with (src/io/nats/partition-count.ts), which every part that
// routes events or takes partitions is checked against at start. Made again empty, it held no count,
// and a part started later with another PARTITIONS was let in: its events went to partitions no
// processor reads. So it is made as provisioning makes it and the count is recorded in it, as a
// partitioned processor's start records it in a bucket made fresh. A bucket made again by another
// part's provisioning (a server or simulator starting meanwhile) is no failure for the lease rounds:
// they find their leases gone from it, and record the count again then (recordCount).
import { StorageType } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { ConfigError, type Config } from "../config/index.ts";
import { checkPartitionCount } from "../io/nats/index.ts";
import type { Logger } from "../log/index.ts";

/** What LeaseManager calls when its bucket is gone, or was emptied (see the file's head). */
export interface LeaseBucketKeeper {
  /** Makes the bucket again, with this instance's partition count in it. */
  remake(): Promise<KV>;
  /** Records this instance's partition count in the bucket when none is (never throws: logs). */
  recordCount(): Promise<void>;
}

export function leaseBucketKeeper(nc: NatsConnection, cfg: Pick<Config, "kv" | "streams" | "partitions">, log: Logger): LeaseBucketKeeper {
  const bucket = cfg.kv.leaseBucket;
  // A count that differs is another instance's, recorded first in the bucket made again: the instances
  // disagree, which nothing here can settle. A failed write leaves the bucket without a count, as
  // before; the leases go on.
  const recordCount = () =>
    checkPartitionCount(nc, bucket, cfg.partitions, true).catch((err: Error) =>
      err instanceof ConfigError
        ? log.error({ bucket, partitions: cfg.partitions, err: err.message }, "the lease bucket made again holds another partition count")
        : log.warn({ bucket, err: err.message }, "the partition count was not recorded again in the lease bucket made again: parts started with another count are not refused"),
    );
  return {
    async remake() {
      // As provisioning makes it (src/io/nats/provision.ts).
      const kv = await new Kvm(nc).create(bucket, { history: 1, replicas: cfg.streams.events.replicas, storage: StorageType.File });
      await recordCount();
      return kv;
    },
    recordCount,
  };
}
