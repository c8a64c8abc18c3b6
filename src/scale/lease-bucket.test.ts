// The lease bucket deleted under an instance and made again, on a real nats-server: it must hold the
// partition count again (src/io/nats/partition-count.ts), or a part started later with another count is
// let in. Made again by the lease rounds: the bucket is deleted before the instance's lease rounds
// start, so nothing writes into it while its stream goes (a stream deleted under a running instance's
// writes is what made e766890's test fail on nats-server 2.9.10: reverted by 42b90f8). Made again by
// another part's provisioning while the rounds run: what the rounds see then, a bucket with none of its
// keys, is made by purging its stream (which running writes survive).
import { afterAll, beforeAll, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamServer, type NatsServerHandle } from "../../test/support/nats-server.ts";
import { testConfig, waitFor } from "../../test/support/system.ts";
import { ConfigError } from "../config/index.ts";
import { checkPartitionCount, PARTITIONS_KEY } from "../io/nats/index.ts";
import { createLogger } from "../log/index.ts";
import { leaseBucketKeeper } from "./lease-bucket.ts";
import { LeaseManager } from "./leases.ts";

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

/**
 * A lease bucket as a partitioned processor's start leaves it (the bucket, with the count of 2 it runs
 * with), and whether a part started with 4 partitions would be refused against it.
 */
async function bucketWithCount(name: string) {
  const cfg = testConfig(server.url, { partitions: 2, kv: { leaseBucket: name } });
  const bucket = cfg.kv.leaseBucket;
  const kv = await new Kvm(nc).create(bucket, { history: 1 });
  await checkPartitionCount(nc, bucket, cfg.partitions, true);
  const refused = () => checkPartitionCount(nc, bucket, 4, false).then(() => false, (e: unknown) => e instanceof ConfigError);
  return { cfg, bucket, kv, refused };
}

it("records the partition count again in a lease bucket the lease rounds made again", { timeout: 30_000 }, async () => {
  const { cfg, bucket, kv, refused } = await bucketWithCount("LEASES_REMADE");
  expect(await refused()).toBe(true);
  // An operator's `nats kv rm`.
  await (await jetstreamManager(nc)).streams.delete(`KV_${bucket}`);
  const lines: string[] = [];
  const m = new LeaseManager(kv, "A", cfg.partitions, 3_000, { acquired: async () => undefined, released: async () => undefined }, createLogger("info", "test", { write: (l: string) => void lines.push(l) }), leaseBucketKeeper(nc, cfg, createLogger("silent")));
  try {
    // The first round fails on the bucket gone; the bucket is made again, and the next round takes the leases in it.
    await m.start();
    expect(lines.some((l) => l.includes("the lease bucket was gone: made it again"))).toBe(true);
    await waitFor("the leases in the bucket made again", () => m.ownedPartitions().length === cfg.partitions, 10_000, 50);
    expect((await (await new Kvm(nc).open(bucket)).get(PARTITIONS_KEY))?.json()).toEqual({ partitions: 2 });
    expect(await refused()).toBe(true);
  } finally {
    await m.stop();
  }
});

it("records the partition count again when the running lease rounds find the bucket emptied (made again by another part)", { timeout: 30_000 }, async () => {
  const { cfg, bucket, kv, refused } = await bucketWithCount("LEASES_EMPTIED");
  const m = new LeaseManager(kv, "A", cfg.partitions, 3_000, { acquired: async () => undefined, released: async () => undefined }, createLogger("silent"), leaseBucketKeeper(nc, cfg, createLogger("silent")));
  try {
    await m.start();
    await waitFor("the leases", () => m.ownedPartitions().length === cfg.partitions, 10_000, 50);
    // A bucket made again by a server or simulator's provisioning holds no key: no round fails on it.
    // (Not read back here: a round may record the count again before the read.)
    expect((await (await jetstreamManager(nc)).streams.purge(`KV_${bucket}`)).purged).toBeGreaterThanOrEqual(3);
    // The next rounds find their leases gone, write them again, and record the count.
    await waitFor("the partition count recorded again", async () => (await (await new Kvm(nc).open(bucket)).get(PARTITIONS_KEY))?.operation === "PUT", 10_000, 100);
    expect((await (await new Kvm(nc).open(bucket)).get(PARTITIONS_KEY))?.json()).toEqual({ partitions: 2 });
    expect(await refused()).toBe(true);
    expect(m.ownedPartitions()).toEqual([0, 1]);
  } finally {
    await m.stop();
  }
});
