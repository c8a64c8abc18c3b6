// The partition count recorded by the first partitioned processor, on a real JetStream KV: a part with
// another count is refused with a configuration error naming the key and the fix.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kvm, type KV } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamServer, type NatsServerHandle } from "../../../test/support/nats-server.ts";
import { ConfigError } from "../../config/index.ts";
import { checkPartitionCount, PARTITIONS_KEY } from "./partition-count.ts";

let server: NatsServerHandle;
let nc: NatsConnection;
let n = 0;
/** A fresh lease bucket: its name, and the bucket to look into. */
const bucket = async (): Promise<{ name: string; kv: KV }> => {
  const name = `LEASES_${n++}`;
  return { name, kv: await new Kvm(nc).create(name, { history: 1 }) };
};

beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

describe("checkPartitionCount", () => {
  it("records the count once (a partitioned processor), accepts the same count and refuses another naming the key and the fix", async () => {
    const { name, kv } = await bucket();
    await checkPartitionCount(nc, name, 4, true);
    expect((await kv.get(PARTITIONS_KEY))!.json()).toEqual({ partitions: 4 });
    await checkPartitionCount(nc, name, 4, true);
    await checkPartitionCount(nc, name, 4, false);
    for (const record of [true, false]) {
      const err = await checkPartitionCount(nc, name, 8, record).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/partitions \(env PARTITIONS\): is 8, but the partitioned processors on this NATS run 4/);
      expect((err as Error).message).toMatch(new RegExp(`fix: set PARTITIONS=4 .*nats kv del ${name} partitions`));
    }
    // A refused part wrote nothing.
    expect((await kv.get(PARTITIONS_KEY))!.json()).toEqual({ partitions: 4 });
  });

  it("a part that only routes events records nothing and accepts any count while no partitioned processor has run", async () => {
    const { name, kv } = await bucket();
    await checkPartitionCount(nc, name, 8, false);
    expect(await kv.get(PARTITIONS_KEY)).toBeNull();
  });

  it("two processors starting together with different counts: one records, the other is refused", async () => {
    const { name, kv } = await bucket();
    const results = await Promise.allSettled([checkPartitionCount(nc, name, 4, true), checkPartitionCount(nc, name, 6, true)]);
    const recorded = (await kv.get(PARTITIONS_KEY))!.json<{ partitions: number }>().partitions;
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(ConfigError);
    expect(String(refused.reason.message)).toContain(`run ${recorded}`);
  });
});
