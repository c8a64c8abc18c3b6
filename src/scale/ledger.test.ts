// The global ledger's compare-and-set on a real JetStream KV: a lost revision check is retried and
// counted; a KV that does not answer is told apart (PS_ERR_SCALE_KV_UNAVAILABLE), not retried as if
// someone else had written.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kvm, type KV } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamServer, type NatsServerHandle } from "../../test/support/nats-server.ts";
import { CasConflictError, PS_ERR_SCALE, ScaleError } from "./errors.ts";
import { GlobalLedger } from "./ledger.ts";

let server: NatsServerHandle;
let nc: NatsConnection;
let kv: KV;
const enc = new TextEncoder();

beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
  kv = await new Kvm(nc).create("LEDGER_TEST", { history: 1 });
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

/** The KV, with another writer who writes the key just before each of our first `times` updates. */
function contended(times: number): KV {
  let n = 0;
  return new Proxy(kv, {
    get(target, prop, receiver) {
      if (prop === "update")
        return async (k: string, v: Uint8Array, rev: number) => {
          if (n++ < times) await target.put(k, enc.encode(JSON.stringify({ v: 100 * n })));
          return target.update(k, v, rev);
        };
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe("GlobalLedger.cas", () => {
  it("retries when another writer changed the record in between, builds on its value, and counts the conflict", async () => {
    await kv.put("n", enc.encode(JSON.stringify({ v: 1 })));
    const ledger = new GlobalLedger(contended(1), 0);
    const out = await ledger.cas<{ v: number }>("n", (cur) => ({ v: cur!.v + 1 }));
    expect(out).toEqual({ v: 101 });
    expect(ledger.casConflicts).toBe(1);
    expect((await kv.get("n"))!.json<{ v: number }>()).toEqual({ v: 101 });
  });

  it("gives up with PS_ERR_SCALE_CAS_CONFLICT when others win every time", async () => {
    await kv.put("busy", enc.encode(JSON.stringify({ v: 0 })));
    const ledger = new GlobalLedger(contended(Infinity), 0);
    const err = await ledger.cas<{ v: number }>("busy", (cur) => ({ v: cur!.v + 1 }), 3).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CasConflictError);
    expect((err as ScaleError).code).toBe(PS_ERR_SCALE.CasConflict);
    expect(ledger.casConflicts).toBe(3);
  });

  it("tells a KV that does not answer apart from a conflict: one attempt, PS_ERR_SCALE_KV_UNAVAILABLE", async () => {
    const other = await connect({ servers: server.url });
    const kv2 = await new Kvm(other).open("LEDGER_TEST");
    const ledger = new GlobalLedger(kv2, 0);
    await other.close();
    let calls = 0;
    const err = await ledger.cas<number>("n", () => ++calls).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ScaleError);
    expect((err as ScaleError).code).toBe(PS_ERR_SCALE.KvUnavailable);
    expect((err as ScaleError).cause).toBeDefined();
    expect(ledger.casConflicts).toBe(0);
    expect(calls).toBeLessThanOrEqual(1);
  });
});
