// A new seed over sim.control starts a new world a second after the old one's clock. That clock runs on
// real time × speed, with fractions (e.g. 1764547200123.456), and the new world started there: its
// events could carry a fractional ts, which the event contract refuses (dead-lettered). It now starts on
// a whole millisecond; an old clock already on one gives the same start as before (+1000).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { provision } from "../../src/io/nats/index.ts";
import { createLogger } from "../../src/log/index.ts";
import { SimulatorRunner } from "../../simulator/index.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { testConfig } from "../support/system.ts";

let server: NatsServerHandle;
let nc: NatsConnection;
let runner: SimulatorRunner;

beforeAll(async () => {
  server = await jetstreamServer();
  const cfg = testConfig(server.url, { simulator: { speed: 1, shoppers: 200 } });
  const log = createLogger("silent");
  nc = await connect({ servers: server.url });
  await provision(nc, cfg, log);
  // Not started: the test drives the clock and the commands itself.
  runner = new SimulatorRunner(nc, cfg, log);
});

afterAll(async () => {
  await runner?.stop();
  await nc?.close();
  await server?.stop();
});

describe("a new seed over sim.control", () => {
  it("starts the new world on a whole millisecond when the old clock stood between two", () => {
    runner.world.advance(runner.world.nowMs + 12_345.678);
    const old = runner.world.nowMs;
    expect(Number.isInteger(old)).toBe(false);
    expect(runner.control({ cmd: "seed", value: 11 }).ok).toBe(true);
    const start = runner.world.opts.startMs;
    expect(Number.isInteger(start), `new world starts at ${start}`).toBe(true);
    expect(start).toBeGreaterThanOrEqual(old + 1000);
    expect(start).toBeLessThan(old + 1001);
    const ts = runner.world
      .advance(start + 60_000)
      .flatMap((o) => (o.kind === "event" ? [o.event.ts] : []));
    expect(ts.length).toBeGreaterThan(0);
    expect(ts.filter((t) => !Number.isInteger(t))).toEqual([]);
  });

  it("starts it 1000 ms after an old clock on a whole millisecond, as before", () => {
    runner.world.advance(Math.ceil(runner.world.nowMs) + 5_000);
    const old = runner.world.nowMs;
    expect(Number.isInteger(old)).toBe(true);
    expect(runner.control({ cmd: "seed", value: 12 }).ok).toBe(true);
    expect(runner.world.opts.startMs).toBe(old + 1000);
  });
});
