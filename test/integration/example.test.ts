// A plain third-party client (the classic `nats` package, examples/subscribe-decisions.mjs and
// examples/subscribe-outcomes.mjs) reads our decisions and outcomes on a running system, through
// JetStream: one published again after a crash (same msg id) reaches a core subscription twice but the
// stream, and so the example, once.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, headers } from "@nats-io/transport-node";
import { REPO_ROOT } from "../../src/config/index.ts";
import { provision } from "../../src/io/nats/index.ts";
import { createLogger } from "../../src/log/index.ts";
import type { Running } from "../../src/system.ts";
import { isValidOutcome } from "../../src/events/index.ts";
import { engineDecision, engineOutcome } from "../support/decision.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { startParts, testConfig } from "../support/system.ts";

function example(url: string, args: string[], script = "subscribe-decisions.mjs"): Promise<{ code: number | null; lines: Record<string, unknown>[]; stderr: string }> {
  const child = spawn(process.execPath, [join(REPO_ROOT, "examples", script), ...args], {
    env: { ...process.env, NATS_URL: url },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let stderr = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  return new Promise((res) =>
    child.on("exit", (code) =>
      res({
        code,
        stderr,
        lines: out
          .trim()
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>),
      }),
    ),
  );
}

describe("examples/subscribe-decisions.mjs on a running system", () => {
  let server: NatsServerHandle;
  let sys: Running;
  beforeAll(async () => {
    server = await jetstreamServer();
    // Short web windows (and lateness), so decisions also close by expiring within seconds at 20×.
    sys = await startParts("all", testConfig(server.url, { simulator: { speed: 20 }, attribution: { windowSecByChannel: { web: 60, email: 172800, sms: 86400, push: 43200 } }, features: { allowedLatenessSec: 30 } }));
  });
  afterAll(async () => {
    await sys?.stop();
    await server?.stop();
  });

  it("prints decisions with the contract's fields", async () => {
    const { code, lines } = await example(server.url, ["--count", "5"]);
    expect(code).toBe(0);
    expect(lines).toHaveLength(5);
    for (const d of lines) {
      for (const k of ["id", "ts", "customerId", "channel", "promotionId", "segment", "propensity", "eventId", "seq"]) expect(d[k], k).toBeDefined();
      expect(d.subject).toBe(`decisions.${d.channel}`);
      expect(typeof d.propensity).toBe("number");
    }
  });

  it("with a durable consumer, resumes after the last decision it acknowledged, and says --from-start does not move it", async () => {
    const first = await example(server.url, ["--count", "3", "--from-start", "--durable", "example-reader"]);
    const second = await example(server.url, ["--count", "3", "--from-start", "--durable", "example-reader"]);
    expect(first.stderr).toContain("from the start");
    expect(second.stderr).toContain("--from-start applies when the durable consumer is made; example-reader exists and resumes after its last acknowledged decision");
    expect(second.stderr).toContain("(durable consumer example-reader, resuming after its last acknowledged decision)");
    expect([first.code, second.code]).toEqual([0, 0]);
    expect(first.lines.map((d) => d.seq)).toEqual([1, 2, 3]);
    // After what it acknowledged (decisions it had pulled but not shown come again later, after
    // the consumer's ack wait: at least once).
    expect(second.lines).toHaveLength(3);
    for (const d of second.lines) expect(d.seq as number).toBeGreaterThan(3);
  });

  it("subscribe-outcomes.mjs prints whole outcome records, valid against the contract", async () => {
    const { code, lines } = await example(server.url, ["--count", "5", "--from-start"], "subscribe-outcomes.mjs");
    expect(code).toBe(0);
    expect(lines.map((o) => o.seq)).toEqual([1, 2, 3, 4, 5]);
    for (const { subject, seq: _seq, ...o } of lines) {
      expect(isValidOutcome(o), JSON.stringify(o)).toBe(true);
      expect(subject).toBe(`outcomes.${o.channel as string}`);
      expect(o.id).toBe(`o-${o.decisionId as string}`);
    }
  });

  it("subscribe-outcomes.mjs with a durable consumer resumes after the last outcome it acknowledged", async () => {
    const first = await example(server.url, ["--count", "3", "--from-start", "--durable", "outcome-reader"], "subscribe-outcomes.mjs");
    const second = await example(server.url, ["--count", "3", "--durable", "outcome-reader"], "subscribe-outcomes.mjs");
    expect(second.stderr).toContain("(durable consumer outcome-reader, resuming after its last acknowledged outcome)");
    expect([first.code, second.code]).toEqual([0, 0]);
    expect(first.lines.map((o) => o.seq)).toEqual([1, 2, 3]);
    expect(second.lines).toHaveLength(3);
    for (const o of second.lines) expect(o.seq as number).toBeGreaterThan(3);
  });
});

// As the processor does: msg id = the record's id; the second one for e1 is the republish after a restart.
const republished = [
  { what: "a decision", stream: "decisions", record: engineDecision, script: "subscribe-decisions.mjs", ids: ["d-e1", "d-e1", "d-e2"] },
  { what: "an outcome", stream: "outcomes", record: engineOutcome, script: "subscribe-outcomes.mjs", ids: ["o-d-e1", "o-d-e1", "o-d-e2"] },
] as const;

for (const r of republished)
  describe(`${r.what} published again after a crash`, () => {
    it("reaches a core subscription twice, the example once", async () => {
      const server = await jetstreamServer();
      const cfg = testConfig(server.url);
      const nc = await connect({ servers: server.url });
      try {
        await provision(nc, cfg, createLogger("silent"));
        const core: string[] = [];
        const sub = nc.subscribe(`${r.stream}.>`, {
          callback: (_err, m) => {
            core.push(m.json<{ id: string }>().id);
          },
        });
        for (const eventId of ["e1", "e1", "e2"]) {
          const rec = r.record(eventId);
          const h = headers();
          h.set("Nats-Msg-Id", rec.id);
          await nc.request(`${r.stream}.${rec.channel}`, new TextEncoder().encode(JSON.stringify(rec)), { headers: h, timeout: 5_000 });
        }
        await nc.flush();
        const { code, lines } = await example(server.url, ["--count", "2", "--from-start"], r.script);
        expect(code).toBe(0);
        expect(lines.map((x) => x.id)).toEqual([r.ids[0], r.ids[2]]);
        expect(core).toEqual(r.ids);
        sub.unsubscribe();
      } finally {
        await nc.close();
        await server.stop();
      }
    });
  });
