// GET /metrics on the running system (issue #6): a Prometheus scrape names every figure the issue asks
// for, and the figures move with what the system does: events in, decisions out, dead letters by
// reason, consumer lag, the decide latency histogram, feature cache size and evictions, WebSocket
// clients and dropped frames.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { WebSocket } from "ws";
import type { Running } from "../../src/main.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { startParts, testConfig, waitFor } from "../support/system.ts";

let nats: NatsServerHandle;
let sys: Running;
let nc: NatsConnection;
let ws: WebSocket;

beforeAll(async () => {
  nats = await jetstreamServer();
  // A feature cache far smaller than the simulated shoppers, so it must evict.
  sys = await startParts("all", testConfig(nats.url, { simulator: { speed: 30 }, processor: { snapshotEveryMs: 250 }, features: { maxCustomers: 50 } }));
  nc = await connect({ servers: nats.url });
  ws = new WebSocket(new URL("/ws", sys.url!).href.replace("http", "ws"));
  await new Promise((r, j) => ws.once("open", r).once("error", j));
});

afterAll(async () => {
  ws?.close();
  await nc?.close();
  await sys?.stop();
  await nats?.stop();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format, enough of it: `name{a="b",…} value` lines and `# TYPE name kind`. */
function parse(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t) types.set(t[1]!, t[2]!);
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, types };
}

async function scrape() {
  const r = await fetch(new URL("/metrics", sys.url!));
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parse(await r.text());
}

const sum = (s: Sample[], name: string, where: Record<string, string> = {}) =>
  s.filter((x) => x.name === name && Object.entries(where).every(([k, v]) => x.labels[k] === v)).reduce((a, x) => a + x.value, 0);
const has = (s: Sample[], name: string) => s.some((x) => x.name === name);

describe("/metrics", () => {
  it("exposes every figure the issue names, moving with the system", async () => {
    // One poison message: not JSON on a customer event subject.
    await jetstream(nc).publish("events.view.0", new TextEncoder().encode("{this is not json"), { msgID: `metrics-test-${Date.now()}` });

    const { samples, types } = await waitFor(
      "events, decisions, a dead letter and evictions in the scrape",
      async () => {
        const m = await scrape();
        const s = m.samples;
        return sum(s, "ps_events_in_total") > 100 &&
          sum(s, "ps_decisions_out_total") > 10 &&
          sum(s, "ps_dead_letters_total", { reason: "not-json" }) >= 1 &&
          sum(s, "ps_feature_cache_evictions_total") > 0 &&
          sum(s, "ps_decide_latency_seconds_count") > 0
          ? m
          : undefined;
      },
      30_000,
      250,
    );

    expect(types.get("ps_events_in_total")).toBe("counter");
    expect(new Set(samples.filter((x) => x.name === "ps_events_in_total").map((x) => x.labels.type))).toContain("view");
    expect(samples.filter((x) => x.name === "ps_events_in_total" && x.labels.type === "invalid").map((x) => x.value)).toEqual([1]);

    expect(types.get("ps_decisions_out_total")).toBe("counter");
    expect(samples.find((x) => x.name === "ps_decisions_out_total")!.labels).toHaveProperty("channel");

    expect(types.get("ps_dead_letters_total")).toBe("counter");
    expect(sum(samples, "ps_dead_letters_total", { reason: "not-json" })).toBe(1);

    expect(types.get("ps_consumer_lag")).toBe("gauge");
    expect(has(samples, "ps_consumer_lag")).toBe(true);
    expect(sum(samples, "ps_consumer_lag")).toBeGreaterThanOrEqual(0);

    expect(types.get("ps_decide_latency_seconds")).toBe("histogram");
    const buckets = samples.filter((x) => x.name === "ps_decide_latency_seconds_bucket");
    expect(buckets.length).toBeGreaterThan(5);
    const inf = buckets.find((b) => b.labels.le === "+Inf")!;
    expect(inf.value).toBe(sum(samples, "ps_decide_latency_seconds_count"));
    // Buckets are cumulative.
    const ordered = buckets.filter((b) => b.labels.le !== "+Inf").sort((a, b) => Number(a.labels.le) - Number(b.labels.le));
    for (let i = 1; i < ordered.length; i++) expect(ordered[i]!.value).toBeGreaterThanOrEqual(ordered[i - 1]!.value);

    expect(sum(samples, "ps_feature_cache_customers")).toBeGreaterThan(0);
    expect(sum(samples, "ps_feature_cache_customers")).toBeLessThanOrEqual(50);
    expect(sum(samples, "ps_feature_cache_evictions_total")).toBeGreaterThan(0);

    expect(types.get("ps_ws_clients")).toBe("gauge");
    expect(sum(samples, "ps_ws_clients")).toBe(1);
    expect(types.get("ps_ws_dropped_frames_total")).toBe("counter");
    expect(has(samples, "ps_ws_dropped_frames_total")).toBe(true);
    expect(has(samples, "ps_ws_dropped_clients_total")).toBe(true);
  });

  it("counts WebSocket clients as they come and go", async () => {
    const second = new WebSocket(new URL("/ws", sys.url!).href.replace("http", "ws"));
    await new Promise((r) => second.once("open", r));
    await waitFor("two clients", async () => sum((await scrape()).samples, "ps_ws_clients") === 2);
    second.close();
    await waitFor("one client again", async () => sum((await scrape()).samples, "ps_ws_clients") === 1);
  });
});
