// A decide request answers by its deadline also while NATS does not acknowledge publishes (disconnected):
// when the publisher's window is full of earlier requests' publishes (answered timeout already), it is
// answered 503 with Retry-After at once, nothing published. It used to wait for room in the window, which
// comes only when those publishes fail after their 5 s timeout: 4.7 s for a 100 ms deadline.
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

async function timedPost(url: string, body: unknown): Promise<{ ms: number; status: number; body: unknown }> {
  const t0 = Date.now();
  const r = await fetch(new URL("/api/decide", url), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { ms: Date.now() - t0, status: r.status, body: await r.json() };
}

describe("POST /api/decide while NATS is away", { timeout: 60_000 }, () => {
  it("answers every request near its deadline, not after the publish ack timeout", async () => {
    nats = await jetstreamServer();
    const cfg = testConfig(nats.url, { decide: { timeoutMs: 100, maxInFlight: 3 } });
    server = await startParts("server", cfg);
    const url = server.url!;
    await nats.stop();
    await waitFor("the server to see NATS gone", async () => !(await server!.server!.health()).checks.nats, 10_000, 20);
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await timedPost(url, view(`na-${i}`)));
    // timeoutMs 100 + the late look in the answers bucket take ~0.1–0.3 s; the defect waited out the
    // publishes' 5 s timeout (4.7 s). The bound sits between the two: on a loaded 2-core host the first
    // answer once took 1.2 s (load average 10), which is not the defect.
    expect(answers.map((a) => a.ms < 3_000), JSON.stringify(answers.map((a) => a.ms))).toEqual(new Array(6).fill(true));
  });
});
