// A plain third-party client (the classic `nats` package, examples/subscribe-decisions.mjs) reads our
// decisions on a running system.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { REPO_ROOT } from "../../src/config/index.ts";
import type { Running } from "../../src/system.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { startParts, testConfig } from "../support/system.ts";

let server: NatsServerHandle;
let sys: Running;

beforeAll(async () => {
  server = await jetstreamServer();
  sys = await startParts("all", testConfig(server.url, { simulator: { speed: 20 } }));
});
afterAll(async () => {
  await sys?.stop();
  await server?.stop();
});

it("examples/subscribe-decisions.mjs prints decisions with the contract's fields", async () => {
  const child = spawn(process.execPath, [join(REPO_ROOT, "examples/subscribe-decisions.mjs"), "--count", "5"], {
    env: { ...process.env, NATS_URL: server.url },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  const code = await new Promise<number | null>((res) => child.on("exit", res));
  expect(code).toBe(0);
  const lines = out.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines).toHaveLength(5);
  for (const d of lines) {
    for (const k of ["id", "ts", "customerId", "channel", "promotionId", "segment", "propensity", "eventId"]) expect(d[k], k).toBeDefined();
    expect(d.subject).toBe(`decisions.${d.channel}`);
    expect(typeof d.propensity).toBe("number");
  }
});
