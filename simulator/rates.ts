// Measures the live simulator's event rate at 1×, 10× and max against a real nats-server (issue #5's
// closing note): `node --import tsx simulator/rates.ts [--window-sec 20]`. Uses config/default.json's
// shop (and SIM_* / CONFIG_FILE overrides); starts its own nats-server on a free port with a temp store.
// Rate = events stored in the EVENTS stream per real second, after half a simulated hour at max so
// that sessions overlap as in a steady shop.
import { parseArgs } from "node:util";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { loadConfig } from "../src/config/index.ts";
import { provision, startNatsServer } from "../src/io/nats/index.ts";
import { createLogger } from "../src/log/index.ts";
import { SimulatorRunner, type SimCommand } from "./index.ts";

const { values } = parseArgs({ options: { "window-sec": { type: "string", default: "20" } } });
const windowMs = Number(values["window-sec"]) * 1000;
if (!(windowMs > 0)) throw new Error("--window-sec must be a positive number");

const server = await startNatsServer({ port: -1 });
const log = createLogger("silent");
const cfg = loadConfig({ overrides: { nats: { url: server.url }, simulator: { speed: "max" } } });
const nc = await connect({ servers: server.url });
const jsm = await jetstreamManager(nc);
await provision(nc, cfg, log);
const runner = new SimulatorRunner(nc, cfg, log);
await runner.start();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stored = async () => (await jsm.streams.info(cfg.streams.events.name)).state.messages;
async function measure(cmd: SimCommand | undefined): Promise<number> {
  if (cmd) runner.control(cmd);
  await sleep(1_000);
  const n0 = await stored();
  const t0 = performance.now();
  await sleep(windowMs);
  return ((await stored()) - n0) / ((performance.now() - t0) / 1000);
}
try {
  const start = Date.parse(cfg.simulator.startTime);
  while (runner.world.nowMs < start + 30 * 60_000) await sleep(100);
  const max = await measure(undefined);
  const one = await measure({ cmd: "speed", value: 1 });
  const ten = await measure({ cmd: "speed", value: 10 });
  const s = cfg.simulator;
  console.log(`simulator event rates, ${s.shoppers} shoppers, ${s.visitsPerSec} visits/s, scenario ${s.scenario}, ${windowMs / 1000} s windows:`);
  console.log(`  1×   ${one.toFixed(1)} events/s\n  10×  ${ten.toFixed(1)} events/s\n  max  ${max.toFixed(0)} events/s`);
} finally {
  await runner.stop();
  await nc.close();
  await server.stop();
}
