// A stream filled past its limits: the system says so (log, metric, /health degraded) and keeps running.
import { afterEach, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Running } from "../../src/system.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { startParts, testConfig, waitFor } from "../support/system.ts";

const T0 = Date.parse("2026-03-02T08:00:00Z");
const enc = new TextEncoder();
const view = (i: number) => enc.encode(JSON.stringify({ type: "view", id: `v-${i}`, ts: T0 + i, customerId: `c${i % 500}`, productId: "sku-001" }));

let server: NatsServerHandle | undefined;
let sys: Running | undefined;
let nc: NatsConnection | undefined;
afterEach(async () => {
  await nc?.close();
  await sys?.stop();
  await server?.stop();
  nc = sys = server = undefined;
});

async function health(url: string): Promise<{ status: number; body: { status: string; degraded: string[] } }> {
  const r = await fetch(`${url}health`);
  return { status: r.status, body: (await r.json()) as { status: string; degraded: string[] } };
}

describe("stream limits", () => {
  it("reports a full EVENTS stream (max bytes) as degraded, with a metric and a log line, and keeps serving", async () => {
    server = await jetstreamServer();
    const logs: string[] = [];
    sys = await startParts("all", testConfig(server.url, { simulator: { speed: 0.1 }, streams: { events: { maxBytes: 1_000_000 } }, processor: { snapshotEveryMs: 200 }, log: { level: "warn" } }), logs);
    nc = await connect({ servers: server.url });
    {
      for (let i = 0; i < 12_000; i++) nc.publish(`events.view.${i % 8}`, view(i));
      await nc.flush();
      const h = await waitFor("/health degraded", async () => {
        const x = await health(sys!.url!);
        return x.body.status === "degraded" ? x : undefined;
      }, 30_000, 200);
      expect(h.status).toBe(200);
      expect(h.body.degraded.join()).toMatch(/EVENTS is \d+% full/);
      const metrics = await (await fetch(`${sys.url}metrics`)).text();
      const usage = Number(/ps_stream_usage_ratio\{stream="EVENTS"\} ([\d.]+)/.exec(metrics)?.[1]);
      expect(usage).toBeGreaterThanOrEqual(0.9);
      await waitFor("the degraded log line", () => logs.some((l) => l.includes("processor degraded")), 10_000);
      // Still processing: the consumer keeps up with new events.
      const before = sys.processor!.snapshot().eventsIn;
      for (let i = 12_000; i < 12_100; i++) nc.publish(`events.view.${i % 8}`, view(i));
      await waitFor("more events processed", () => sys!.processor!.snapshot().eventsIn >= before + 100);
    }
  });

  it("exports the usage of the streams it writes and says when DECISIONS is nearly full (its oldest decisions go), without degrading /health", async () => {
    server = await jetstreamServer();
    const logs: string[] = [];
    // 2,000 customers' first product views: one decision each (~800 bytes), several times what DECISIONS may hold.
    sys = await startParts("all", testConfig(server.url, { simulator: { speed: 0.1 }, streams: { decisions: { maxBytes: 500_000 } }, processor: { snapshotEveryMs: 200 }, log: { level: "warn" } }), logs);
    nc = await connect({ servers: server.url });
    for (let i = 0; i < 2_000; i++) nc.publish(`events.view.${i % 8}`, enc.encode(JSON.stringify({ type: "view", id: `v-${i}`, ts: T0 + i, customerId: `c${i}`, productId: "sku-001" })));
    await nc.flush();
    const usage = await waitFor("ps_stream_usage_ratio of DECISIONS at 90% or more", async () => {
      const metrics = await (await fetch(`${sys!.url}metrics`)).text();
      const u = Number(/ps_stream_usage_ratio\{stream="DECISIONS"\} ([\d.]+)/.exec(metrics)?.[1]);
      return u >= 0.9 ? metrics : undefined;
    }, 30_000, 200);
    // The other streams it writes are exported too, with what they hold.
    expect(Number(/ps_stream_usage_ratio\{stream="OUTCOMES"\} ([\d.]+)/.exec(usage)?.[1])).toBeGreaterThanOrEqual(0);
    expect(Number(/ps_stream_usage_ratio\{stream="DEADLETTER"\} ([\d.]+)/.exec(usage)?.[1])).toBeGreaterThanOrEqual(0);
    const line = await waitFor("the nearly-full log line", () => logs.find((l) => l.includes("stream DECISIONS is") && l.includes("streams.decisions.maxBytes")), 10_000);
    expect(JSON.parse(line)).toMatchObject({ level: 40, stream: "DECISIONS", maxBytes: 500_000 });
    // Said once, not at every look (the stream stays full: it drops its oldest decisions for new ones).
    await new Promise((r) => setTimeout(r, 4_500));
    expect(logs.filter((l) => l.includes("stream DECISIONS is")).length).toBe(1);
    // A full output stream costs the processor nothing: /health is not degraded for it.
    const h = await health(sys.url!);
    expect(h.body.degraded.join()).not.toMatch(/DECISIONS/);
  });

  it("counts events that aged out (max age) before the processor read them, and reports them", async () => {
    server = await jetstreamServer();
    const cfg = testConfig(server.url, { streams: { events: { maxAgeSec: 1, duplicateWindowSec: 1 } }, processor: { snapshotEveryMs: 200 } });
    // Provision and publish with no processor running; let the events age out.
    const { provision } = await import("../../src/io/nats/index.ts");
    const { createLogger } = await import("../../src/log/index.ts");
    nc = await connect({ servers: server.url });
    await provision(nc, cfg, createLogger("silent"));
    for (let i = 0; i < 100; i++) nc.publish("events.view.0", view(i));
    await nc.flush();
    await new Promise((r) => setTimeout(r, 2_500));
    nc.publish("events.view.0", view(100));
    await nc.flush();
    sys = await startParts("all", { ...cfg, simulator: { ...cfg.simulator, speed: 0.1 } });
    await waitFor("the late event processed", () => sys!.processor!.snapshot().eventsIn >= 1);
    const metrics = await (await fetch(`${sys.url}metrics`)).text();
    expect(Number(/ps_events_lost_total ([\d.]+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(100);
    const h = await waitFor("/health degraded", async () => {
      const x = await health(sys!.url!);
      return x.body.status === "degraded" ? x : undefined;
    }, 20_000, 200);
    expect(h.body.degraded.join()).toMatch(/\d+ events were removed by stream limits/);
  });
});
