// Bad configuration stops every part at start-up, before any connection, naming the key and the fix.
import { describe, expect, it } from "vitest";
import { configFile, spawnPart } from "../support/processes.ts";

const cases: [string, string, Record<string, string>, RegExp[]][] = [
  ["a port that is not a number", "processor", { PORT: "eighty" }, [/server\.port \(env PORT\)/, /fix: set PORT to a free TCP port/]],
  ["a NATS URL with the wrong scheme", "simulator", { NATS_URL: "http://localhost:4222" }, [/nats\.url \(env NATS_URL\)/, /fix: use nats:\/\/host:port/]],
  ["a public bind without a token", "server", { HOST: "0.0.0.0" }, [/server\.token \(env API_TOKEN\)/, /fix: set API_TOKEN/]],
  ["a simulator speed out of range", "all", { SIM_SPEED: "1000" }, [/simulator\.speed \(env SIM_SPEED\)/, /0\.1…100/]],
  ["an unknown log level", "processor", { LOG_LEVEL: "chatty" }, [/log\.level \(env LOG_LEVEL\)/, /one of fatal, error, warn/]],
  ["a typo in a config file", "processor", { CONFIG_FILE: configFile({ procesor: { batchSize: 10 } }) }, [/procesor: unknown key/, /check its spelling/]],
  ["a checkpoint interval the duplicate window does not cover", "processor", { CONFIG_FILE: configFile({ processor: { checkpointEverySec: 3600 } }) }, [/streams\.decisions\.duplicateWindowSec/, /lower processor\.checkpointEverySec/]],
  ["a config file that does not exist", "processor", { CONFIG_FILE: "/nonexistent/config.json" }, [/CONFIG_FILE: cannot read \/nonexistent\/config\.json/]],
];

describe("bad configuration", () => {
  it.concurrent.each(cases)("%s: %s exits non-zero naming the key and the fix", async (_name, part, env, expected) => {
    // NATS_URL points nowhere reachable: a config error must stop the program before it tries.
    const c = spawnPart(part, { NATS_URL: "nats://127.0.0.1:1", ...env });
    const code = await c.exited;
    expect(code).toBe(2);
    for (const re of expected) expect(c.output()).toMatch(re);
    expect(c.output()).not.toMatch(/cannot connect to NATS|at .*\.ts:\d+/);
  });
});
