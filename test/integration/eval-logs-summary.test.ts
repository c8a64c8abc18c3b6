// `npm run eval -- --logs` against NATS stores a summary for the dashboard in the state bucket after
// writing report.json and report.html. When that store fails (the bucket is not there: NATS of another
// deployment, a --config naming another kv.stateBucket; or credentials that may read the streams and not
// write the bucket), the run threw the client's error out of main() with its stack, though the report
// was written: it now says what it could not store, where, and that the report is written (exit 1).
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.ts";
import { main } from "../../src/eval/cli.ts";
import { simLog } from "../../src/eval/sim.ts";
import { encodeEvent, Subjects } from "../../src/events/index.ts";
import { provision } from "../../src/io/nats/index.ts";
import { createLogger } from "../../src/log/index.ts";
import { loadScenario } from "../../simulator/world/index.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";

// Two-minute attribution windows: the log's decisions close within its 8-minute tail.
const WINDOWS = { attribution: { windowSecByChannel: { web: 120, email: 120, sms: 120, push: 120 } } };
let server: NatsServerHandle;
let nc: NatsConnection;
let dir: string;
const cfg = loadConfig({ env: {}, overrides: WINDOWS });

beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
  await provision(nc, cfg, createLogger("silent"));
  dir = mkdtempSync(join(tmpdir(), "ps-eval-summary-"));
  writeFileSync(join(dir, "logged.json"), JSON.stringify(WINDOWS));
  writeFileSync(join(dir, "holdout-30.json"), JSON.stringify({ bandit: { holdoutShare: 0.3 } }));
  // A simulated shop's streams, as the processor leaves them.
  const log = simLog(cfg, loadScenario("steady"), 7, 150, 8 * 60_000);
  const js = jetstream(nc);
  const s = new Subjects();
  const enc = new TextEncoder();
  for (const e of log.events) if (e.type !== "promotion" && e.type !== "mode" && e.type !== "stock" && e.type !== "allowance" && e.type !== "sync") await js.publish(s.forEvent(e, cfg.partitions), encodeEvent(e), { msgID: e.id });
  for (const d of log.decisions.values()) await js.publish(s.decision(d.channel), enc.encode(JSON.stringify(d)), { msgID: d.id });
  for (const o of log.outcomes.values()) await js.publish(s.outcome(o.channel), enc.encode(JSON.stringify(o)), { msgID: o.id });
  // The state bucket is not there.
  await (await jetstreamManager(nc)).streams.delete(`KV_${cfg.kv.stateBucket}`);
}, 120_000);
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await nc?.close();
  await server?.stop();
});

describe("npm run eval -- --logs: the dashboard's summary cannot be stored", { timeout: 120_000 }, () => {
  it("writes the report, then says the summary was not stored and where, exit 1, no stack", async () => {
    const lines: string[] = [];
    const before = process.env.NATS_URL;
    process.env.NATS_URL = server.url;
    let code: number | undefined;
    let thrown: unknown;
    try {
      code = await main(["--logs", "--candidate", join(dir, "holdout-30.json"), "--config", join(dir, "logged.json"), "--out", join(dir, "out"), "--quiet"], { err: (l) => lines.push(l) });
    } catch (err) {
      thrown = err;
    } finally {
      if (before === undefined) delete process.env.NATS_URL;
      else process.env.NATS_URL = before;
    }
    expect(thrown).toBeUndefined();
    expect(code, lines.join("\n")).toBe(1);
    expect(existsSync(join(dir, "out", "report.json"))).toBe(true);
    expect(lines.join("\n")).toMatch(new RegExp(`could not store the what-if summary in ${cfg.kv.stateBucket}`));
  });
});
