// Ctrl-C (or a SIGTERM from a supervisor) while promo-stream is still starting: the embedded
// nats-server, which runs in a process group of its own so a terminal's Ctrl-C does not reach it, is
// stopped with promo-stream. The signal came before the handlers were installed, Node's default ended
// the process without its exit hooks, and the server kept running with the store and NATS_PORT.
// Its temp dir (/tmp/ps-nats-*: its config and ports file) goes too: the exit hook killed the server but
// left the dir, one more for every such exit.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { spawnPart } from "../support/processes.ts";
import { waitFor } from "../support/system.ts";

const store = mkdtempSync(join(tmpdir(), "ps-ctrlc-start-"));
const started: number[] = [];
afterAll(() => {
  // An orphan of the code before the fix: ours, so ours to stop.
  for (const pid of started) if (alive(pid)) process.kill(pid, "SIGKILL");
  rmSync(store, { recursive: true, force: true });
});

/** Running: not gone and not a zombie (a killed orphan stays one until whoever adopted it reaps it). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

describe("a signal during start-up", () => {
  it.each(["SIGINT", "SIGTERM"] as const)("%s stops the embedded nats-server too", async (sig) => {
    const c = spawnPart("all", { NATS_URL: "", NATS_PORT: "0", NATS_STORE_DIR: join(store, sig), PORT: "0", SIM_SPEED: "1" });
    // The server is up; the dashboard bundle, the processor and the simulator are still to come.
    const natsPid = Number(await waitFor("the embedded nats-server", () => /"natsPid":(\d+)/.exec(c.output())?.[1], 60_000));
    started.push(natsPid);
    // The server's own temp dir, found by the ports file it names after its pid.
    const workDir = readdirSync(tmpdir())
      .filter((d) => d.startsWith("ps-nats-"))
      .map((d) => join(tmpdir(), d))
      .find((d) => existsSync(join(d, `nats-server_${natsPid}.ports`)));
    expect(workDir, "the embedded server's temp dir").toBeDefined();
    c.signal(sig);
    await c.exited;
    expect(c.output(), "the signal came after start-up; this test needs it during").not.toMatch(/promo-stream dashboard:/);
    // Gone once promo-stream has exited (it is killed in the exit hook, synchronously).
    expect(alive(natsPid)).toBe(false);
    expect(existsSync(workDir!), `${workDir} left behind`).toBe(false);
    expect(c.output()).toMatch(new RegExp(`${sig} during start-up`));
  });
});
