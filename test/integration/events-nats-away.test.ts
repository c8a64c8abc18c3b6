// POST /api/events answers 503 with Retry-After when an event could not be stored (NATS away), and the
// client sends the batch again by itself. While the server knows its connection to NATS is down, it says
// so at once; it used to find out only when each publish's ack timed out (5 s, swept once a second), so
// the 503 came after 5-6 s, past the client's default 5 s deadline.
import { afterEach, describe, expect, it } from "vitest";
import { PromoStreamClient, PromoStreamError } from "promo-stream/client";
import type { Running } from "../../src/system.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { startParts, testConfig, waitFor } from "../support/system.ts";

let nats: NatsServerHandle | undefined;
let server: Running | undefined;

afterEach(async () => {
  await server?.stop();
  await nats?.stop();
  nats = server = undefined;
});

describe("POST /api/events while NATS is away", { timeout: 60_000 }, () => {
  it("answers 503 with Retry-After at once, not after the 5 s publish ack timeout", async () => {
    nats = await jetstreamServer();
    const cfg = testConfig(nats.url, {});
    server = await startParts("server", cfg);
    const url = server.url!;
    await nats.stop();
    await waitFor("the server to see NATS gone", async () => !(await server!.server!.health()).checks.nats, 10_000, 20);
    const t0 = Date.now();
    const r = await fetch(new URL("/api/events", url), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify([{ type: "click", id: "ea-1", customerId: "c-1", productId: "sku-001" }]) });
    const ms = Date.now() - t0;
    const body = (await r.json()) as { results: unknown[] };
    expect({ status: r.status, retryAfter: r.headers.get("retry-after"), result: body.results[0] }).toMatchObject({ status: 503, retryAfter: "1", result: { id: "ea-1", status: "rejected", reason: "unavailable" } });
    expect(ms).toBeLessThan(1_000);
  });

  it("answers 503 at once also when the batch holds an event it refuses (its dead letter does not hold the answer), so the client resends", async () => {
    nats = await jetstreamServer();
    const cfg = testConfig(nats.url, {});
    server = await startParts("server", cfg);
    const url = server.url!;
    await nats.stop();
    await waitFor("the server to see NATS gone", async () => !(await server!.server!.health()).checks.nats, 10_000, 20);
    // The client's own default deadline (5 s), as a shop calls it: the 503 must reach it in time for it
    // to resend. The refused event's dead letter waited for its publish's ack (5 s) before the answer went.
    const client = new PromoStreamClient({ baseUrl: url });
    const err = await client.send([{ type: "click", id: "ea-2", customerId: "c-1", productId: "sku-001" }, { type: "view", id: "ea-3" } as never]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PromoStreamError);
    expect({ code: (err as PromoStreamError).code, cause: ((err as PromoStreamError).cause as Error).message }).toEqual({ code: "PS_ERR_CLIENT_DEADLINE", cause: "HTTP 503" });
    // /api/track the same: a call it cannot map beside one it stores.
    const track = await client
      .track([
        { type: "track", event: "Product Clicked", messageId: "ea-4", userId: "c-1", properties: { product_id: "sku-001" } },
        { type: "track", event: "Product Clicked", messageId: "ea-5", userId: "c-1", properties: {} },
      ])
      .catch((e: unknown) => e);
    expect({ code: (track as PromoStreamError).code, cause: ((track as PromoStreamError).cause as Error).message }).toEqual({ code: "PS_ERR_CLIENT_DEADLINE", cause: "HTTP 503" });
  });
});
