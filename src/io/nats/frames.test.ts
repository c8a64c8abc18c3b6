// The hand-written publish frames against a real nats-server: what a stream stores from them is what
// nc.publish would have stored (payload, msg id, order), and the PubAck shortcut reads what the
// server really answers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager, StorageType, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamServer, type NatsServerHandle } from "../../../test/support/nats-server.ts";
import { quickPubAck } from "./frames.ts";
import { PipelinedPublisher } from "./publisher.ts";

let server: NatsServerHandle;
let nc: NatsConnection;
let jsm: JetStreamManager;

beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
  jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "F", subjects: ["f.>"], storage: StorageType.File });
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

const text = (d: Uint8Array) => new TextDecoder().decode(d);

describe("publish frames", () => {
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
