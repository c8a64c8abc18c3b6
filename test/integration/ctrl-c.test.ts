// Ctrl-C in a terminal (issue 15): the terminal sends SIGINT to its whole foreground process group
// (npm, sh, node, and once the embedded nats-server too). Here `npm start` runs in a process group of
// its own with the simulator at 100×, and the group is signalled as a terminal does. Everything stops
// after one signal, the embedded server last (it has a group of its own), with the final checkpoint
// written: it covers every event acknowledged, and nothing is left running.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { REPO_ROOT } from "../../src/config/index.ts";
import { startNatsServer } from "../../src/io/nats/index.ts";
import { freePort } from "../support/ports.ts";
import { waitFor } from "../support/system.ts";

const store = mkdtempSync(join(tmpdir(), "ps-ctrlc-"));
let group = 0;
afterAll(() => {
  if (group) {
    try {
      process.kill(-group, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
  rmSync(store, { recursive: true, force: true });
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("Ctrl-C of npm start's process group", () => {
  it("stops everything after one SIGINT to the group, the final checkpoint written, nothing left running", async () => {
    const natsPort = await freePort();
    const httpPort = await freePort();
    const child = spawn("npm", ["start"], {
      cwd: REPO_ROOT,
      // A group of its own, as a shell gives a foreground job: process.kill(-pid) reaches all of it.
      detached: true,
      env: { ...process.env, NATS_PORT: String(natsPort), PORT: String(httpPort), NATS_STORE_DIR: store, NATS_URL: "", SIM_SPEED: "100", LOG_LEVEL: "info" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    group = child.pid!;
    let out = "";
    child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr!.on("data", (b: Buffer) => (out += b.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on("exit", (code, signal) => res({ code, signal })));
    const url = await waitFor("the dashboard URL", () => /dashboard: (http:\/\/\S+)/.exec(out)?.[1], 60_000);
    const natsPid = Number(/"natsPid":(\d+),"msg":"embedded nats-server started"/.exec(out)?.[1]);
    expect(natsPid).toBeGreaterThan(0);
    // Running at 100×: decisions are being made and checkpoints are due while the signal comes.
    await waitFor("decisions at 100×", async () => {
      const k = ((await (await fetch(`${url}api/snapshot`)).json()) as { kpi: { decisions: number } | null }).kpi;
      return k && k.decisions > 200 ? k : undefined;
    }, 60_000);

    const t0 = performance.now();
    process.kill(-group, "SIGINT");
    const how = await exited;
    const ms = performance.now() - t0;
    // Reported, not asserted (a busy machine is slower): the closing note of issue 15 quotes it.
    console.log(`Ctrl-C to exit of npm start with the simulator at 100×: ${Math.round(ms)} ms`);
    // npm waited for node (the script execs it), and node exited cleanly: the prompt comes back
    // only when everything is done.
    expect(how).toEqual({ code: 0, signal: null });
    expect(out).toContain('"msg":"stopped"');
    expect(out).toContain('"msg":"processor stopped"');
    expect(out).not.toContain("checkpoint failed");
    expect(out).not.toContain("final flush failed");
    expect(out).not.toMatch(/second SIGINT/);
    expect(out.match(/"msg":"shutting down"/g)).toHaveLength(1);
    // Nothing of the group is left, and the server of its own group was stopped too.
    await waitFor("the process group to be empty", () => !alive(-group), 10_000);
    await waitFor("the embedded nats-server to be gone", () => !alive(natsPid), 10_000);
    group = 0;

    // The final checkpoint covers exactly what was acknowledged.
    const srv = await startNatsServer({ port: natsPort, storeDir: store });
    try {
      const nc = await connect({ servers: srv.url });
      const ci = await (await jetstreamManager(nc)).consumers.info("EVENTS", "processor");
      const head = (await (await new Kvm(nc).open("PS_STATE")).get("processor.head"))!.json<{ streamSeq: number }>();
      expect(ci.ack_floor.stream_seq).toBeGreaterThan(0);
      expect(head.streamSeq).toBe(ci.ack_floor.stream_seq);
      await nc.close();
    } finally {
      await srv.stop();
    }
  });
});
