// Issue 23's panel in real headless Chromium against the real system: the processor in apprentice
// mode, the simulator fast, the server; the panel shows the mode, the rule's share and the learner
// against the rule with its interval over time, marks the graduation, and its button sends the engine
// back to apprentice through promo.control and the log.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import type { Config } from "../../src/config/index.ts";
import type { Running } from "../../src/system.ts";
import { launchChromium, testOutputDir, watchedPage } from "../support/chromium.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { freePort } from "../support/ports.ts";
import { startParts, testConfig, waitFor } from "../support/system.ts";
import { join } from "node:path";

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
  // As the live test: 10-minute web windows, a fifth explored, 500 closed decisions before graduating.
  cfg = testConfig(nats.url, {
    server: { port: await freePort() },
    simulator: { speed: 100 },
    processor: { snapshotEveryMs: 250 },
    attribution: { windowSecByChannel: { web: 600 } },
    features: { allowedLatenessSec: 30 },
    policy: { mode: "apprentice", apprenticeExplore: 0.2, graduateAfter: 500 },
  });
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

const text = async (sel: string) => (await page.locator(sel).textContent()) ?? "";

describe("safe-start panel", () => {
  it("shows the apprentice: the shop's rule, its share of the decisions, and the learner against it", async () => {
    await waitFor("the apprentice badge", async () => (await text("#safe-mode")) === "apprentice", 30_000);
    // Read while the badge still says apprentice (after the facts: the mode only moves on from it here):
    // on a host at load average 9 the engine graduated before this read, which then saw the bound's panel.
    const facts = await waitFor("the evidence", async () => {
      const t = await text("#safe-facts");
      return t.includes("over ") && t.includes("closed") && (await text("#safe-mode")) === "apprentice" ? t : undefined;
    }, 60_000, 100);
    expect(facts).toContain("seed-rule");
    expect(facts).toMatch(/served by the rule\s*\d+\.\d%/);
    expect(facts).toMatch(/learner − rule, margin per decision \(95%\)/);
    expect(await page.locator("#safe-conservative").textContent()).toBe("Graduate now");
  });

  it("graduates on its own: the badge, the graduation's evidence, its mark on the chart, and the interval plotted", async () => {
    await waitFor("the graduation", async () => (await text("#safe-mode")) === "conservative", 180_000, 500);
    expect(await text("#safe-graduated")).toMatch(/graduated to conservative at decision \d+: learner − rule \$\d+\.\d\d \[\$\d+\.\d\d, \$\d+\.\d\d\] over \d+ closed decisions/);
    await waitFor("the graduation's mark on the chart", async () => ((await page.locator("#chart-safe").getAttribute("data-marks")) ?? "").includes("graduated: conservative"), 20_000, 250);
    expect(Number(await page.locator("#chart-safe").getAttribute("data-points"))).toBeGreaterThan(10);
    await page.screenshot({ path: join(testOutputDir(), "safe-start.png"), fullPage: true });
  });

  it("its button sends the engine back to apprentice, through promo.control and the log", async () => {
    await page.locator("#safe-apprentice").click();
    await waitFor("apprentice again", async () => (await text("#safe-mode")) === "apprentice", 20_000, 250);
    await waitFor("the mark", async () => ((await page.locator("#chart-safe").getAttribute("data-marks")) ?? "").includes("mode: apprentice"), 20_000, 250);
    expect(await page.locator("#safe-error").count()).toBe(0);
    expect(consoleErrors).toEqual([]);
  });
});
