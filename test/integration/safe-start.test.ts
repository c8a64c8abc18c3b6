// Issue 23, live: `npm start` in apprentice mode with the simulator at max speed graduates (the mode
// change is in the log, one event per partition, and the dashboard's snapshot says so); a kill -9
// after the graduation, and `npm start` again with the same configuration (still POLICY_MODE=apprentice)
// restarts graduated, from the checkpoint and the log.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { REPO_ROOT } from "../../src/config/index.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { freePort } from "../support/ports.ts";
import { configFile } from "../support/processes.ts";
import { waitFor } from "../support/system.ts";

interface Started {
  child: ChildProcess;
  out: () => string;
  url: string;
  exited: Promise<number | null>;
}

type Safe = { mode: string; decisions: number; changes: { mode: string; reason: string; atDecision: number }[]; evidence: { decisions: number; lo: number } | null };

let nats: NatsServerHandle;
let env: Record<string, string>;

beforeAll(async () => {
  nats = await jetstreamServer();
  env = {
    NATS_URL: nats.url,
    PORT: String(await freePort()),
    POLICY_MODE: "apprentice",
    SIM_SPEED: "max",
    LOG_LEVEL: "info",
    // Web windows of 10 simulated minutes (a shopper buys 3–10 minutes into a visit; the default 30
    // minutes only makes the evidence wait longer), 30 s of lateness, a fifth of the decisions
    // explored and 500 closed decisions before graduating: the apprentice graduates within minutes
    // of the test's time instead of tens of thousands of decisions. Checkpoints every second.
    CONFIG_FILE: configFile({
      attribution: { windowSecByChannel: { web: 600 } },
      features: { allowedLatenessSec: 30 },
      policy: { apprenticeExplore: 0.2, graduateAfter: 500 },
      processor: { checkpointEverySec: 1 },
    }),
  };
});

afterAll(async () => {
  await nats?.stop();
});

function start(): Promise<Started> {
  const child = spawn(process.execPath, [join(REPO_ROOT, "scripts/start.mjs")], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((res) => child.on("exit", (code, sig) => res(code ?? (sig ? -1 : null))));
  return waitFor("the dashboard URL", () => /dashboard: (http:\/\/\S+)/.exec(out)?.[1], 60_000).then((url) => ({ child, out: () => out, url, exited }));
}

async function safeOf(url: string): Promise<Safe | undefined> {
  const r = await fetch(`${url}api/snapshot`);
  const body = (await r.json()) as { kpi: { safe?: Safe } | null };
  return body.kpi?.safe;
}

async function modeEventsInLog(): Promise<number> {
  const nc = await connect({ servers: nats.url });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info("EVENTS", { subjects_filter: "events.mode.>" });
    return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
  } finally {
    await nc.close();
  }
}

describe("safe start, live", () => {
  let graduatedAt = 0;

  it("npm start in apprentice mode at max speed graduates, and the graduation is in the log", async () => {
    const s = await start();
    try {
      const first = await waitFor("an apprentice's snapshot", async () => {
        const x = await safeOf(s.url);
        return x && x.decisions > 0 ? x : undefined;
      }, 60_000);
      expect(first.mode).toBe("apprentice");
      const grad = await waitFor("the graduation", async () => {
        const x = await safeOf(s.url);
        return x?.mode === "conservative" ? x : undefined;
      }, 240_000, 500);
      const change = grad.changes.at(-1)!;
      expect(change).toMatchObject({ mode: "conservative", reason: "graduated" });
      graduatedAt = change.atDecision;
      expect(s.out()).toContain("the apprentice graduates: mode change put in the log");
      // One mode event per partition (8), stored in EVENTS with the shop's events.
      expect(await modeEventsInLog()).toBeGreaterThanOrEqual(8);
      // /metrics says so too.
      const metrics = await (await fetch(`${s.url}metrics`)).text();
      expect(metrics).toMatch(/ps_policy_mode\{mode="conservative"\} 1/);
      expect(metrics).toMatch(/ps_baseline_served_ratio \d/);
      // The apprentice's evidence is no figure of conservative mode: gone, not left at its last value.
      expect(metrics).not.toMatch(/ps_apprentice_evidence_cents\{/);
      expect(metrics).toMatch(/ps_conservative_slack_cents -?\d/);
      // A checkpoint after the graduation (every second), then kill -9.
      await new Promise((r) => setTimeout(r, 2_500));
    } finally {
      s.child.kill("SIGKILL");
      await s.exited;
    }
  }, 330_000);

  it("a kill -9 after graduation restarts graduated (the configuration still says apprentice)", async () => {
    const s = await start();
    try {
      const back = await waitFor("a snapshot after the restart", async () => {
        const x = await safeOf(s.url);
        return x ? x : undefined;
      }, 60_000);
      expect(back.mode).toBe("conservative");
      expect(back.changes.find((c) => c.reason === "graduated")?.atDecision).toBe(graduatedAt);
      expect(s.out()).toContain("restored checkpoint");
      // Still conservative once it has caught up and decides again.
      const later = await waitFor("decisions after the restart", async () => {
        const x = await safeOf(s.url);
        return x && x.decisions > back.decisions + 100 ? x : undefined;
      }, 60_000);
      expect(later.mode).toBe("conservative");
    } finally {
      s.child.kill("SIGINT");
      await s.exited;
    }
  }, 180_000);
});
