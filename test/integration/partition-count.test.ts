// PARTITIONS set differently on the parts of one deployment: the processors run 4 partitions and a
// server or simulator started with 8 would route events to partitions nobody reads. The part is refused
// at start as a configuration error (exit 2) naming the key and the fix; a second processor with
// another count too.
import { afterAll, beforeAll, expect, it } from "vitest";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { configFile, spawnPart, type Child } from "../support/processes.ts";
import { LEASE_TEST_OVERLAY } from "../support/shoppers.ts";
import { waitFor } from "../support/system.ts";

let server: NatsServerHandle;
let processor: Child | undefined;

beforeAll(async () => {
  server = await jetstreamServer();
});
afterAll(async () => {
  processor?.signal("SIGKILL");
  await server?.stop();
});

it("refuses a server, a simulator and a processor whose PARTITIONS differs from the running processors'", { timeout: 120_000 }, async () => {
  const cfg = configFile({ ...LEASE_TEST_OVERLAY, partitions: 4 });
  processor = spawnPart("processor", { NATS_URL: server.url, CONFIG_FILE: cfg, INSTANCE_ID: "A", METRICS_PORT: "0" });
  await waitFor("the processor running", () => /instance running/.test(processor!.output()), 60_000);
  for (const part of ["server", "simulator", "processor"]) {
    const c = spawnPart(part, { NATS_URL: server.url, CONFIG_FILE: cfg, PARTITIONS: "8", PORT: "0", METRICS_PORT: "0", INSTANCE_ID: "B" });
    const code = await c.exited;
    expect(code, `${part}: ${c.output()}`).toBe(2);
    expect(c.output()).toMatch(/partitions \(env PARTITIONS\): is 8, but the partitioned processors on this NATS run 4/);
    expect(c.output()).toMatch(/fix: set PARTITIONS=4/);
  }
  // The same count starts.
  const same = spawnPart("server", { NATS_URL: server.url, CONFIG_FILE: cfg, PORT: "0" });
  await waitFor("a server with the same count listening", () => /listening|dashboard/i.test(same.output()), 60_000);
  same.signal("SIGTERM");
  expect(await same.exited).toBe(0);
});
