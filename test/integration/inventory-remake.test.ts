// The shared inventory consumer made again (deleted while the instances run) starts at the lowest
// sequence this instance has not acknowledged: an event nak'd earlier (its ledger write failed) and not
// yet redelivered when a later one was acknowledged is applied still. Made again after the last
// acknowledged event, it was skipped for good, and offers went on for stock that ran out.
import { afterEach, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { testConfig, waitFor } from "../support/system.ts";
import { publishEvents, readStream } from "../support/streams.ts";
import { provision } from "../../src/io/nats/index.ts";
import { createLogger } from "../../src/log/index.ts";
import { GlobalLedger } from "../../src/scale/ledger.ts";
import { InventoryKeeper } from "../../src/scale/inventory.ts";
import { copyId, type ShopEvent } from "../../src/events/index.ts";

let server: NatsServerHandle | undefined;
let nc: NatsConnection | undefined;
let keeper: InventoryKeeper | undefined;
afterEach(async () => {
  await keeper?.stop();
  await nc?.close();
  await server?.stop();
});

const T0 = Date.parse("2026-03-02T08:00:00Z");
const inventory = (id: string, productId: string, stock: number): ShopEvent => ({ type: "inventory", id, ts: T0, productId, category: "toys", stock, priceCents: 10_000, costCents: 6_000 });

it("an inventory event nak'd before the consumer was deleted is still applied after the consumer is made again", { timeout: 60_000 }, async () => {
  server = await jetstreamServer();
  const cfg = testConfig(server.url, { partitions: 2, scale: { enabled: true } });
  nc = await connect({ servers: server.url });
  await provision(nc, cfg as never, createLogger("silent"));
  const jsm = await jetstreamManager(nc);
  const kv = await new Kvm(nc).open(cfg.kv.inventoryBucket);
  const name = `${cfg.processor.durable}-inventory`;
  let failedOnce = false;
  class Ledger extends GlobalLedger {
    override async setStock(productId: string, stock: number, asOfMs: number): Promise<void> {
      // The KV does not answer for the first event: it is nak'd, to be redelivered in 500 ms.
      if (productId === "sku-a" && !failedOnce) {
        failedOnce = true;
        throw new Error("KV record units.sku-a: TIMEOUT");
      }
      // The operator deletes the consumer while a later event is handled (inv-b acknowledged, inv-a not yet redelivered).
      if (productId === "sku-c") await jsm.consumers.delete("EVENTS", name);
      return super.setStock(productId, stock, asOfMs);
    }
  }
  keeper = new InventoryKeeper(nc, cfg, new Ledger(kv, 0), createLogger("silent"));
  await keeper.start();
  await publishEvents(nc, [inventory("inv-a", "sku-a", 5), inventory("inv-b", "sku-b", 7), inventory("inv-c", "sku-c", 9)], cfg.partitions);
  const copied = async (id: string) => {
    const ids = new Set((await readStream(nc!, "EVENTS")).map((m) => m.msgId));
    return [0, 1].every((k) => ids.has(copyId(id, "s", k)));
  };
  await waitFor("inv-c copied", () => copied("inv-c"), 20_000, 200);
  // inv-a failed once and must come again: give it well over its 500 ms nak delay.
  await new Promise((r) => setTimeout(r, 5_000));
  expect(await copied("inv-a")).toBe(true);
});
