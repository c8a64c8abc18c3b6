// The example subscribers (examples/subscribe-decisions.mjs, subscribe-outcomes.mjs) when NATS is not
// there: started against no server, or against one promo-stream never provisioned, they say so in a
// line and exit 1 (no stack trace); losing the server mid-stream for longer than the nats client's
// default reconnect budget (10 tries, 2 s apart), they say so, wait for it, and read on from where they
// were: nothing lost, nothing repeated. (They exited silently with status 13, an unsettled top-level
// await, about 20 s after the server went away, and printed a stack trace when it was not there.)
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { REPO_ROOT } from "../../src/config/index.ts";
import { provision } from "../../src/io/nats/index.ts";
import { createLogger } from "../../src/log/index.ts";
import { engineDecision, engineOutcome } from "../support/decision.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { freePort } from "../support/ports.ts";
import { testConfig, waitFor } from "../support/system.ts";

interface Run {
  child: ChildProcess;
  lines(): Record<string, unknown>[];
  err(): string;
  exited: Promise<number | null>;
}

function run(url: string, script: string, args: string[]): Run {
  const child = spawn(process.execPath, [join(REPO_ROOT, "examples", script), ...args], {
    env: { ...process.env, NATS_URL: url },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
  return {
    child,
    exited,
    err: () => err,
    lines: () =>
      out
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const STACK = /\n\s+at /;

describe("an example subscriber without its NATS server", () => {
  for (const script of ["subscribe-decisions.mjs", "subscribe-outcomes.mjs"])
    it(`${script}: no server at NATS_URL: one line and status 1`, async () => {
      const r = run(`nats://127.0.0.1:${await freePort()}`, script, []);
      expect(await r.exited).toBe(1);
      expect(r.err()).toMatch(/cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+/);
      expect(r.err()).not.toMatch(STACK);
    });

  it("a NATS server without promo-stream's streams: one line naming the stream, status 1", async () => {
    const server = await jetstreamServer();
    try {
      for (const [script, args, stream] of [
        ["subscribe-decisions.mjs", [], "DECISIONS"],
        ["subscribe-decisions.mjs", ["--durable", "crm"], "DECISIONS"],
        ["subscribe-outcomes.mjs", ["--from-start"], "OUTCOMES"],
      ] as const) {
        const r = run(server.url, script, [...args]);
        expect(await r.exited, r.err()).toBe(1);
        expect(r.err()).toContain(`no stream ${stream}`);
        expect(r.err()).not.toMatch(STACK);
      }
    } finally {
      await server.stop();
    }
  });
});

describe("an example subscriber losing its NATS server mid-stream", () => {
  const store = mkdtempSync(join(tmpdir(), "ps-example-away-"));
  let server: NatsServerHandle | undefined;
  let nc: NatsConnection | undefined;
  const runs: Run[] = [];
  afterAll(async () => {
    for (const r of runs) r.child.kill("SIGKILL");
    await nc?.close();
    await server?.stop();
    rmSync(store, { recursive: true, force: true });
  });

  it("says so, waits for it and reads on: nothing lost, nothing repeated", { timeout: 120_000 }, async () => {
    const port = await freePort();
    server = await jetstreamServer({ port, storeDir: store });
    nc = await connect({ servers: server.url });
    await provision(nc, testConfig(server.url), createLogger("silent"));
    const publish = async (ids: string[]) => {
      for (const id of ids)
        for (const rec of [engineDecision(id), engineOutcome(id)]) {
          const h = headers();
          h.set("Nats-Msg-Id", rec.id);
          const stream = "decisionId" in rec ? "outcomes" : "decisions";
          await nc!.request(`${stream}.${rec.channel}`, new TextEncoder().encode(JSON.stringify(rec)), { headers: h, timeout: 5_000 });
        }
    };
    await publish(["a1", "a2", "a3"]);
    runs.push(run(server.url, "subscribe-decisions.mjs", ["--from-start"]));
    runs.push(run(server.url, "subscribe-decisions.mjs", ["--from-start", "--durable", "crm"]));
    runs.push(run(server.url, "subscribe-outcomes.mjs", ["--from-start"]));
    runs.push(run(server.url, "subscribe-outcomes.mjs", ["--from-start", "--durable", "bi"]));
    await waitFor("each example to read the first three", () => runs.every((r) => r.lines().length === 3), 20_000);
    // The durable ones' acknowledgements are in (one still on its way when the server goes is redelivered:
    // at least once, as the README says).
    const jsm = await jetstreamManager(nc);
    for (const [stream, durable] of [["DECISIONS", "crm"], ["OUTCOMES", "bi"]] as const)
      await waitFor(`${durable}'s acks`, async () => (await jsm.consumers.info(stream, durable)).ack_floor.stream_seq === 3);

    await nc.close();
    await server.stop();
    // Away longer than the nats client's default reconnect budget (10 tries 2 s apart).
    const away = new Promise((r) => setTimeout(r, 26_000));
    await Promise.race([away, Promise.all(runs.map((r) => r.exited))]);
    for (const r of runs) expect(r.child.exitCode, r.err()).toBeNull();

    server = await jetstreamServer({ port, storeDir: store });
    nc = await connect({ servers: server.url });
    await publish(["b1", "b2", "b3"]);
    await waitFor("each example to read on", () => runs.every((r) => r.lines().length >= 6), 30_000);
    for (const r of runs) {
      expect(r.lines().map((x) => x.seq), r.child.spawnargs.slice(1).join(" ")).toEqual([1, 2, 3, 4, 5, 6]);
      expect(r.err()).toMatch(/lost NATS/);
      expect(r.err()).toMatch(/reconnected/);
      expect(r.err()).not.toMatch(STACK);
    }
  });
});

describe("examples/oracle-share.mjs without its NATS server", () => {
  it("no server at NATS_URL: one line and status 1", async () => {
    const r = run(`nats://127.0.0.1:${await freePort()}`, "oracle-share.mjs", ["--seconds", "1"]);
    expect(await r.exited).toBe(1);
    expect(r.err()).toMatch(/cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+/);
    expect(r.err()).not.toMatch(STACK);
  });

  it("the server gone for the rest of the run: says so, and still prints its figures at the end", { timeout: 120_000 }, async () => {
    const server = await jetstreamServer();
    // Longer than the nats client's default reconnect budget (10 tries 2 s apart), after which the
    // connection was closed and the final drain threw CONNECTION_CLOSED with a stack trace.
    const r = run(server.url, "oracle-share.mjs", ["--seconds", "26"]);
    await waitFor("it to start", () => r.err().includes("joining sim.truth"));
    await server.stop();
    expect(await r.exited, r.err()).toBe(0);
    expect(r.err()).toMatch(/lost NATS/);
    expect(r.err()).not.toMatch(STACK);
    expect(r.lines()).toHaveLength(1);
    expect(r.lines()[0]).toMatchObject({ decisions: 0, engineShareOfOracle: null });
  });
});
