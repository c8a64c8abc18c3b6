// A processor running on its own (`npm run processor` with METRICS_PORT) serves /metrics and /health.
// With an access token set (API_TOKEN: required when it listens beyond loopback), /metrics asks for it
// as the dashboard server's routes do; /health stays open for probes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Running } from "../../src/system.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { freePort } from "../support/ports.ts";
import { startParts, testConfig } from "../support/system.ts";

const TOKEN = "metrics-test-token";
let server: NatsServerHandle;
let sys: Running;
let base: string;


beforeAll(async () => {
  server = await jetstreamServer();
  const port = await freePort();
  sys = await startParts("processor", testConfig(server.url, { processor: { metricsPort: port }, server: { token: TOKEN } }));
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await sys?.stop();
  await server?.stop();
});

describe("a lone processor's metrics port with an access token", () => {
  it("answers /metrics only with the token, /health without", async () => {
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    const ok = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("ps_events_in_total");
    expect((await fetch(`${base}/metrics?token=${TOKEN}`)).status).toBe(200);
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });
});
