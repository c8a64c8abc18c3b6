// The dashboard with 150 promotions configured, in real headless Chromium against the real system (a
// nats-server, the processor, the simulator and the server), as an operator's wall screen would show it.
// Every chart's legend listed every arm: with 150 arms each arm chart's panel grew to 806 px (the plot
// 150 px of it) and the page to 4838 px at 1920×1080, so no two rows of charts fitted on a screen.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import type { Config } from "../../src/config/index.ts";
import type { Running } from "../../src/system.ts";
import { launchChromium, watchedPage } from "../support/chromium.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { freePort } from "../support/ports.ts";
import { startParts, testConfig, waitFor } from "../support/system.ts";

// Page-side code runs in Chromium, but this project compiles without the DOM library: name what it touches.
interface Legend { scrollHeight: number; clientHeight: number }
declare const getComputedStyle: (e: Legend) => { overflowY: string };

const PROMOTIONS = 150;
const CATEGORIES = ["electronics", "home", "toys", "fashion"];

let nats: NatsServerHandle;
let processor: Running;
let simulator: Running;
let server: Running;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

beforeAll(async () => {
  nats = await jetstreamServer();
  const promotions = Array.from({ length: PROMOTIONS }, (_, i) => {
    const category = CATEGORIES[i % CATEGORIES.length]!;
    return { id: `p${i}-${category}`, name: `${5 + (i % 30)}% off ${category}`, kind: "percent", percentOff: 5 + (i % 30), category, channels: ["web", "email"], budgetCents: 20_000_000, maxDiscountCents: 3000 };
  }) as Config["promotions"];
  const cfg = testConfig(nats.url, { server: { port: await freePort() }, simulator: { speed: 30 }, processor: { snapshotEveryMs: 250 }, promotions });
  processor = await startParts("processor", cfg);
  simulator = await startParts("simulator", cfg);
  server = await startParts("server", cfg);
  browser = await launchChromium();
  page = await watchedPage(browser, { width: 1920, height: 1080 }, consoleErrors);
  await page.goto(server.url!);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await simulator?.stop();
  await processor?.stop();
  await nats?.stop();
});

describe("the dashboard with 150 promotions", () => {
  it("keeps each chart's panel about its plot's height however many arms its legend lists", async () => {
    // Every arm is in the posterior chart from the first KPI snapshot on.
    await waitFor("150 arms in the posterior chart", async () => (await page.locator("#chart-posterior .legend span").count()) > PROMOTIONS, 30_000);
    const heights = await page.locator("ps-chart").evaluateAll((els) => els.map((e) => [e.id, Math.round(e.getBoundingClientRect().height)] as const));
    for (const [id, h] of heights) expect(h, id).toBeLessThanOrEqual(260);
    // The legend still names every arm: it scrolls rather than being cut.
    const legend = page.locator("#chart-posterior .legend");
    expect(await legend.evaluate((e: Legend) => e.scrollHeight > e.clientHeight && getComputedStyle(e).overflowY === "auto")).toBe(true);
    expect(consoleErrors).toEqual([]);
  }, 60_000);
});
