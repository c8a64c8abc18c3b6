// The dashboard when something is wrong, in real headless Chromium against the real system with an
// access token (a nats-server; the processor, the simulator and the server as three parts, so each can
// be stopped on its own): a page opened without the token says why it cannot connect; a phone-sized
// window does not scroll sideways; the Seed field sends no seed when emptied and shows the simulator's
// seed again after a refusal; a silent processor is not called "live", and a stopped simulator is
// reported as not running. The tests run in order on one page.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Config } from "../../src/config/index.ts";
import { WHATIF_KEY, type WhatIfSummary } from "../../src/kpi/index.ts";
import type { Running } from "../../src/system.ts";
import { launchChromium, watchedPage } from "../support/chromium.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { freePort } from "../support/ports.ts";
import { startParts, testConfig, waitFor } from "../support/system.ts";

const TOKEN = "trouble-test-token-0123456789";

let nats: NatsServerHandle;
let nc: NatsConnection;
let cfg: Readonly<Config>;
let processor: Running | undefined;
let simulator: Running | undefined;
let server: Running;
let browser: Browser;
let page: Page;
let url: string;
const consoleErrors: string[] = [];

beforeAll(async () => {
  nats = await jetstreamServer();
  cfg = testConfig(nats.url, { server: { port: await freePort(), token: TOKEN }, simulator: { speed: 2 }, processor: { snapshotEveryMs: 250 } });
  processor = await startParts("processor", cfg);
  simulator = await startParts("simulator", cfg);
  server = await startParts("server", cfg);
  url = server.url!;
  nc = await connect({ servers: nats.url });
  browser = await launchChromium();
  page = await watchedPage(browser, { width: 1366, height: 768 }, consoleErrors);
});

afterAll(async () => {
  await browser?.close();
  await nc?.close();
  await server?.stop();
  await simulator?.stop();
  await processor?.stop();
  await nats?.stop();
});

// Page-side code runs in Chromium, but this project compiles without the DOM library: name what it touches.
interface Win { document: { documentElement: { scrollWidth: number } }; innerWidth: number }

const text = async (sel: string) => ((await page.locator(sel).first().textContent()) ?? "").trim();

const summary: WhatIfSummary = {
  at: Date.UTC(2026, 0, 5, 10, 30),
  rows: 5000,
  logged: { value: 1000, ci95: [900, 1100], incremental: { value: 150, ci95: [100, 200] } },
  candidates: [
    { name: "holdout-30-with-a-long-name", dr: { value: 98_000, ci95: [88_000, 108_000] }, incremental: { value: 13_000, ci95: [-8_000, 18_000] }, ess: 4800, rows: 5000, warnings: [], overlay: { bandit: { holdoutShare: 0.3 } } },
  ],
};

describe("dashboard trouble", () => {
  it("opened without ?token=, says that it needs the access token and how to open it", async () => {
    await page.goto(url);
    const problem = await waitFor("the reason shown", async () => (await page.locator("#conn-problem").count()) ? text("#conn-problem") : undefined);
    expect(problem).toBe(`needs the access token: open the page as ${url}?token=<API_TOKEN>`);
    expect(await text("#conn")).not.toBe("live");
  });

  it("with the token, goes live; at 320 and 375 px wide nothing scrolls sideways, the what-if table and the safe-start facts included", async () => {
    await page.goto(`${url}?token=${TOKEN}`);
    await waitFor("live status", async () => (await text("#conn")) === "live");
    expect(await page.locator("#conn-problem").count()).toBe(0);
    const kv = await new Kvm(nc).open(cfg.kv.stateBucket);
    await kv.put(WHATIF_KEY, JSON.stringify(summary));
    await waitFor("the what-if table", async () => (await page.locator("#whatif tbody tr").count()) === 2, 20_000, 250);
    await waitFor("the safe-start facts", async () => (await page.locator("#safe-facts tr").count()) > 0);
    // In learner mode there is no rule to compare with: the panel says so instead of drawing an empty chart.
    expect(await text("#safe-mode")).toBe("learner");
    expect(await page.locator("#chart-safe").count(), "the learner's empty chart").toBe(0);
    expect(await text("#safe-empty")).toMatch(/^Learner mode: no shop's rule serves/);
    for (const width of [320, 375]) {
      await page.setViewportSize({ width, height: 800 });
      const fits = await waitFor(`no sideways scroll at ${width} px`, async () => {
        const w = await page.evaluate(() => {
          const g = globalThis as unknown as Win;
          return { scroll: g.document.documentElement.scrollWidth, inner: g.innerWidth };
        });
        return w.scroll <= w.inner ? w : undefined;
      }, 5_000).catch(async () => page.evaluate(() => (globalThis as unknown as Win).document.documentElement.scrollWidth));
      expect(fits, `page width at ${width} px`).toEqual({ scroll: width, inner: width });
    }
    await page.setViewportSize({ width: 1366, height: 768 });
  });

  it("the Seed field sends nothing when emptied, and shows the simulator's seed again after a refusal", async () => {
    const seed = simulator!.simulator!.status().seed;
    await waitFor("the seed shown", async () => (await page.locator("#seed").inputValue()) === String(seed));
    await page.locator("#seed").fill("");
    await page.locator("#seed").dispatchEvent("change");
    await new Promise((r) => setTimeout(r, 1_000));
    expect(simulator!.simulator!.status().seed).toBe(seed);
    expect(await page.locator("#seed").inputValue()).toBe(String(seed));
    await page.locator("#seed").fill("-5");
    await page.locator("#seed").dispatchEvent("change");
    await waitFor("the refusal", async () => (await page.locator("#sim-error").count()) > 0);
    await waitFor("the simulator's seed shown again", async () => (await page.locator("#seed").inputValue()) === String(seed));
    expect(simulator!.simulator!.status().seed).toBe(seed);
  });

  it("says the processor has not reported once it stops, instead of 'live'; and that the simulator is not running once it stops", async () => {
    await processor!.stop();
    processor = undefined;
    const status = await waitFor("the processor's silence", async () => {
      const t = await text("#conn");
      return /^processor has not reported for \d+ s$/.test(t) ? t : undefined;
    }, 15_000, 250);
    expect(status).toMatch(/processor has not reported/);
    // The header's figures, the arms table and the safe-start panel are the last report's: each says so.
    for (const region of ["#figures", "ps-arms", "ps-safe-start"]) {
      expect(await page.locator(`${region}[data-stale]`).count(), `${region} marked stale`).toBe(1);
      expect(await text(`${region} .stale-tag`), `${region}'s stale mark`).toMatch(/^not current: processor has not reported for \d+ s$/);
    }
    await simulator!.stop();
    simulator = undefined;
    const off = await waitFor("the simulator gone", async () => ((await page.locator("#sim-off").count()) ? text("#sim-off") : undefined), 15_000, 250);
    expect(off).toMatch(/^Simulator not running \(start it with/);
    // Chromium logs the refused WebSocket (401) and the 401 of the page's question to the API; nothing else.
    for (const e of consoleErrors) expect(e).toMatch(/WebSocket connection to 'ws:\/\/.*\/ws' failed|status of 401/);
  });
});
