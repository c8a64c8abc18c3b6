// A stream kept from an older configuration with a smaller message limit than config's (provisioning never
// changes an existing stream; it warns): the processor fits its decisions to what the stream takes. Sized
// by config's limit, every decision over the stream's was refused and retried for ever: deciding stopped.
import { afterAll, beforeAll, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Decision } from "../../src/events/index.ts";
import { streamConfigs } from "../../src/io/nats/index.ts";
import type { Running } from "../../src/system.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { readStream } from "../support/streams.ts";
import { startParts, testConfig, waitFor } from "../support/system.ts";

const T0 = Date.parse("2026-03-02T08:00:00Z");
const KEPT_MSG_BYTES = 2_048;
let server: NatsServerHandle;
let nc: NatsConnection;
let sys: Running | undefined;

beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
});
afterAll(async () => {
  await sys?.stop();
  await nc?.close();
  await server?.stop();
});

it("fits decisions to the message limit the DECISIONS stream keeps when it is smaller than config's", { timeout: 60_000 }, async () => {
  // 40 promotions on everything: a decision's explanation lists them all, ~4 KB.
  const promotions = Array.from({ length: 40 }, (_, i) => ({ id: `p${i}`, name: `$${i + 1} off`, kind: "amount", amountOffCents: 100 + i, channels: ["web"], budgetCents: 10_000_000, maxDiscountCents: 200 }));
  const cfg = testConfig(server.url, { promotions } as never);
  expect(cfg.streams.decisions.maxMsgBytes).toBeGreaterThan(KEPT_MSG_BYTES);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ ...streamConfigs(cfg)[1]!, max_msg_size: KEPT_MSG_BYTES });
  sys = await startParts("processor", cfg);
  nc.publish("events.view.0", JSON.stringify({ type: "view", id: "v1", ts: T0, customerId: "c1", sessionId: "s1", productId: "sku-001", category: "toys", priceCents: 2_000 }));
  const stored = await waitFor("the decision stored", async () => {
    const msgs = await readStream(nc, cfg.streams.decisions.name);
    return msgs.length ? msgs : undefined;
  }, 20_000, 200);
  expect(stored).toHaveLength(1);
  expect(stored[0]!.data.length).toBeLessThanOrEqual(KEPT_MSG_BYTES);
  const d = JSON.parse(new TextDecoder().decode(stored[0]!.data)) as Decision;
  expect(d.eventId).toBe("v1");
  expect(d.explanation.candidatesOmitted ?? 0).toBeGreaterThan(0);
});
