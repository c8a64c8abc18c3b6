// The whole loop against a real nats-server: simulator → EVENTS → processor → DECISIONS, the
// posteriors move as outcomes come back, and each closed decision's outcome is stored in OUTCOMES.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { decodeDecision, isValidOutcome, type OutcomeRecord } from "../../src/events/index.ts";
import type { Running } from "../../src/system.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { startParts, testConfig, waitFor } from "../support/system.ts";

let server: NatsServerHandle;
let sys: Running;
let nc: NatsConnection;

beforeAll(async () => {
  server = await jetstreamServer();
  const cfg = testConfig(server.url, { simulator: { speed: "max" }, processor: { snapshotEveryMs: 200 } });
  sys = await startParts("all", cfg);
  nc = await connect({ servers: server.url });
});

afterAll(async () => {
  await nc?.close();
  await sys?.stop();
  await server?.stop();
});

describe("processor + simulator on a real JetStream", () => {
  it("publishes decisions with the contract's fields to decisions.<channel>", async () => {
    const seen: unknown[] = [];
    const sub = nc.subscribe("decisions.>", { callback: (_e, m) => void seen.push({ subject: m.subject, d: decodeDecision(m.data), msgId: m.headers?.get("Nats-Msg-Id") }) });
    await waitFor("20 decisions", () => seen.length >= 20);
    sub.unsubscribe();
    for (const s of seen.slice(0, 20) as { subject: string; d: ReturnType<typeof decodeDecision> }[]) {
      expect(s.d.ok).toBe(true);
      if (!s.d.ok) continue;
      const d = s.d.value;
      expect(s.subject).toBe(`decisions.${d.channel}`);
      for (const k of ["id", "ts", "customerId", "channel", "promotionId", "segment", "propensity", "eventId"]) expect(d).toHaveProperty(k);
      expect(d.propensity).toBeGreaterThan(0);
      expect(d.propensity).toBeLessThanOrEqual(1);
      expect(d.id).toBe(`d-${d.eventId}`);
    }
  });

  it("stores decisions in the DECISIONS stream, deduplicated by event id", async () => {
    const jsm = await jetstreamManager(nc);
    const si = await waitFor("decisions stored", async () => {
      const i = await jsm.streams.info("DECISIONS");
      return i.state.messages > 50 ? i : undefined;
    });
    expect(si.config.duplicate_window).toBeGreaterThan(0);
    const m = await jsm.streams.getMessage("DECISIONS", { seq: si.state.first_seq });
    expect(m?.header?.get("Nats-Msg-Id")).toMatch(/^d-/);
  });

  it("moves the posteriors as outcomes close decisions", async () => {
    const p = sys.processor!;
    await waitFor("outcomes", () => p.kpi.outcomes > 200, 40_000);
    const snap = p.snapshot();
    const moved = snap.arms.filter((a) => Math.abs(a.posterior.alpha + a.posterior.beta - 2) > 1);
    expect(moved.length).toBeGreaterThan(0);
    expect(snap.arms.some((a) => Math.abs(a.posterior.mean - 0.5) > 0.05)).toBe(true);
  });

  it("stores each closed decision's outcome in OUTCOMES on outcomes.<channel>, msg id o-<decision id>, valid against the contract", async () => {
    const jsm = await jetstreamManager(nc);
    const si = await waitFor("outcomes stored", async () => {
      const i = await jsm.streams.info("OUTCOMES");
      return i.state.messages >= 100 ? i : undefined;
    }, 40_000);
    expect(si.config.subjects).toEqual(["outcomes.>"]);
    expect(si.config.duplicate_window).toBeGreaterThan(0);
    const closedBy = new Set<string>();
    for (let seq = si.state.first_seq; seq < si.state.first_seq + 100; seq++) {
      const m = (await jsm.streams.getMessage("OUTCOMES", { seq }))!;
      const o = m.json<OutcomeRecord>();
      expect(isValidOutcome(o), JSON.stringify(o)).toBe(true);
      expect(m.subject).toBe(`outcomes.${o.channel}`);
      expect(m.header?.get("Nats-Msg-Id")).toBe(o.id);
      expect(o.id).toBe(`o-${o.decisionId}`);
      expect(o.decisionId).toBe(`d-${o.eventId}`);
      expect(o.closedAt).toBeGreaterThanOrEqual(o.openedAt);
      // A purchase earns the reward; anything else closes without one.
      expect(o.reward).toBe(o.closedBy === "redeemed" || o.closedBy === "purchased" ? 1 : 0);
      if (o.reward === 0) expect([o.revenueCents, o.marginCents, o.discountCents]).toEqual([0, 0, 0]);
      closedBy.add(o.closedBy);
    }
    expect(closedBy.has("redeemed") || closedBy.has("purchased")).toBe(true);
    // Counted as published, by channel and how they closed.
    const text = await (await fetch(new URL("/metrics", sys.url!))).text();
    expect(text).toMatch(/ps_outcomes_out_total\{channel="[a-z]+",closed_by="[a-z]+"\} [1-9]/);
  });
});
