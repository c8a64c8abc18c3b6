// The README's first command: `npm start` (scripts/start.mjs) starts an embedded nats-server with its
// store on disk, provisions, runs every part, prints the dashboard URL, and stops cleanly on Ctrl-C.
// A second start on the same store changes nothing and keeps the data.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { REPO_ROOT } from "../../src/config/index.ts";
import { jetstreamServer } from "../support/nats-server.ts";
import { freePort } from "../support/ports.ts";
import { waitFor } from "../support/system.ts";

const store = mkdtempSync(join(tmpdir(), "ps-start-"));
afterAll(() => rmSync(store, { recursive: true, force: true }));

interface Started {
  child: ChildProcess;
  out: () => string;
  url: string;
}

async function start(natsPort: number, httpPort: number): Promise<Started> {
  const child = spawn(process.execPath, [join(REPO_ROOT, "scripts/start.mjs")], {
    cwd: REPO_ROOT,
    env: { ...process.env, NATS_PORT: String(natsPort), PORT: String(httpPort), NATS_STORE_DIR: store, NATS_URL: "", SIM_SPEED: "20", LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (out += b.toString()));
  const url = await waitFor("the dashboard URL", () => /dashboard: (http:\/\/\S+)/.exec(out)?.[1], 60_000);
  return { child, out: () => out, url };
}

async function stop(s: Started): Promise<number | null> {
  const exited = new Promise<number | null>((res) => s.child.on("exit", (code) => res(code)));
  s.child.kill("SIGINT");
  return exited;
}

async function streamMessages(natsPort: number): Promise<number> {
  const nc = await connect({ servers: `nats://127.0.0.1:${natsPort}` });
  try {
    const jsm = await jetstreamManager(nc);
    return (await jsm.streams.info("EVENTS")).state.messages;
  } finally {
    await nc.close();
  }
}

async function json(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(url);
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

describe("npm start", () => {
  let messagesAfterFirst = 0;
  let natsPort = 0;
  let httpPort = 0;

  it("starts everything, reports healthy, and stops cleanly on SIGINT", async () => {
    natsPort = await freePort();
    httpPort = await freePort();
    const s = await start(natsPort, httpPort);
    expect(s.url).toBe(`http://127.0.0.1:${httpPort}/`);
    const health = await waitFor("healthy", async () => {
      const h = await json(`${s.url}health`);
      return h.status === 200 ? h : undefined;
    }, 30_000);
    expect(health.body.checks).toEqual({ nats: true, streams: true, consumer: true, processor: true });
    const snap = await waitFor("decisions", async () => {
      const r = await json(`${s.url}api/snapshot`);
      const k = r.body.kpi as { decisions: number; eventsIn: number } | null;
      return k && k.decisions > 0 ? k : undefined;
    }, 30_000);
    expect(snap.eventsIn).toBeGreaterThan(0);
    expect(s.out()).toContain("JetStream provisioned");
    expect(await stop(s)).toBe(0);
    expect(s.out()).toContain('"msg":"processor stopped"');
    expect(s.out()).toContain('"msg":"stopped"');
  });

  it("a second start on the same store creates nothing and keeps the events", async () => {
    messagesAfterFirst = await (async () => {
      // Read the store the first run left, with a bare server on it.
      const { startNatsServer } = await import("../../src/io/nats/index.ts");
      const srv = await startNatsServer({ port: natsPort, storeDir: store });
      try {
        return await streamMessages(natsPort);
      } finally {
        await srv.stop();
      }
    })();
    expect(messagesAfterFirst).toBeGreaterThan(0);
    const s = await start(natsPort, httpPort);
    expect(await streamMessages(natsPort)).toBeGreaterThanOrEqual(messagesAfterFirst);
    const line = s.out().split("\n").find((l) => l.includes("JetStream provisioned"))!;
    const rec = JSON.parse(line.slice(line.indexOf("{"))) as { created: string[]; existing: string[] };
    expect(rec.created).toEqual([]);
    expect(rec.existing).toEqual(expect.arrayContaining(["EVENTS", "DECISIONS", "OUTCOMES", "DEADLETTER"]));
    const r = await fetch(`${s.url}health`);
    await r.text();
    expect(await stop(s)).toBe(0);
    // The simulator resumed after the newest stored event instead of starting over.
    expect(s.out()).toContain("simulator resumes after the newest event in the stream");
  });
});

/** This process's environment without NATS_URL (set, even empty, it wins over CONFIG_FILE's nats.url). */
function withoutNatsUrl(): NodeJS.ProcessEnv {
  const { NATS_URL: _url, ...env } = process.env;
  return env;
}

// apt-get puts nats-server on the PATH, never at a path NATS_SERVER_BIN names: as root such a start ran
// apt-get update and install, said "nats-server installed", and failed after without naming NATS_SERVER_BIN.
describe("npm start with NATS_SERVER_BIN naming a program that is not there", () => {
  it("stops at once naming NATS_SERVER_BIN and the fix, without running apt-get", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ps-start-bin-"));
    try {
      // An apt-get that only says it was run (the real one would change this machine).
      const ran = join(dir, "apt-get-ran");
      writeFileSync(join(dir, "apt-get"), `#!/bin/sh\necho "$@" >> ${ran}\n`, { mode: 0o755 });
      writeFileSync(join(dir, "sudo"), `#!/bin/sh\n[ "$1" = -n ] && shift\nexec "$@"\n`, { mode: 0o755 });
      const missing = join(dir, "bin", "nats-server");
      const child = spawn(process.execPath, [join(REPO_ROOT, "scripts/start.mjs")], {
        cwd: REPO_ROOT,
        env: { ...withoutNatsUrl(), PATH: dir, NATS_SERVER_BIN: missing, NATS_PORT: "0", PORT: String(await freePort()), LOG_LEVEL: "info" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
      child.stderr!.on("data", (b: Buffer) => (out += b.toString()));
      const code = await new Promise<number | null>((res) => child.on("exit", (c) => res(c)));
      expect(existsSync(ran), "apt-get was run").toBe(false);
      expect(code).toBe(1);
      expect(out).toContain(`NATS_SERVER_BIN (nats.serverBinary) names ${missing}, which is not there; fix: point NATS_SERVER_BIN at the nats-server program`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("npm start with CONFIG_FILE naming a NATS server", () => {
  it("uses it and neither needs nor installs a nats-server of its own", async () => {
    const server = await jetstreamServer();
    const dir = mkdtempSync(join(tmpdir(), "ps-start-cfg-"));
    try {
      const file = join(dir, "config.json");
      writeFileSync(file, JSON.stringify({ nats: { url: server.url } }));
      // No nats-server program and no apt-get to install one with: only the file's nats.url can start it.
      const child = spawn(process.execPath, [join(REPO_ROOT, "scripts/start.mjs")], {
        cwd: REPO_ROOT,
        env: { ...withoutNatsUrl(), PATH: dir, CONFIG_FILE: file, NATS_SERVER_BIN: join(dir, "no-nats-server"), PORT: String(await freePort()), SIM_SPEED: "20", LOG_LEVEL: "info" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
      child.stderr!.on("data", (b: Buffer) => (out += b.toString()));
      const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
      await waitFor("the dashboard URL, or an exit", () => /dashboard: http/.test(out) || child.exitCode !== null, 60_000);
      expect(out).not.toContain("nats-server is not installed");
      expect(out).toMatch(/dashboard: http/);
      child.kill("SIGINT");
      expect(await exited).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await server.stop();
    }
  });
});
