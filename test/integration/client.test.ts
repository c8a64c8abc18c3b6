// The client a storefront uses (issue 22), imported by the package's own name (`promo-stream/client`),
// against the real server and processor: decide() retries under the same id until the decision is
// there (or answers timeout at its deadline), send() says what became of each event, a missing token
// is an error that says so.
import { afterEach, describe, expect, it } from "vitest";
import { PromoStreamClient, PromoStreamError } from "promo-stream/client";
import type { Running } from "../../src/system.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { startParts, testConfig } from "../support/system.ts";

let nats: NatsServerHandle | undefined;
let parts: Running[] = [];

afterEach(async () => {
  for (const p of parts.reverse()) await p.stop();
  await nats?.stop();
  parts = [];
  nats = undefined;
});

describe("promo-stream/client", { timeout: 60_000 }, () => {
  it("decide() retries under the same id until the decision is there, and answers timeout at its deadline", async () => {
    nats = await jetstreamServer();
    const cfg = testConfig(nats.url, { partitions: 4, decide: { timeoutMs: 100 } } as never);
    const server = await startParts("server", cfg);
    parts.push(server);
    const client = new PromoStreamClient({ baseUrl: server.url! });
    const view = { type: "view" as const, id: "cv-1", customerId: "c-1", sessionId: "s-1", productId: "sku-001", category: "home", priceCents: 2_500 };
    // No processor yet: nothing can decide within 300 ms.
    expect(await client.decide(view, { deadlineMs: 300 })).toEqual({ decision: null, reason: "timeout" });
    // A processor comes up while the client keeps asking under the same id.
    const asking = client.decide(view, { deadlineMs: 20_000 });
    parts.push(await startParts("processor", cfg));
    const a = await asking;
    expect(a.decision).toMatchObject({ id: "d-cv-1", eventId: "cv-1" });
    // Without an id the client makes one (visits are not decision points by default).
    expect(await client.decide({ type: "visit", customerId: "c-2", channel: "web" }, { deadlineMs: 5_000 })).toEqual({ decision: null, reason: "not-a-decision-point" });
    const sent = await client.send([{ type: "click", customerId: "c-1", productId: "sku-001" }, { type: "view", customerId: "" } as never]);
    expect(sent).toMatchObject({ accepted: 1, rejected: 1 });
    expect(sent.results[1]).toMatchObject({ status: "rejected", reason: "invalid" });
  });

  it("says when the server wants a token", async () => {
    nats = await jetstreamServer();
    const server = await startParts("server", testConfig(nats.url, { server: { token: "t0ken" } }));
    parts.push(server);
    const bare = new PromoStreamClient({ baseUrl: server.url! });
    await expect(bare.send([{ type: "click", customerId: "c" }])).rejects.toMatchObject({ code: "PS_ERR_CLIENT_AUTH", status: 401 });
    await expect(bare.decide({ type: "visit", customerId: "c", channel: "web" })).rejects.toBeInstanceOf(PromoStreamError);
    const ok = await new PromoStreamClient({ baseUrl: server.url!, token: "t0ken" }).send([{ type: "click", customerId: "c" }]);
    expect(ok.accepted).toBe(1);
  });
});
