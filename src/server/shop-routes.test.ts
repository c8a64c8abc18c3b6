// What the shop page (/shop, issue 22 item 5) needs of the server, against a real nats-server: the page
// and its bundle, GET /api/catalog relayed from the simulator's {"cmd":"catalog"} (and a clear 503 when
// no simulator answers), GET /api/clock, and the outcomes the hub reads from outcomes.>: GET /api/outcomes,
// joined to the feed's decisions in the snapshot and in deltas. Bad input never breaks it.
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { Config } from "../config/index.ts";
import type { OutcomeRecord } from "../events/index.ts";
import type { Running } from "../system.ts";
import { engineDecision, engineOutcome } from "../../test/support/decision.ts";
import { jetstreamServer, type NatsServerHandle } from "../../test/support/nats-server.ts";
import { startParts, testConfig, waitFor } from "../../test/support/system.ts";
import type { CatalogItemView, DashboardState, OutcomeBrief, ServerFrame } from "./protocol.ts";

const TOKEN = "shop-routes-token-0123456789";

let nats: NatsServerHandle;
let cfg: Readonly<Config>;
let server: Running;
let simulator: Running | undefined;
let nc: NatsConnection;
let base: string;
const auth = { authorization: `Bearer ${TOKEN}` };

beforeAll(async () => {
  nats = await jetstreamServer();
  cfg = testConfig(nats.url, { server: { token: TOKEN }, simulator: { speed: 1 } });
  server = await startParts("server", cfg);
  base = server.url!.replace(/\/$/, "");
  nc = await connect({ servers: nats.url });
});

afterAll(async () => {
  await nc?.close();
  await simulator?.stop();
  await server?.stop();
  await nats?.stop();
});

async function get(path: string, headers: Record<string, string> = auth): Promise<{ status: number; body: Record<string, unknown> & { error?: string } }> {
  const r = await fetch(base + path, { headers });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

const publish = (subject: string, value: unknown) => nc.publish(subject, typeof value === "string" ? value : JSON.stringify(value));

describe("the shop's page", () => {
  it("is served at /shop with its own bundle, without a token like the dashboard; its API calls need one", async () => {
    const page = await fetch(`${base}/shop`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toContain("<ps-shop>");
    expect(html).toContain('src="/shop.js"');
    const js = await fetch(`${base}/shop.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toMatch(/javascript/);
    const code = await js.text();
    // The shop's own bundle: its component, not the dashboard's charts.
    expect(code).toContain("ps-shop");
    expect(code).not.toContain("ps-chart");
    for (const path of ["/api/catalog", "/api/clock", "/api/outcomes"]) expect((await get(path, {})).status, path).toBe(401);
  });
});

// A body nested 5,000 levels deep was relayed as it came: JSON.stringify overflowed the stack, and the
// answer was 503 "simulator did not answer: Maximum call stack size exceeded", blaming the simulator
// for a request the server could not send. A bad body is a 400 naming the problem, as on other routes.
describe("POST /api/sim with a deeply nested body", () => {
  const deep = "[".repeat(5000) + "]".repeat(5000);
  it.each([
    ["the body", deep, /body must be a JSON object/],
    ["the command", `{"cmd":${deep}}`, /cmd must be a string/],
    ["the value", `{"cmd":"speed","value":${deep}}`, /value must be a number or a string/],
  ])("answers 400 naming the problem when %s is nested", async (_what, body, says) => {
    const r = await fetch(`${base}/api/sim`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body });
    const answer = (await r.json()) as { error: string };
    expect(r.status).toBe(400);
    expect(answer.error).toMatch(says);
  });
});

describe("GET /api/catalog", () => {
  it("answers 503 with the reason when no simulator answers (a real shop has its own catalog)", async () => {
    const r = await get("/api/catalog");
    expect(r.status).toBe(503);
    expect(r.body.error).toMatch(/no simulator answered on sim\.control/);
    expect(r.body.error).toMatch(/a real shop serves its own/);
  });

  it("relays the simulator's catalog: id, name, category, price in cents and stock now, no cost", async () => {
    simulator = await startParts("simulator", cfg);
    const r = await get("/api/catalog");
    expect(r.status).toBe(200);
    const products = r.body.products as CatalogItemView[];
    expect(products).toHaveLength(cfg.simulator.products);
    const world = simulator.simulator!.world.products;
    expect(products[0]).toEqual({ id: world[0]!.id, name: world[0]!.name, category: world[0]!.category, priceCents: world[0]!.priceCents, stock: world[0]!.stock });
    for (const p of products) expect(Object.keys(p).sort()).toEqual(["category", "id", "name", "priceCents", "stock"]);
  });

  it("the simulator answers {\"cmd\":\"catalog\"} on sim.control, with its status", async () => {
    const reply = (await nc.request("sim.control", JSON.stringify({ cmd: "catalog" }), { timeout: 2_000 })).json<{ ok: boolean; catalog: CatalogItemView[]; status: { scenario: string } }>();
    expect(reply.ok).toBe(true);
    expect(reply.catalog).toHaveLength(cfg.simulator.products);
    expect(reply.status.scenario).toBe(cfg.simulator.scenario);
  });
});

describe("GET /api/clock", () => {
  it("answers the shop's time as an integer: the simulator's clock while one runs", async () => {
    await waitFor("the server to have the simulator's status", () => server.server!.hub.sim !== null);
    const { status, body } = await get("/api/clock");
    expect(status).toBe(200);
    expect(Number.isInteger(body.nowMs)).toBe(true);
    const sim = simulator!.simulator!.status().simTimeMs;
    // At 1× the hub's extrapolation and the simulator's own clock are within a second or two of each other.
    expect(Math.abs((body.nowMs as number) - sim)).toBeLessThan(5_000);
  });
});

describe("outcomes", () => {
  it("GET /api/outcomes refuses a limit that is not a positive integer", async () => {
    for (const q of ["0", "-1", "abc", "1.5"]) expect((await get(`/api/outcomes?limit=${q}`)).status, q).toBe(400);
    expect((await get("/api/outcomes?limit=5")).status).toBe(200);
  });

  it("lists each outcome once (a republish is dropped), newest first, and ignores what is not an outcome", async () => {
    const a = engineOutcome("shop-routes-a");
    const b = engineOutcome("shop-routes-b");
    publish("outcomes.email", a);
    publish("outcomes.email", "not json {");
    publish("outcomes.email", { ...b, closedBy: "bought" });
    publish("outcomes.email", a);
    publish("outcomes.email", b);
    const list = await waitFor("the two outcomes", async () => {
      const o = (await get("/api/outcomes?limit=50")).body.outcomes as OutcomeRecord[];
      return o.length >= 2 ? o : undefined;
    });
    expect(list.map((o) => o.id)).toEqual([b.id, a.id]);
    expect(list[1]).toEqual(a);
    expect((await get("/api/outcomes?limit=1")).body.outcomes).toHaveLength(1);
  });

  it("joins an outcome to its decision in the feed: in the snapshot, and in a delta when it closes while a page watches", async () => {
    // Its outcome came before the decision (above): the snapshot carries it once the decision comes.
    const early = engineDecision("shop-routes-a");
    publish("decisions.email", early);
    await waitFor("the decision in the snapshot's outcomes", async () => {
      const s = (await get("/api/snapshot")).body as unknown as DashboardState;
      return s.outcomes?.some((o) => o.decisionId === early.id);
    });
    // A page watches; a decision comes, then its outcome: a delta carries it.
    const ws = new WebSocket(`${base.replace("http", "ws")}/ws?token=${TOKEN}`);
    const briefs: OutcomeBrief[] = [];
    ws.on("message", (data) => {
      const f = JSON.parse(String(data)) as ServerFrame;
      if (f.type === "delta") briefs.push(...(f.outcomes ?? []));
    });
    await new Promise((r) => ws.once("open", r));
    const later = engineDecision("shop-routes-c");
    publish("decisions.email", later);
    await waitFor("the decision in the feed", async () => ((await get("/api/decisions?limit=5")).body.decisions as { id: string }[]).some((d) => d.id === later.id));
    const outcome = engineOutcome("shop-routes-c");
    publish("outcomes.email", outcome);
    const brief = await waitFor("the outcome in a delta", () => briefs.find((b) => b.decisionId === later.id));
    expect(brief).toEqual({ decisionId: later.id, closedBy: outcome.closedBy, closedAt: outcome.closedAt, revenueCents: outcome.revenueCents, discountCents: outcome.discountCents, marginCents: outcome.marginCents });
    // An outcome whose decision is not in the feed goes to /api/outcomes, not to the pages.
    const stray = engineOutcome("shop-routes-stray");
    publish("outcomes.email", stray);
    await waitFor("the stray outcome listed", async () => ((await get("/api/outcomes?limit=5")).body.outcomes as OutcomeRecord[]).some((o) => o.id === stray.id));
    await new Promise((r) => setTimeout(r, 3 * cfg.server.deltaEveryMs));
    expect(briefs.some((b) => b.decisionId === stray.decisionId)).toBe(false);
    ws.close();
  });
});
