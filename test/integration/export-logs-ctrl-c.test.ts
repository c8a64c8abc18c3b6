// Ctrl-C during `npm run eval -- --export-logs FILE` against a real nats-server: the export stops at
// once, closes FILE with every line whole (each one a record that --logs-file reads), says on stderr that
// FILE is incomplete and how much it holds, and exits 130. Before, the process died on the signal with
// no word, leaving a file that looked like a whole export (and a later --logs-file on it said "run the
// processor for a while first").
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { loadConfig } from "../../src/config/index.ts";
import type { ShopEvent } from "../../src/events/index.ts";
import { provision } from "../../src/io/nats/index.ts";
import { createLogger } from "../../src/log/index.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { publishEvents } from "../support/streams.ts";

let server: NatsServerHandle;
let nc: NatsConnection;
let dir: string;
// More than the 100,000 messages after which the export first reports progress: the signal is sent then.
const EVENTS = 160_000;

beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
  await provision(nc, loadConfig({ env: {} }), createLogger("silent"));
  const t0 = Date.parse("2026-03-02T08:00:00Z");
  const events: ShopEvent[] = Array.from({ length: EVENTS }, (_, i) => ({ type: "view", id: `v-${i}`, ts: t0 + i, customerId: `c-${i % 500}`, productId: "sku-001" }));
  await publishEvents(nc, events);
  dir = mkdtempSync(join(tmpdir(), "ps-export-ctrl-c-"));
}, 120_000);
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await nc?.close();
  await server?.stop();
});

describe("Ctrl-C (or SIGTERM) during --export-logs", () => {
  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)("%s: stops, closes the file with whole lines, says it is incomplete and exits %i", async (sig, status) => {
    const file = join(dir, `shop-${sig}.jsonl`);
    const child = spawn(process.execPath, ["--import", "tsx", "src/eval/cli.ts", "--export-logs", file], { env: { ...process.env, NATS_URL: server.url }, stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    let signalled = 0;
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
      if (!signalled && /EVENTS: 100000 messages written/.test(err)) {
        signalled = performance.now();
        child.kill(sig);
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    expect(signalled, err).toBeGreaterThan(0);
    expect(performance.now() - signalled).toBeLessThan(5_000);
    expect(code, err).toBe(status);
    const m = new RegExp(`interrupted: .*shop-${sig}\\.jsonl holds only what was read before \\((\\d+) events, 0 decisions, 0 outcomes\\): it is not the whole log`).exec(err);
    expect(m, err).not.toBeNull();
    const lines = readFileSync(file, "utf8").split("\n");
    expect(lines.pop()).toBe("");
    expect(lines.length).toBe(Number(m![1]));
    expect(lines.length).toBeGreaterThanOrEqual(100_000);
    expect(lines.length).toBeLessThan(EVENTS);
    for (const l of lines) expect(JSON.parse(l).stream).toBe("EVENTS");
  });
});
