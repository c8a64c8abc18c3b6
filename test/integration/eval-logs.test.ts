// `npm run eval -- --export-logs` and `--logs` against a real nats-server, as a person runs them: in
// a process of their own (a connection left open would keep it from exiting).
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { loadConfig } from "../../src/config/index.ts";
import type { ShopEvent } from "../../src/events/index.ts";
import { provision } from "../../src/io/nats/index.ts";
import { createLogger } from "../../src/log/index.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { publishEvents } from "../support/streams.ts";

const run = promisify(execFile);
let server: NatsServerHandle;
let nc: NatsConnection;
let dir: string;
const EVENTS = 20_000;

beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
  await provision(nc, loadConfig({ env: {} }), createLogger("silent"));
  const t0 = Date.parse("2026-03-02T08:00:00Z");
  // Events only (no processor): enough lines that the file's buffer fills many times.
  const events: ShopEvent[] = Array.from({ length: EVENTS }, (_, i) => ({ type: "view", id: `v-${i}`, ts: t0 + i, customerId: `c-${i % 500}`, sessionId: `s-${i}`, productId: "sku-001", category: "home", priceCents: 3_000 }));
  await publishEvents(nc, events);
  dir = mkdtempSync(join(tmpdir(), "ps-eval-logs-"));
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await nc?.close();
  await server?.stop();
});

const evalCli = (args: string[]) =>
  run(process.execPath, ["--import", "tsx", "src/eval/cli.ts", ...args], { env: { ...process.env, NATS_URL: server.url }, timeout: 60_000 }).then(
    (r) => ({ code: 0, err: r.stderr }),
    (e: { code?: number; killed?: boolean; stderr?: string }) => ({ code: e.killed ? "timed out" : e.code, err: e.stderr ?? "" }),
  );

describe("npm run eval against NATS", { timeout: 90_000 }, () => {
  it("--export-logs writes every message, one line each, and exits", async () => {
    const file = join(dir, "all.jsonl");
    const r = await evalCli(["--export-logs", file, "--quiet"]);
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(file, "utf8").trimEnd().split("\n")).toHaveLength(EVENTS);
  });

  it("--export-logs to a file it cannot write says so and exits 1, no unhandled error", async () => {
    const r = await evalCli(["--export-logs", join(dir, "no-such-dir", "x.jsonl"), "--quiet"]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot write .*x\.jsonl: ENOENT/);
    expect(r.err).not.toMatch(/Unhandled 'error' event/);
  });

  it("--logs with a stream that is not there says so and exits (it hung with its connection open)", async () => {
    writeFileSync(join(dir, "other.json"), JSON.stringify({ streams: { events: { name: "NOPE_EVENTS" } } }));
    writeFileSync(join(dir, "cand.json"), JSON.stringify({ bandit: { holdoutShare: 0.3 } }));
    const r = await evalCli(["--logs", "--config", join(dir, "other.json"), "--candidate", join(dir, "cand.json"), "--out", join(dir, "out"), "--quiet"]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/stream NOPE_EVENTS cannot be read/);
  });
});
