// The hub against a real nats-server: why it has no simulator status, and how fresh its figures are.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamServer, type NatsServerHandle } from "../../test/support/nats-server.ts";
import { testConfig, waitFor } from "../../test/support/system.ts";
import { createLogger } from "../log/index.ts";
import { Hub, simAbsence } from "./hub.ts";
import type { DashboardState } from "./protocol.ts";

let server: NatsServerHandle;
let nc: NatsConnection;

beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

describe("simAbsence", () => {
  it("tells a simulator that is not running (no responders) from one nothing answers for (a timeout, a closed connection)", async () => {
    const failure = async (c: NatsConnection, subject: string, timeout = 200) => c.request(subject, "", { timeout }).then(() => undefined, (err: unknown) => err);
    expect(simAbsence(await failure(nc, "nobody.listens"))).toBe("not-running");
    const sub = nc.subscribe("never.answers");
    expect(simAbsence(await failure(nc, "never.answers"))).toBe("no-answer");
    sub.unsubscribe();
    const closed = await connect({ servers: server.url });
    await closed.close();
    expect(simAbsence(await failure(closed, "nobody.listens"))).toBe("no-answer");
  });
});

describe("Hub frames", () => {
  it("say why there is no simulator status, and that no KPI snapshot came yet, with the interval to judge one by", async () => {
    const cfg = testConfig(server.url, { processor: { snapshotEveryMs: 300 } });
    const hub = new Hub(nc, cfg, createLogger("silent"));
    hub.start();
    try {
      const state = await waitFor("the simulator given up on", () => {
        const s = JSON.parse(hub.snapshotFrame()) as { state: DashboardState };
        return s.state.simAbsent ? s.state : undefined;
      }, 10_000, 200);
      expect(state).toMatchObject({ sim: null, simAbsent: "not-running", kpi: null, kpiAgeMs: null, kpiEveryMs: 300 });
      expect(JSON.parse(hub.deltaFrame())).toMatchObject({ type: "delta", simAbsent: "not-running", kpiAgeMs: null, kpiEveryMs: 300 });
    } finally {
      hub.stop();
    }
  });
});

describe("Hub.shopNowMs", () => {
  it("goes on from the simulated shop's clock while its simulator does not answer, not from the wall clock", async () => {
    const cfg = testConfig(server.url, {});
    const simTimeMs = Date.parse("2026-03-02T08:00:00Z");
    const status = { running: true, speed: 1, scenario: "steady", seed: 7, simTimeMs, ratePerSec: 0, published: 0, counts: {}, scenarios: ["steady"] };
    const sim = nc.subscribe("sim.control", {
      callback: (_e, m) => {
        m.respond(JSON.stringify({ ok: true, status }));
      },
    });
    const hub = new Hub(nc, cfg, createLogger("silent"));
    hub.start();
    try {
      await waitFor("the simulator's status", () => Math.abs(hub.shopNowMs() - simTimeMs) < 60_000, 10_000, 100);
      sim.unsubscribe();
      await waitFor("the simulator given up on", () => (JSON.parse(hub.snapshotFrame()) as { state: DashboardState }).state.simAbsent !== null, 10_000, 200);
      expect(Math.abs(hub.shopNowMs() - simTimeMs)).toBeLessThan(60_000);
      expect(Math.abs(hub.shopNowMs() - Date.now())).toBeGreaterThan(86_400_000);
    } finally {
      hub.stop();
    }
  });
});
