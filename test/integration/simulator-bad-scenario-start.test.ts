// A scenario file that exists but is no valid scenario, named by SIM_SCENARIO: config validation only
// checks that the file exists, and the simulator's constructor threw a plain Error once NATS was up
// (an embedded nats-server started, a connection opened, a stack trace, exit 1). It now stops start-up
// before any connection, as a ConfigError naming simulator.scenario (env SIM_SCENARIO) and the fix,
// which `npm start` reports with exit 2 like every other configuration problem.
import { describe, expect, it, vi } from "vitest";
import { ConfigError, PS_ERR_CONFIG } from "../../src/config/index.ts";
import { startParts, testConfig } from "../support/system.ts";

// Broken in place of writing a broken file into config/scenarios, which other tests list and validate.
vi.mock("../../simulator/world/index.ts", async (importOriginal) => {
  const orig = await importOriginal<typeof import("../../simulator/world/index.ts")>();
  return {
    ...orig,
    loadScenario: (name: string) => {
      if (name === "holiday") throw new Error(`scenario '${name}' (config/scenarios/${name}.json) is invalid at /description: Expected required property`);
      return orig.loadScenario(name);
    },
  };
});

describe("SIM_SCENARIO naming a file that is no valid scenario", () => {
  it.each(["simulator", "all"] as const)("stops %s before any connection with a ConfigError naming simulator.scenario", async (part) => {
    // NATS_URL points nowhere reachable: the problem must be found before trying it.
    const cfg = testConfig("nats://127.0.0.1:1", { simulator: { scenario: "holiday" }, nats: { connectTimeoutMs: 500 } });
    const err = await startParts(part, cfg).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    const c = err as ConfigError;
    expect(c.code).toBe(PS_ERR_CONFIG.Invalid);
    expect(c.issues).toHaveLength(1);
    expect(c.issues[0]).toMatchObject({ key: "simulator.scenario", env: "SIM_SCENARIO" });
    expect(c.message).toMatch(/simulator\.scenario \(env SIM_SCENARIO\): .*scenario 'holiday' .*is invalid at \/description.*; fix: .*holiday\.json/);
  });

  it("leaves the processor alone, which never reads the scenario", async () => {
    const cfg = testConfig("nats://127.0.0.1:1", { simulator: { scenario: "holiday" }, nats: { connectTimeoutMs: 500 } });
    await expect(startParts("processor", cfg)).rejects.not.toBeInstanceOf(ConfigError);
  });
});
