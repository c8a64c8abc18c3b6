// storedIdsSince and storedAtFrom against a real JetStream: the ids from a point in time on, none when
// nothing came since, a bound on how many are kept, and the store time of the first message from a
// sequence on (also when that sequence was deleted).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager, StorageType } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamServer, type NatsServerHandle } from "../../../test/support/nats-server.ts";
import { PipelinedPublisher } from "./publisher.ts";
import { storedAtFrom, storedIdsSince } from "./stored-ids.ts";

let server: NatsServerHandle;
let nc: NatsConnection;
const enc = new TextEncoder();
/** Server time between the two halves of S's messages. */
let between: number;

async function publish(ids: string[]): Promise<void> {
  const pub = new PipelinedPublisher(nc, 100);
  for (const id of ids) await pub.publish(`s.${id.length % 2}`, enc.encode(`payload of ${id}`), id);
  expect(await pub.flush()).toBe(true);
}

beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "S", subjects: ["s.>"], storage: StorageType.File });
  await jsm.streams.add({ name: "EMPTY", subjects: ["empty.>"], storage: StorageType.File });
  await publish(Array.from({ length: 50 }, (_, i) => `early-${i}`));
  const lastEarly = (await jsm.streams.getMessage("S", { seq: 50 }))!.time.getTime();
  // The server stamps messages with its own clock: wait until the next ones are surely later.
  await new Promise((r) => setTimeout(r, 50));
  between = lastEarly + 25;
  await publish(Array.from({ length: 30 }, (_, i) => `late-${i}`));
  // A message without a msg id is read and not kept.
  await nc.request("s.x", enc.encode("no id"));
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

describe("storedIdsSince", () => {
  it("gives the msg ids stored from a time on, and no earlier ones", async () => {
    const r = await storedIdsSince(nc, "S", between, { max: 1000 });
    expect([...r.ids].sort()).toEqual(Array.from({ length: 30 }, (_, i) => `late-${i}`).sort());
    expect(r.read).toBe(31);
    expect(r.truncated).toBe(false);
  });

  it("gives none when nothing was stored since, or the stream is empty", async () => {
    expect((await storedIdsSince(nc, "S", Date.now() + 60_000, { max: 1000 })).ids.size).toBe(0);
    expect((await storedIdsSince(nc, "EMPTY", 0, { max: 1000 })).ids.size).toBe(0);
  });

  it("keeps at most `max` ids, the earliest, and says the rest were left out", async () => {
    const r = await storedIdsSince(nc, "S", 0, { max: 20 });
    expect([...r.ids]).toEqual(Array.from({ length: 20 }, (_, i) => `early-${i}`));
    expect(r.truncated).toBe(true);
  });

  it("leaves no consumer behind", async () => {
    const jsm = await jetstreamManager(nc);
    await storedIdsSince(nc, "S", between, { max: 1000 });
    expect((await jsm.streams.info("S")).state.consumer_count).toBe(0);
  });
});

describe("storedAtFrom", () => {
  it("gives the store time of the first message from a sequence on, skipping a deleted one", async () => {
    const jsm = await jetstreamManager(nc);
    const at51 = (await jsm.streams.getMessage("S", { seq: 51 }))!.time.getTime();
    expect(await storedAtFrom(nc, "S", 51)).toBe(at51);
    await jsm.streams.deleteMessage("S", 51);
    const at52 = (await jsm.streams.getMessage("S", { seq: 52 }))!.time.getTime();
    expect(await storedAtFrom(nc, "S", 51)).toBe(at52);
    expect(await storedAtFrom(nc, "S", 1_000)).toBeUndefined();
    expect((await jsm.streams.info("S")).state.consumer_count).toBe(0);
  });
});
