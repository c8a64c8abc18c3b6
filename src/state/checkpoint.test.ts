// Checkpoint chains on a real JetStream KV: parts in chunks, a head naming them, purging what no head
// names, checksums, the format before parts; the head's revision check: another writer's head is a
// conflict (the processor is fenced); a KV that does not answer is not (nothing is known about ownership).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamServer, type NatsServerHandle } from "../../test/support/nats-server.ts";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { CheckpointStore, type Loaded, type PartRef } from "./checkpoint.ts";
import { PS_ERR_STATE, StateError } from "./errors.ts";

let server: NatsServerHandle;
let nc: NatsConnection;

beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
  await new Kvm(nc).create("STATE_TEST", { history: 1 });
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as StateError,
  );

/** Writes one delta part of `text` in chunks of 3 bytes and moves the head to a chain of it after `prev`. */
async function save(s: CheckpointStore, text: string, seq: number, prev: PartRef[] = []): Promise<PartRef[]> {
  const w = s.beginPart("delta");
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += 3) await w.put(bytes.subarray(i, i + 3));
  const ref = w.finish();
  await s.commit({ deltas: [...prev, ref] }, seq, ref.bytes);
  return [...prev, ref];
}

const texts = (l: Loaded | undefined) => (l?.format === "chain" ? l.parts.map((p) => new TextDecoder().decode(p)) : undefined);

describe("CheckpointStore", () => {
  it("writes parts in chunks, names them in a head, and reads the chain back whole", async () => {
    const a = new CheckpointStore(nc, "STATE_TEST", "chain");
    await a.open();
    const one = await save(a, "the first delta", 10);
    await save(a, "the second one", 20, one);
    const b = new CheckpointStore(nc, "STATE_TEST", "chain");
    await b.open();
    const l = await b.load();
    expect(texts(l)).toEqual(["the first delta", "the second one"]);
    expect(l?.format === "chain" && l.head.streamSeq).toBe(20);
  });

  it("purges the parts a new head no longer names", async () => {
    const s = new CheckpointStore(nc, "STATE_TEST", "purge");
    await s.open();
    const [first] = await save(s, "old chain", 1);
    const kv = await new Kvm(nc).open("STATE_TEST");
    expect((await kv.get(`${first!.key}.c0`))?.operation).toBe("PUT");
    await save(s, "new chain", 2);
    const gone = await kv.get(`${first!.key}.c0`);
    expect(gone === null || gone.operation !== "PUT").toBe(true);
  });

  it("refuses a part whose chunks do not match its checksum", async () => {
    const s = new CheckpointStore(nc, "STATE_TEST", "corrupt");
    await s.open();
    const [ref] = await save(s, "some bytes to spoil", 1);
    const kv = await new Kvm(nc).open("STATE_TEST");
    await kv.put(`${ref!.key}.c1`, new TextEncoder().encode("XYZ"));
    const r = new CheckpointStore(nc, "STATE_TEST", "corrupt");
    await r.open();
    const err = await failure(r.load());
    expect(err).toBeInstanceOf(StateError);
    expect(err?.code).toBe(PS_ERR_STATE.Corrupt);
  });

  it("still reads a checkpoint of the format before parts (one gzip'd JSON state)", async () => {
    const kv = await new Kvm(nc).open("STATE_TEST");
    const zipped = gzipSync(Buffer.from(JSON.stringify({ engine: { version: 2 }, kpi: {} })));
    await kv.put("legacy.g1.wx.c0", zipped);
    await kv.put("legacy.head", new TextEncoder().encode(JSON.stringify({ generation: 1, writer: "wx", chunks: 1, bytes: zipped.length, sha256: createHash("sha256").update(zipped).digest("hex"), streamSeq: 7, writtenAtMs: 0 })));
    const s = new CheckpointStore(nc, "STATE_TEST", "legacy");
    await s.open();
    const l = await s.load();
    expect(l?.format).toBe("json");
    expect(l?.format === "json" && l.state).toEqual({ engine: { version: 2 }, kpi: {} });
    // The first chain written after it replaces it, and its chunks are purged.
    await save(s, "a chain", 8);
    const gone = await kv.get("legacy.g1.wx.c0");
    expect(gone === null || gone.operation !== "PUT").toBe(true);
  });

  // A head in a chain format above this build's (a newer build's, found after a rollback) went down the
  // path of the format before chains and was reported as damage: "generation 1 fails its checksum".
  it("refuses a head of a newer chain format with PS_ERR_STATE_VERSION, naming the format and the bucket, not as damage", async () => {
    const s = new CheckpointStore(nc, "STATE_TEST", "newer");
    await s.open();
    await save(s, "a delta", 5);
    const kv = await new Kvm(nc).open("STATE_TEST");
    const head = (await kv.get("newer.head"))!.json<Record<string, unknown>>();
    await kv.put("newer.head", new TextEncoder().encode(JSON.stringify({ ...head, format: 4 })));
    const r = new CheckpointStore(nc, "STATE_TEST", "newer");
    await r.open();
    const err = await failure(r.load());
    expect(err).toBeInstanceOf(StateError);
    expect(err?.code).toBe(PS_ERR_STATE.Version);
    expect(err?.message).toMatch(/checkpoint head newer\.head in bucket STATE_TEST is chain format 4, written by a newer build \(this build reads chain format 3/);
  });

  it("reports PS_ERR_STATE_CONFLICT when another writer moved the head", async () => {
    const a = new CheckpointStore(nc, "STATE_TEST", "p");
    const b = new CheckpointStore(nc, "STATE_TEST", "p");
    await a.open();
    await b.open();
    await save(a, "a1", 10);
    expect(texts(await b.load())).toEqual(["a1"]);
    await save(b, "b2", 20); // b now owns it
    const err = await failure(save(a, "a3", 30));
    expect(err).toBeInstanceOf(StateError);
    expect(err?.code).toBe(PS_ERR_STATE.Conflict);
    const l = await b.load();
    expect(l?.format === "chain" && l.head.streamSeq).toBe(20);
  });

  it("reports PS_ERR_STATE_UNAVAILABLE, not a conflict, when the KV does not answer", async () => {
    const other = await connect({ servers: server.url });
    const s = new CheckpointStore(other, "STATE_TEST", "q");
    await s.open();
    await save(s, "q1", 1);
    // The part is written, then the connection goes before the head moves.
    const kv = (s as unknown as { kv: { update: (...a: unknown[]) => Promise<number> } }).kv;
    const update = kv.update.bind(kv);
    kv.update = async (...a: unknown[]) => {
      await other.close();
      return update(...a);
    };
    const err = await failure(save(s, "q2", 2));
    expect(err).toBeInstanceOf(StateError);
    expect(err?.code).toBe(PS_ERR_STATE.Unavailable);
  });
});
