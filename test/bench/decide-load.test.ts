// The decide request's load (bench/decide-load.ts): what its percentiles are made of.
import { createServer, Agent, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { runPhase } from "../../bench/decide-load.ts";

describe("the decide request's load", () => {
  it("a request left without an answer counts in the percentiles at the time waited (the request timeout at least), not left out", async () => {
    const hung: ServerResponse[] = [];
    let n = 0;
    // Every fifth request is never answered; the others get a decision at once.
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      req.on("end", () => {
        if (n++ % 5 === 4) hung.push(res);
        else res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ decision: { id: "d" } }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const agent = new Agent({ keepAlive: true, maxSockets: 64 });
    try {
      const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/decide`);
      const timeoutMs = 300;
      const r = await runPhase(url, agent, { ratePerSec: 200, seconds: 0.1 }, 0, timeoutMs);
      expect(r.sent).toBe(20);
      expect(r.decided).toBe(16);
      expect(r.errors).toBe(4);
      // A fifth of the requests waited the whole timeout and were given up: p99 says so.
      expect(r.latencyMs.p99).toBeGreaterThanOrEqual(timeoutMs);
    } finally {
      agent.destroy();
      for (const res of hung) res.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
