// The server's HTTP API on the running system (issue #6). /metrics: a Prometheus scrape names every
// figure the issue asks for, and the figures move with what the system does: events in, decisions out,
// dead letters by reason, consumer lag, the decide latency histogram, feature cache size and evictions,
// WebSocket clients and dropped frames. Then /health and the JSON API.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { WebSocket } from "ws";
import type { Config } from "../../src/config/index.ts";
import { DecisionSchema, EventSchema, isValidDecision, OutcomeSchema, type Decision } from "../../src/events/index.ts";
import type { Running } from "../../src/system.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { startParts, testConfig, waitFor } from "../support/system.ts";

let nats: NatsServerHandle;
let cfg: Readonly<Config>;
let sys: Running;
let nc: NatsConnection;
let ws: WebSocket;

beforeAll(async () => {
  nats = await jetstreamServer();
  // A feature cache far smaller than the simulated shoppers, so it must evict.
  cfg = testConfig(nats.url, { simulator: { speed: 30 }, processor: { snapshotEveryMs: 250 }, features: { maxCustomers: 50 } });
  sys = await startParts("all", cfg);
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

async function json<T>(path: string): Promise<{ status: number; body: T }> {
  const r = await fetch(new URL(path, sys.url!));
  expect(r.headers.get("content-type")).toMatch(/^application\/json/);
  return { status: r.status, body: (await r.json()) as T };
}

describe("/health", () => {
  it("is ready once NATS, the streams, the consumer and a reporting processor are up", async () => {
    const h = await waitFor("health ok", async () => {
      const r = await json<{ status: string; checks: Record<string, boolean> }>("/health");
      return r.status === 200 ? r.body : undefined;
    });
    expect(["ok", "degraded"]).toContain(h.status);
    expect(h.checks).toEqual({ nats: true, streams: true, consumer: true, processor: true });
  });
});

describe("JSON API", () => {
  it("lists every configured promotion and control with its live figures", async () => {
    const { status, body } = await json<{ promotions: { id: string; posterior: { mean: number } }[]; configured: { id: string }[] }>("/api/promotions");
    expect(status).toBe(200);
    expect(body.configured.map((p) => p.id)).toEqual(cfg.promotions.map((p) => p.id));
    expect(body.promotions.map((p) => p.id).sort()).toEqual([...cfg.promotions.map((p) => p.id), "control"].sort());
    for (const p of body.promotions) expect(p.posterior.mean).toBeGreaterThan(0);
  });

  it("serves the newest decisions, valid against the contract, newest first, within the feed's bound", async () => {
    const { status, body } = await json<{ decisions: Decision[] }>("/api/decisions?limit=5");
    expect(status).toBe(200);
    expect(body.decisions).toHaveLength(5);
    for (const d of body.decisions) expect(isValidDecision(d)).toBe(true);
    for (let i = 1; i < body.decisions.length; i++) expect(body.decisions[i - 1]!.ts).toBeGreaterThanOrEqual(body.decisions[i]!.ts);
    const all = await json<{ decisions: Decision[] }>("/api/decisions?limit=100000");
    expect(all.body.decisions.length).toBeLessThanOrEqual(cfg.server.feedSize);
    for (const bad of ["0", "-1", "abc", "1.5"]) expect((await json(`/api/decisions?limit=${bad}`)).status, bad).toBe(400);
  });

  it("serves the decision, event and outcome JSON Schemas", async () => {
    const d = await json<Record<string, unknown>>("/api/schema/decision.json");
    expect(d.body).toEqual(JSON.parse(JSON.stringify(DecisionSchema)));
    expect(d.body.$id).toMatch(/decision\.json$/);
    const e = await json<Record<string, unknown>>("/api/schema/event.json");
    expect(e.body).toEqual(JSON.parse(JSON.stringify(EventSchema)));
    const o = await json<Record<string, unknown>>("/api/schema/outcome.json");
    expect(o.status).toBe(200);
    expect(o.body).toEqual(JSON.parse(JSON.stringify(OutcomeSchema)));
    expect(o.body.$id).toMatch(/outcome\.json$/);
  });

  it("serves what a dashboard gets on connect, and relays simulator commands", async () => {
    const s = await waitFor("the simulator's status in the snapshot", async () => {
      const r = await json<{ kpi: { decisions: number } | null; history: unknown[]; sim: { scenario: string } | null; marks: unknown[] }>("/api/snapshot");
      return r.body.sim ? r : undefined;
    });
    expect(s.body.kpi!.decisions).toBeGreaterThan(0);
    expect(s.body.history.length).toBeGreaterThan(0);
    expect(s.body.sim!.scenario).toBe("steady");
    const r = await fetch(new URL("/api/sim", sys.url!), { method: "POST", body: JSON.stringify({ cmd: "scenario", value: "taste-shift" }) });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { status: { scenario: string } }).status.scenario).toBe("taste-shift");
    const after = await json<{ marks: { kind: string; label: string }[] }>("/api/snapshot");
    expect(after.body.marks).toEqual([expect.objectContaining({ kind: "scenario", label: "taste-shift" })]);
    const refused = await fetch(new URL("/api/sim", sys.url!), { method: "POST", body: JSON.stringify({ cmd: "speed", value: 1e9 }) });
    expect(((await refused.json()) as { ok: boolean; error: string }).error).toMatch(/speed must be/);
  });
});
