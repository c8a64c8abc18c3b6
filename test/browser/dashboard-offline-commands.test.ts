// The dashboard's simulator controls while its server is away, in real headless Chromium
// against a nats-server and the processor, the simulator and the server as three parts, so the server
// alone can be stopped. A command the page cannot send (its socket down) used to be dropped in silence:
// Pause did nothing and said nothing, and a scenario picked stayed shown in the picker, before and after
// the page reconnected, while the simulator kept its own. The page must say the command was not sent and
// show the simulator's settings again.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import type { Config } from "../../src/config/index.ts";
import type { Running } from "../../src/system.ts";
import { launchChromium, watchedPage } from "../support/chromium.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { freePort } from "../support/ports.ts";
import { startParts, testConfig, waitFor } from "../support/system.ts";

let nats: NatsServerHandle;
let cfg: Readonly<Config>;
let processor: Running;
let simulator: Running;
let server: Running;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

beforeAll(async () => {
  nats = await jetstreamServer();
  cfg = testConfig(nats.url, { server: { port: await freePort() }, simulator: { speed: 5 }, processor: { snapshotEveryMs: 250 } });
  processor = await startParts("processor", cfg);
  simulator = await startParts("simulator", cfg);
  server = await startParts("server", cfg);
  browser = await launchChromium();
  page = await watchedPage(browser, { width: 1366, height: 768 }, consoleErrors);
  await page.goto(server.url!);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await simulator?.stop();
  await processor?.stop();
  await nats?.stop();
});

const text = async (sel: string) => ((await page.locator(sel).first().textContent()) ?? "").trim();
/** Each region's stale mark (its text), or null: the header's figures, the arms table, the safe-start panel. */
const staleMarks = async () => {
  const mark = async (region: string) => {
    const tag = page.locator(`${region} .stale-tag`);
    return (await page.locator(`${region}[data-stale]`).count()) && (await tag.count()) ? ((await tag.first().textContent()) ?? "").trim() : null;
  };
  return { figures: await mark("#figures"), arms: await mark("ps-arms"), safe: await mark("ps-safe-start") };
};

describe("simulator commands while the server is away", () => {
  it("says a command was not sent and shows the simulator's settings again; after reconnecting they are the simulator's", async () => {
    await waitFor("live", async () => (await text("#conn")) === "live");
    await waitFor("the simulator's controls", async () => (await page.locator("#scenario").count()) === 1);
    const scenario = simulator.simulator!.status().scenario;
    expect(await page.locator("#scenario").inputValue()).toBe(scenario);
    const other = (await page.locator("#scenario option").evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value))).find((n) => n !== scenario)!;

    await server.stop();
    await waitFor("reconnecting", async () => (await text("#conn")) === "reconnecting");
    // The figures shown are the last ones received: each part of the page that shows them says so, to the
    // eye and in text (read by assistive tech), not only the status badge.
    expect(await staleMarks(), "the marks while the server is away").toEqual({ figures: "not current: reconnecting", arms: "not current: reconnecting", safe: "not current: reconnecting" });
    // The simulator's event rate is a figure of now: with the server away the page no longer knows it.
    expect(await text("#sim-rate"), "the event rate while the server is away").toBe("– events/s");
    await page.locator("#play").click();
    await waitFor("the pause said not sent", async () => (await page.locator("#sim-error").count()) === 1);
    expect(await text("#sim-error")).toMatch(/^not sent/);
    await page.selectOption("#scenario", other);
    await waitFor("the picker back on the simulator's scenario", async () => (await page.locator("#scenario").inputValue()) === scenario);
    expect(simulator.simulator!.status().running).toBe(true);
    expect(simulator.simulator!.status().scenario).toBe(scenario);

    server = await startParts("server", cfg);
    await waitFor("live again", async () => (await text("#conn")) === "live", 30_000);
    await waitFor("the stale marks gone", async () => JSON.stringify(await staleMarks()) === JSON.stringify({ figures: null, arms: null, safe: null }), 10_000, 250);
    expect(await page.locator("#scenario").inputValue()).toBe(simulator.simulator!.status().scenario);
    expect(await text("#play")).toBe("Pause");
    await waitFor("the event rate again", async () => /^\d+ events\/s$/.test(await text("#sim-rate")));
    // "not sent: the page is not connected" is no longer true once it is: it goes with the reconnect.
    expect(await page.locator("#sim-error").count(), "the 'not sent' notice once live again").toBe(0);
    // While the server was down Chromium itself logs each refused connection; nothing else.
    for (const e of consoleErrors) expect(e).toMatch(/WebSocket connection to 'ws:\/\/.*\/ws' failed|Failed to load resource: net::ERR_CONNECTION_REFUSED/);
  });
});
