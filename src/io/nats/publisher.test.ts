// PipelinedPublisher against a real JetStream: the window bound, acks, duplicates by msg id, failures
// reported as false (never thrown), and timeouts; and its hand-written publish frames: what a stream
// stores from them is what nc.publish would have stored (payload, msg id, order), and the PubAck
// shortcut reads what the server really answers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JetStreamApiError, jetstreamManager, StorageType, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamServer, type NatsServerHandle } from "../../../test/support/nats-server.ts";
import { PS_ERR_NATS } from "./errors.ts";
import { quickPubAck } from "./frames.ts";
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

const text = (d: Uint8Array) => new TextDecoder().decode(d);

describe("publish frames (frames.ts)", () => {
  let jsm: JetStreamManager;
  beforeAll(async () => {
    jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "F", subjects: ["f.>"], storage: StorageType.File });
  });

  it("stores each payload (text or bytes, multi-byte characters, over several buffers) with its msg id, in order", async () => {
    const pub = new PipelinedPublisher(nc, 5_000);
    const big = "é".repeat(40_000); // 80,000 bytes: more than one frame buffer
    const sent: string[] = [];
    const acks = [];
    for (let i = 0; i < 300; i++) {
      const payload = i === 150 ? JSON.stringify({ i, big }) : JSON.stringify({ i, name: `größe-${i}` });
      sent.push(payload);
      acks.push(pub.tryPublish("f.order", i % 2 ? payload : Buffer.from(payload), `id-${i}`));
    }
    expect((await Promise.all(acks)).every((r) => r?.ok && !r.duplicate)).toBe(true);
    for (const seq of [1, 2, 151, 300]) {
      const m = await jsm.streams.getMessage("F", { seq });
      expect(text(m!.data)).toBe(sent[seq - 1]);
      expect(m!.header?.get("Nats-Msg-Id")).toBe(`id-${seq - 1}`);
    }
  });

  it("keeps the order with a publish that goes through the client in the same turn (extra headers)", async () => {
    const pub = new PipelinedPublisher(nc, 100);
    const a = pub.tryPublish("f.mixed", "first", "mixed-1");
    const b = pub.tryPublish("f.mixed", Buffer.from("second"), "mixed-2", { "Ps-Reason": "test" });
    const c = pub.tryPublish("f.mixed", "third", "mixed-3");
    expect((await Promise.all([a, b, c])).map((r) => r?.ok)).toEqual([true, true, true]);
    const stored = [];
    const first = (await jsm.streams.getMessage("F", { last_by_subj: "f.mixed" }))!.seq - 2;
    for (let s = first; s < first + 3; s++) stored.push(text((await jsm.streams.getMessage("F", { seq: s }))!.data));
    expect(stored).toEqual(["first", "second", "third"]);
    expect((await jsm.streams.getMessage("F", { seq: first + 1 }))!.header?.get("Ps-Reason")).toBe("test");
  });

  it("reads the server's own PubAcks: stored, duplicate; anything else is left to the full parse", async () => {
    const pub = new PipelinedPublisher(nc, 10);
    expect(await pub.tryPublish("f.dup", "x", "dup-1")).toEqual({ ok: true, duplicate: false });
    expect(await pub.tryPublish("f.dup", "x", "dup-1")).toEqual({ ok: true, duplicate: true });
    const bytes = (s: string) => new TextEncoder().encode(s);
    expect(quickPubAck(bytes('{"stream":"F", "seq":1}'))).toBe("stored");
    expect(quickPubAck(bytes('{"stream":"F", "seq":1,"duplicate": true}'))).toBe("duplicate");
    expect(quickPubAck(bytes('{"stream":"F","seq":1,"duplicate":false}'))).toBe("stored");
    expect(quickPubAck(bytes('{"error":{"code":503,"description":"x"},"stream":"F"}'))).toBeUndefined();
    expect(quickPubAck(bytes("not json at all"))).toBeUndefined();
  });

  it("refuses what nats.js refuses (a line break in the msg id) as a failed publish, and takes the next one", async () => {
    const pub = new PipelinedPublisher(nc, 10);
    const bad = await pub.tryPublish("f.bad", "x", "bad\r\nid");
    expect(bad?.ok).toBe(false);
    expect(await pub.tryPublish("f.bad", "y", "good-id")).toEqual({ ok: true, duplicate: false });
  });

  it("publishes the same frames with the writer off (through nc.publish)", async () => {
    const pub = new PipelinedPublisher(nc, 10, 10_000, { frames: false });
    expect(await pub.tryPublish("f.off", "plain", "off-1")).toEqual({ ok: true, duplicate: false });
    const m = await jsm.streams.getMessage("F", { last_by_subj: "f.off" });
    expect(text(m!.data)).toBe("plain");
    expect(m!.header?.get("Nats-Msg-Id")).toBe("off-1");
  });
});
