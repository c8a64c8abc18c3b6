// The configuration's promotions after a restart from a checkpoint: a checkpoint holds the promotions
// the engine knew (runtime changes included), and a promotion added to or changed in the configuration
// since must still take effect when the processor starts again, as policy.mode does; one the
// configuration did not change keeps its runtime changes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Config } from "../../src/config/index.ts";
import { Subjects, type PromotionConfig } from "../../src/events/index.ts";
import type { PromoControlReply } from "../../src/processor/index.ts";
import type { Running } from "../../src/system.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { startParts, testConfig, waitFor } from "../support/system.ts";

const enc = new TextEncoder();
const subjects = new Subjects();

let server: NatsServerHandle;
let nc: NatsConnection;
let sys: Running | undefined;

const runtime: PromotionConfig = { id: "flash-beauty", name: "Flash: 15% off beauty", kind: "percent", percentOff: 15, category: "beauty", channels: ["web"], budgetCents: 100_000, maxDiscountCents: 1500 };
const added: PromotionConfig = { id: "pct5-books", name: "5% off books", kind: "percent", percentOff: 5, category: "books", channels: ["web"], budgetCents: 70_000, maxDiscountCents: 500 };

async function ask(body: unknown): Promise<PromoControlReply> {
  const r = await nc.request(subjects.promoControl, enc.encode(JSON.stringify(body)), { timeout: 10_000 });
  return r.json<PromoControlReply>();
}

beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
});

afterAll(async () => {
  await nc?.close();
  await sys?.stop();
  await server?.stop();
});

describe("the configuration's promotions at a restart from a checkpoint", () => {
  it("a promotion added to the configuration, or whose budget changed there, applies; runtime changes of the others stay", async () => {
    const first = testConfig(server.url, { partitions: 2 });
    sys = await startParts("processor", first);
    expect(await ask({ op: "upsert", promotion: runtime })).toMatchObject({ ok: true });
    await waitFor("the runtime promotion applied", () => sys!.processor!.engine.promotions.has(runtime.id));
    // A runtime budget change of a configured promotion the configuration will not touch.
    const amt = first.promotions.find((p) => p.id === "amt5-home")!;
    expect(await ask({ op: "upsert", promotion: { ...amt, budgetCents: 1234 } })).toMatchObject({ ok: true });
    await waitFor("the runtime budget applied", () => sys!.processor!.engine.promotions.get("amt5-home")?.budgetCents === 1234);
    await sys.stop(); // writes the final checkpoint
    sys = undefined;

    const promotions: Config["promotions"] = [...first.promotions.map((p) => (p.id === "pct10-electronics" ? { ...p, budgetCents: 5_000 } : p)), added];
    const second = testConfig(server.url, { partitions: 2, promotions });
    sys = await startParts("processor", second);
    const e = sys.processor!.engine;
    // Restored from the checkpoint (the runtime promotion is in no configuration), not started afresh.
    await waitFor("the checkpoint restored and the log caught up", () => e.promotions.has(runtime.id));
    expect(e.promotions.get(added.id)).toMatchObject({ budgetCents: 70_000, percentOff: 5 });
    expect(e.ledger.budgets.get(added.id)?.budgetCents).toBe(70_000);
    expect(e.promotions.get("pct10-electronics")?.budgetCents).toBe(5_000);
    expect(e.ledger.budgets.get("pct10-electronics")?.budgetCents).toBe(5_000);
    // What the configuration did not change keeps its runtime changes.
    expect(e.promotions.get("amt5-home")?.budgetCents).toBe(1234);
    expect(e.ledger.budgets.get("amt5-home")?.budgetCents).toBe(1234);
    expect(await ask({ op: "list" })).toEqual({ ok: true, promotions: expect.arrayContaining([added.id, runtime.id]) });
  });
});
