// Stopping `npm run simulator -- replay` with a signal, as a terminal (Ctrl-C: SIGINT) or a service
// manager, `timeout` or a container's stop (SIGTERM) does: the replay stops during its wait for the next
// event's time, flushes what is in flight, prints its summary line saying it was interrupted, and exits
// 128 + the signal's number. SIGTERM used to be swallowed by the progress bar (cli-progress's
// gracefulExit stops the bar on it, and nothing else listened): the replay went on publishing.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { REPO_ROOT } from "../../src/config/index.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { waitFor } from "../support/system.ts";

let server: NatsServerHandle;
let nc: NatsConnection;
let dir: string;

beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
  dir = mkdtempSync(join(tmpdir(), "ps-replay-signals-"));
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await nc?.close();
  await server?.stop();
});

// Two product views an hour apart: at --speed 1 the replay publishes the first and waits an hour.
const call = (id: string, ts: string) => JSON.stringify({ type: "track", event: "Product Viewed", userId: "u-1", messageId: id, timestamp: ts, properties: { product_id: "sku-001", price: 30, category: "home" } });

describe("a signal during a replay", { timeout: 60_000 }, () => {
  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)("%s: stops the wait, prints the summary saying it was interrupted, exits %i", async (sig, status) => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete("EVENTS").catch(() => undefined);
    const file = join(dir, `calls-${sig}.jsonl`);
    writeFileSync(file, `${call(`m-${sig}-1`, "2026-03-02T08:00:00Z")}\n${call(`m-${sig}-2`, "2026-03-02T09:00:00Z")}\n`);
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "simulator", "replay", "--format", "segment", "--speed", "1", file], {
      cwd: REPO_ROOT,
      env: { ...process.env, NATS_URL: server.url, LOG_LEVEL: "silent" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    // The first view is stored: the replay now waits for the second's time.
    await waitFor("the first view in EVENTS", async () => ((await jsm.streams.info("EVENTS").catch(() => undefined))?.state.messages ?? 0) >= 1, 30_000, 100);
    child.kill(sig);
    const code = await exited;
    expect(code, `${out}\n${err}`).toBe(status);
    expect(out).toMatch(/^replay segment \(interrupted: 1 events read and not published\): 2 rows, .*published 1 events/m);
  });
});
