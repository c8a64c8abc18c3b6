// PipelinedPublisher against a real JetStream: the window bound, acks, duplicates by msg id, failures
// reported as false (never thrown), and timeouts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JetStreamApiError, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamServer, type NatsServerHandle } from "../../../test/support/nats-server.ts";
import { PS_ERR_NATS } from "./errors.ts";
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
    expect((await Promise.all([...first, ...rest])).map((r) => r?.ok)).toEqual(new Array(20).fill(true));
    expect(await pub.flush()).toBe(true);
    expect(pub.published).toBe(20);
    const si = await (await jetstreamManager(nc)).streams.info("T");
    expect(si.state.messages).toBe(20);
  });

  it("counts a repeated msg id as a duplicate, stored once", async () => {
    const pub = new PipelinedPublisher(nc, 10);
    const a = pub.tryPublish("t.b", enc.encode("x"), "dup-1");
    const b = pub.tryPublish("t.b", enc.encode("x"), "dup-1", { "Ps-Reason": "test" });
    expect([await a, await b]).toEqual([
      { ok: true, duplicate: false },
      { ok: true, duplicate: true },
    ]);
    expect(pub.duplicates).toBe(1);
    const m = await (await jetstreamManager(nc)).streams.getMessage("T", { last_by_subj: "t.b" });
    expect(m?.header?.get("Nats-Msg-Id")).toBe("dup-1");
  });

  it("reports a publish no stream takes as failed, without throwing", async () => {
    const pub = new PipelinedPublisher(nc, 10);
    const r = await pub.tryPublish("nowhere.x", enc.encode("x"), "n-1")!;
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.code).toBe(PS_ERR_NATS.PublishNoStream);
    expect(!r.ok && r.error.msgID).toBe("n-1");
    expect(pub.failures).toBe(1);
    expect(await pub.flush()).toBe(true); // nothing failed during this flush
  });

  it("fails a publish whose ack does not come within the timeout", async () => {
    // A subscriber that takes the message and never answers stands in for a lost ack.
    const silent = nc.subscribe("silent.x", { callback: () => undefined });
    const pub = new PipelinedPublisher(nc, 10, 300);
    const t0 = Date.now();
    const r = await pub.tryPublish("silent.x", enc.encode("x"), "s-1")!;
    expect(r.ok).toBe(false);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(!r.ok && r.error.code).toBe(PS_ERR_NATS.PublishTimeout);
    silent.unsubscribe();
  });

  it("gives each failed publish its own cause, the stream's refusal with its API error code", async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "SMALL", subjects: ["small.>"], storage: StorageType.File, max_msg_size: 64 });
    const pub = new PipelinedPublisher(nc, 10);
    const big = pub.tryPublish("small.x", enc.encode("x".repeat(200)), "big-1")!;
    const lost = pub.tryPublish("nowhere.y", enc.encode("y"), "lost-1")!;
    const fine = pub.tryPublish("small.x", enc.encode("ok"), "fine-1")!;
    const [a, b, c] = await Promise.all([big, lost, fine]);
    expect(c.ok).toBe(true);
    if (a.ok || b.ok) throw new Error("expected both to fail");
    expect(a.error.code).toBe(PS_ERR_NATS.PublishRefused);
    expect(a.error.cause).toBeInstanceOf(JetStreamApiError);
    expect((a.error.cause as JetStreamApiError).code).toBeGreaterThan(10000); // the server's err_code
    expect(a.error.msgID).toBe("big-1");
    expect(b.error.code).toBe(PS_ERR_NATS.PublishNoStream);
    expect(b.error.subject).toBe("nowhere.y");
  });
});
