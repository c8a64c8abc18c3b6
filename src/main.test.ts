import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ENV_KEYS, REPO_ROOT } from "./config/index.ts";
import { startBanner } from "./main.ts";

/** `node src/main.ts <args>` as npm's scripts run it; its output, and its exit status. */
function spawnArgs(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "src/main.ts"), ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr.on("data", (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
  return { output: () => out, exited };
}

describe("startBanner", () => {
  it("prints the dashboard's address as a person can open it", () => {
    expect(startBanner("all", "http://127.0.0.1:8080/", "nats://127.0.0.1:4222", false)).toContain("promo-stream dashboard: http://127.0.0.1:8080/\n");
  });

  it("with API_TOKEN set, shows where the token goes without printing it", () => {
    const b = startBanner("all", "http://127.0.0.1:8080/", "nats://127.0.0.1:4222", true);
    expect(b).toContain("promo-stream dashboard: http://127.0.0.1:8080/?token=<API_TOKEN>");
    expect(b).toMatch(/API_TOKEN is set/);
  });

  it("names the part when there is no dashboard", () => {
    expect(startBanner("processor", undefined, "nats://n:4222", true)).toBe("\n  promo-stream processor running; NATS: nats://n:4222\n");
  });
});

describe("the command line", () => {
  // A part takes no arguments: its settings come from the environment and CONFIG_FILE. An argument
  // after it was ignored, so `simulator --speed 100` ran at speed 1 and a mistyped `simulator rplay
  // log.csv` started the simulator, publishing a made-up shop's events into the stream.
  it.concurrent.each([
    [["simulator", "--speed", "100"], /unexpected argument '--speed 100' after 'simulator'.*SIM_SPEED/s],
    [["simulator", "rplay", "log.csv"], /unexpected argument 'rplay log\.csv' after 'simulator'.*npm run simulator -- replay --format/s],
    [["processor", "--metrics-port", "9464"], /unexpected argument '--metrics-port 9464' after 'processor'.*environment/s],
  ])("%j exits with status 2 and says what the part takes, before any connection", async (args, expected) => {
    const c = spawnArgs(args, { NATS_URL: "nats://127.0.0.1:1" });
    expect(await c.exited).toBe(2);
    expect(c.output()).toMatch(expected);
    expect(c.output()).not.toMatch(/cannot connect to NATS|connected to NATS/);
  });
});

describe("--help", () => {
  // `npm start -- --help` said "unknown part '--help'" and `npm run processor -- --help` "unexpected
  // argument", both with status 2, where eval's and replay's --help print their usage.
  it.concurrent.each([[["--help"]], [["processor", "--help"]], [["simulator", "-h"]], [["server", "--help"]]])("%j prints the parts and every environment variable with its key and default, status 0", async (args) => {
    const c = spawnArgs(args, { NATS_URL: "nats://127.0.0.1:1" });
    expect(await c.exited).toBe(0);
    const out = c.output();
    expect(out).toMatch(/usage: npm start\b/);
    expect(out).toMatch(/npm run processor/);
    expect(out).toMatch(/npm run simulator -- replay --help/);
    for (const [name, key] of Object.entries(ENV_KEYS)) expect(out).toMatch(new RegExp(`${name}\\s+${key.replace(/\./g, "\\.")}\\b`));
    expect(out).toMatch(/PORT\s+server\.port\s+8080/);
    expect(out).not.toMatch(/cannot connect to NATS|connected to NATS/);
  });
});
