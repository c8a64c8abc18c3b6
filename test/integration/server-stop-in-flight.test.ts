// The server's stop() with requests in flight: a waiting decide request is answered
// {"decision":null,"reason":"timeout"}, a waiting batch 503 (send again), and those answers go out before
// the connections are cut (up to a second). It used to destroy every connection in the same turn, before
// the answers were written: the caller got a reset connection instead.
import { afterEach, describe, expect, it } from "vitest";
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

const view = (id: string) => ({ type: "view", id, customerId: `c-${id}`, sessionId: `s-${id}`, productId: "sku-001", category: "home", priceCents: 3_000, ts: Date.now() });

describe("DashboardServer.stop() with a decide request in flight", { timeout: 60_000 }, () => {
  it("answers the request (timeout) before it closes its connection", async () => {
    nats = await jetstreamServer();
    // No processor: the request waits for its decision (10 s) when the server stops.
    server = await startParts("server", testConfig(nats.url, { decide: { timeoutMs: 10_000 } }));
    const pending = fetch(new URL("/api/decide", server.url!), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(view("st-1")) }).then(
      async (r) => ({ status: r.status, body: await r.json() }),
      (err: Error) => ({ error: `${err.message}: ${(err.cause as Error | undefined)?.message}` }),
    );
    await waitFor("the request in flight", () => server!.server!.decider.requestsInFlight === 1, 5_000, 5);
    await new Promise((r) => setTimeout(r, 300)); // its event stored: it waits for the decision only
    const t0 = Date.now();
    await server.stop();
    server = undefined;
    expect(await pending).toEqual({ status: 200, body: { decision: null, reason: "timeout" } });
    expect(Date.now() - t0).toBeLessThan(3_000);
  });
});
