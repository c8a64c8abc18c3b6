// A scenario file that exists but does not hold a valid scenario (one a shop added to config/scenarios
// by hand, with a typo), asked for over sim.control: loadScenario threw inside the NATS subscription's
// callback, which killed the connection's reader ("reader closed"): no reply, every later request on
// that connection timed out (in `npm start` the processor's and the server's too), the runner's stop()
// hung, and the status said the broken scenario was running. It is now answered with an error naming
// the file's problem, and the simulator goes on as it was. A new seed, which reloads the current
// scenario, is answered the same way when that file has gone bad since.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { provision } from "../../src/io/nats/index.ts";
import { createLogger } from "../../src/log/index.ts";
import { SimulatorRunner, type SimReply } from "../../simulator/index.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { testConfig } from "../support/system.ts";

/** Scenario names whose file reads as invalid (in place of writing broken files into config/scenarios, which other tests list). */
const broken = new Set<string>(["broken"]);
vi.mock("../../simulator/world/index.ts", async (importOriginal) => {
  const orig = await importOriginal<typeof import("../../simulator/world/index.ts")>();
  return {
    ...orig,
    listScenarios: () => [...orig.listScenarios(), "broken"].sort(),
    loadScenario: (name: string) => {
      if (broken.has(name)) throw new Error(`scenario '${name}' (config/scenarios/${name}.json) is invalid at /description: Expected required property`);
      return orig.loadScenario(name);
    },
  };
});

let server: NatsServerHandle;
let nc: NatsConnection;
let runner: SimulatorRunner;

async function control(req: unknown): Promise<SimReply> {
  const m = await nc.request("sim.control", new TextEncoder().encode(JSON.stringify(req)), { timeout: 3_000 });
  return m.json<SimReply>();
}

beforeAll(async () => {
  server = await jetstreamServer();
  const cfg = testConfig(server.url, { simulator: { speed: 1, shoppers: 200 } });
  const log = createLogger("silent");
  const own = await connect({ servers: server.url });
  await provision(own, cfg, log);
  runner = new SimulatorRunner(own, cfg, log);
  await runner.start();
  nc = await connect({ servers: server.url });
});

afterAll(async () => {
  await runner?.stop();
  await nc?.close();
  await server?.stop();
});

describe("sim.control with a scenario file that is not a valid scenario", () => {
  it("answers the scenario command with the file's problem and keeps the scenario it had", async () => {
    const r = await control({ cmd: "scenario", value: "broken" });
    expect(r.ok).toBe(false);
    expect(r.ok === false && r.error).toMatch(/scenario 'broken' .*is invalid/);
    expect(r.status.scenario).toBe("steady");
    expect(runner.world.scenario.name).toBe("steady");
    // The connection still answers.
    expect((await control({ cmd: "status" })).status.scenario).toBe("steady");
  });

  it("answers a new seed with the problem when the current scenario's file has gone bad, keeping the old world", async () => {
    const before = (await control({ cmd: "status" })).status;
    const world = runner.world;
    broken.add("steady");
    try {
      const r = await control({ cmd: "seed", value: 99 });
      expect(r.ok).toBe(false);
      expect(r.ok === false && r.error).toMatch(/scenario 'steady' .*is invalid/);
      expect(r.status.seed).toBe(before.seed);
      expect(runner.world).toBe(world);
    } finally {
      broken.delete("steady");
    }
    expect((await control({ cmd: "seed", value: 99 })).status.seed).toBe(99);
  });
});
