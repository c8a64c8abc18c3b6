// A processor running on its own (`npm run processor` with METRICS_PORT) serves /metrics and /health.
// With an access token set (API_TOKEN: required when it listens beyond loopback), /metrics asks for it
// as the dashboard server's routes do; /health stays open for probes.
import { connect, createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Running } from "../../src/system.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { freePort } from "../support/ports.ts";
import { startParts, testConfig } from "../support/system.ts";
import { NatsError } from "../../src/io/nats/index.ts";
import { ServerError } from "../../src/server/index.ts";

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
    const refused = await fetch(`${base}/metrics`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toMatch(/^Bearer\b/);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    const ok = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("ps_events_in_total");
    expect((await fetch(`${base}/metrics?token=${TOKEN}`)).status).toBe(200);
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });

  it("answers a request target it cannot parse with 400 and keeps serving", async () => {
    // `GET //` is no URL: `new URL("//", base)` throws, and a throw in the request handler ended the process.
    for (const target of ["//", "//x:y/metrics"]) {
      const answer = await raw(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(answer, target).toMatch(/^HTTP\/1\.1 400 /);
      expect(answer.slice(answer.indexOf("\r\n\r\n") + 4)).toContain('{"error":');
    }
    expect((await fetch(`${base}/health`)).status).toBe(200);
    const unknown = await fetch(`${base}/nowhere`);
    expect(unknown.status).toBe(404);
    expect((await unknown.json()) as unknown).toEqual({ error: expect.stringMatching(/not found/) });
  });
});

/** Sends raw bytes to the metrics port and returns the raw response. */
async function raw(request: string): Promise<string> {
  const s = connect({ host: "127.0.0.1", port: Number(new URL(base).port) });
  await new Promise((r) => s.once("connect", r));
  let out = "";
  s.on("data", (b: Buffer) => (out += b.toString()));
  s.on("error", () => undefined);
  s.write(request);
  await new Promise<void>((r) => {
    s.once("close", () => r());
    setTimeout(() => {
      s.destroy();
      r();
    }, 3_000).unref();
  });
  return out;
}

describe("a lone processor whose METRICS_PORT is taken", () => {
  it("stops before it consumes anything, naming METRICS_PORT", async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", () => r()));
    const port = (taken.address() as { port: number }).port;
    const logs: string[] = [];
    try {
      const cfg = testConfig(server.url, { processor: { metricsPort: port, durable: "metrics-port-taken" }, log: { level: "info" } });
      const err = await startParts("processor", cfg, logs).then(
        async (running) => {
          await running.stop();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(err instanceof ServerError || err instanceof NatsError, String(err)).toBe(true);
      expect((err as Error).message).toMatch(/port \d+ on 127\.0\.0\.1 is in use; fix: set METRICS_PORT/);
      // The port was tried only after the processor had restored its checkpoint and started pulling
      // (and, partitioned, taken its leases): a half-started processor that then stopped again.
      expect(logs.join("\n")).not.toMatch(/processor consuming|restored checkpoint/);
    } finally {
      taken.close();
    }
  });
});
