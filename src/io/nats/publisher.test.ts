// PipelinedPublisher against a real JetStream: the window bound, acks, duplicates by msg id, failures
// reported as false (never thrown), and timeouts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager, StorageType } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamServer, type NatsServerHandle } from "../../../test/support/nats-server.ts";
import { PipelinedPublisher } from "./publisher.ts";

let server: NatsServerHandle;
let nc: NatsConnection;
const enc = new TextEncoder();

beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "T", subjects: ["t.>"], storage: StorageType.File });
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

describe("PipelinedPublisher", () => {
  it("keeps at most maxInFlight publishes awaiting their ack, and stores them all", async () => {
    const pub = new PipelinedPublisher(nc, 3);
    const first = [0, 1, 2].map((i) => pub.tryPublish("t.a", enc.encode(`m${i}`), `a-${i}`));
    expect(first.every((p) => p !== undefined)).toBe(true);
    expect(pub.pending).toBe(3);
    expect(pub.tryPublish("t.a", enc.encode("m3"), "a-3")).toBeUndefined();
    await pub.room();
    expect(pub.pending).toBeLessThan(3);
    const rest = [];
    for (let i = 3; i < 20; i++) rest.push((await pub.publish("t.a", enc.encode(`m${i}`), `a-${i}`)).acked);
    expect(await Promise.all([...first, ...rest])).toEqual(new Array(20).fill(true));
    expect(await pub.flush()).toBe(true);
    expect(pub.published).toBe(20);
    const si = await (await jetstreamManager(nc)).streams.info("T");
    expect(si.state.messages).toBe(20);
  });

  it("counts a repeated msg id as a duplicate, stored once", async () => {
    const pub = new PipelinedPublisher(nc, 10);
    const a = pub.tryPublish("t.b", enc.encode("x"), "dup-1");
    const b = pub.tryPublish("t.b", enc.encode("x"), "dup-1", { "Ps-Reason": "test" });
    expect([await a, await b]).toEqual([true, true]);
    expect(pub.duplicates).toBe(1);
    const m = await (await jetstreamManager(nc)).streams.getMessage("T", { last_by_subj: "t.b" });
    expect(m?.header?.get("Nats-Msg-Id")).toBe("dup-1");
  });

  it("reports a publish no stream takes as failed, without throwing", async () => {
    const pub = new PipelinedPublisher(nc, 10);
    const ok = pub.tryPublish("nowhere.x", enc.encode("x"), "n-1");
    expect(await ok).toBe(false);
    expect(pub.failures).toBe(1);
    expect(pub.lastError?.message).toMatch(/no responders/);
    expect(await pub.flush()).toBe(true); // nothing failed during this flush
  });

  it("fails a publish whose ack does not come within the timeout", async () => {
    // A subscriber that takes the message and never answers stands in for a lost ack.
    const silent = nc.subscribe("silent.x", { callback: () => undefined });
    const pub = new PipelinedPublisher(nc, 10, 300);
    const t0 = Date.now();
    const ok = await pub.tryPublish("silent.x", enc.encode("x"), "s-1");
    expect(ok).toBe(false);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(pub.lastError?.message).toMatch(/no publish ack within 300 ms/);
    silent.unsubscribe();
  });
});
