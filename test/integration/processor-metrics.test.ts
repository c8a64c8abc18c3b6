// A processor running on its own (`npm run processor` with METRICS_PORT) serves /metrics and /health.
// With an access token set (API_TOKEN: required when it listens beyond loopback), /metrics asks for it
// as the dashboard server's routes do; /health stays open for probes.
import { createServer, type AddressInfo } from "node:net";
import { Gauge } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveProcessorMetrics, type Running } from "../../src/system.ts";
import { createLogger } from "../../src/log/index.ts";
import { createMetrics } from "../../src/metrics/index.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { freePort } from "../support/ports.ts";
import { rawExchange } from "../support/raw-http.ts";
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
  // The conversion objective: safe start's HELP on /metrics follows it (see the last test below).
  sys = await startParts("processor", testConfig(server.url, { processor: { metricsPort: port }, server: { token: TOKEN }, bandit: { reward: "conversion" } }));
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

  // bandit.reward conversion: the evidence and the bound count conversions; /metrics said cents of margin.
  it("says in safe start's HELP that its figures are conversions under the conversion objective", async () => {
    const text = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    for (const name of ["ps_apprentice_evidence_cents", "ps_conservative_slack_cents"]) expect(text.split("\n").find((l) => l.startsWith(`# HELP ${name} `))).toMatch(/conversions, not cents/);
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

describe("a lone processor's metrics port and a request with a body", () => {
  it("answers it and closes the connection rather than read the body it never wanted", async () => {
    const { out, closedAfterMs } = await rawExchange(Number(new URL(base).port), "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nxxxx", { waitMs: 2_000 });
    const closed = closedAfterMs !== Number.POSITIVE_INFINITY;
    expect(out).toMatch(/^HTTP\/1\.1 401 [^]*\r\nconnection: close\r\n/i);
    expect(closed).toBe(true);
  });
});

/** Sends raw bytes to the metrics port and returns the raw response. */
const raw = async (request: string): Promise<string> => (await rawExchange(Number(new URL(base).port), request)).out;

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

describe("METRICS_PORT with everything in one process (npm start)", () => {
  it("says that port is not listened on and where the processor's /metrics is, rather than ignore it", async () => {
    const logs: string[] = [];
    const port = await freePort();
    const cfg = testConfig(server.url, { processor: { metricsPort: port, durable: "metrics-port-all" }, server: { port: await freePort() }, simulator: { speed: 1 }, log: { level: "info" } });
    const running = await startParts("all", cfg, logs);
    try {
      const warned = logs.map((l) => JSON.parse(l) as { level: number; msg: string; metricsPort?: number }).find((l) => l.level === 40 && /METRICS_PORT/.test(l.msg));
      expect(warned, logs.join("\n")).toMatchObject({ metricsPort: port, msg: expect.stringMatching(/PORT/) });
    } finally {
      await running.stop();
    }
  });
});

describe("a lone processor's metrics port when something fails or a client is slow", () => {
  it("answers 500 (a short JSON) when collecting the metrics fails, and keeps serving", async () => {
    // The handler ran registry.metrics() with no catch: the request waited for an answer that never came.
    const metrics = createMetrics();
    new Gauge({ name: "ps_test_broken", help: "a collect that throws", registers: [metrics.registry], collect: () => { throw new Error("collect failed"); } });
    const logs: string[] = [];
    const http = await serveProcessorMetrics(() => undefined, metrics, "127.0.0.1", 0, undefined, createLogger("info", "test", { write: (s: string) => void logs.push(s) }));
    try {
      const port = (http.address() as AddressInfo).port;
      const r = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(3_000) });
      expect(r.status).toBe(500);
      expect(await r.json()).toEqual({ error: "internal error" });
      expect(logs.join("\n")).toMatch(/collect failed/);
      expect((await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(3_000) })).status).toBe(503);
    } finally {
      http.closeAllConnections();
      await new Promise((r) => http.close(r));
    }
  });

  it("without a token answers /metrics only under a loopback Host (DNS rebinding), /health under any", async () => {
    const http = await serveProcessorMetrics(() => undefined, createMetrics(), "127.0.0.1", 0, undefined, createLogger("silent", "test"), ["shop.example"]);
    try {
      const port = (http.address() as AddressInfo).port;
      const get = (path: string, host: string) => rawExchange(port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, { waitMs: 3_000 }).then((r) => r.out);
      const refused = await get("/metrics", `attacker.example:${port}`);
      expect(refused).toMatch(/^HTTP\/1\.1 403 /);
      expect(refused).toContain("Host is not a loopback name");
      for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, "shop.example"]) expect(await get("/metrics", host), host).toMatch(/^HTTP\/1\.1 200 /);
      expect(await get("/health", `attacker.example:${port}`)).toMatch(/^HTTP\/1\.1 503 /);
    } finally {
      http.closeAllConnections();
      await new Promise((r) => http.close(r));
    }
  });

  it("answers 408 and cuts a client that never finishes its headers once headersTimeout (10 s) has passed, not up to 30 s later", async () => {
    // Node checks requestTimeout and headersTimeout every connectionsCheckingInterval (30 s by default);
    // the dashboard server looks every second, this port did not.
    const { out, closedAfterMs } = await rawExchange(Number(new URL(base).port), "GET /metrics HTTP/1.1\r\nHost: x\r\n", { waitMs: 15_000 });
    expect(closedAfterMs).toBeGreaterThanOrEqual(9_900);
    expect(closedAfterMs).toBeLessThan(12_500);
    expect(out).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(out.slice(out.indexOf("\r\n\r\n") + 4))).toEqual({ error: expect.stringMatching(/10 s/) });
  }, 20_000);
});
