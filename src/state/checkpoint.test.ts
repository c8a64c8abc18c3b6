// The checkpoint head's revision check on a real JetStream KV: another writer's head is a conflict
// (the processor is fenced); a KV that does not answer is not (nothing is known about ownership).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamServer, type NatsServerHandle } from "../../test/support/nats-server.ts";
import { CheckpointStore } from "./checkpoint.ts";
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

describe("CheckpointStore.save", () => {
  it("writes, reads back, and reports PS_ERR_STATE_CONFLICT when another writer moved the head", async () => {
    const a = new CheckpointStore<{ n: number }>(nc, "STATE_TEST", "p");
    const b = new CheckpointStore<{ n: number }>(nc, "STATE_TEST", "p");
    await a.open();
    await b.open();
    await a.save('{"n":1}', 10);
    expect((await b.load())?.state).toEqual({ n: 1 });
    await b.save('{"n":2}', 20); // b now owns it
    const err = await failure(a.save('{"n":3}', 30));
    expect(err).toBeInstanceOf(StateError);
    expect(err?.code).toBe(PS_ERR_STATE.Conflict);
    expect((await b.load())?.head.streamSeq).toBe(20);
  });

  it("reports PS_ERR_STATE_UNAVAILABLE, not a conflict, when the KV does not answer", async () => {
    const other = await connect({ servers: server.url });
    const s = new CheckpointStore<{ n: number }>(other, "STATE_TEST", "q");
    await s.open();
    await s.save('{"n":1}', 1);
    // The chunks are written, then the connection goes before the head moves.
    const kv = (s as unknown as { kv: { update: (...a: unknown[]) => Promise<number> } }).kv;
    const update = kv.update.bind(kv);
    kv.update = async (...a: unknown[]) => {
      await other.close();
      return update(...a);
    };
    const err = await failure(s.save('{"n":2}', 2));
    expect(err).toBeInstanceOf(StateError);
    expect(err?.code).toBe(PS_ERR_STATE.Unavailable);
  });
});
