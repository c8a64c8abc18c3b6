// The dashboard in real headless Chromium against the real system (nats-server, processor, simulator).
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import type { Running } from "../../src/system.ts";
import { launchChromium, testOutputDir } from "../support/chromium.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { startParts, testConfig, waitFor } from "../support/system.ts";

let server: NatsServerHandle;
let sys: Running;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

beforeAll(async () => {
  server = await jetstreamServer();
  sys = await startParts("all", testConfig(server.url, { simulator: { speed: 30 }, processor: { snapshotEveryMs: 250 } }));
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(e.message));
  await page.goto(sys.url!);
});

afterAll(async () => {
  await browser?.close();
  await sys?.stop();
  await server?.stop();
});

const counter = async () => Number(await page.locator("#decision-count").textContent());

describe("dashboard", () => {
  it("connects, draws the posterior chart and the decision counter rises", async () => {
    await waitFor("live status", async () => (await page.locator("#conn").textContent()) === "live");
    const first = await waitFor("some decisions", async () => {
      const n = await counter();
      return n > 0 ? n : undefined;
    });
    await waitFor("the counter rising", async () => (await counter()) > first);
    const points = await waitFor("posterior chart data", async () => {
      const n = Number(await page.locator("#chart-posterior").getAttribute("data-points"));
      return n > 0 ? n : undefined;
    });
    expect(points).toBeGreaterThan(0);
    // uPlot drew into its canvas: some pixels are not blank.
    const inked = await page.locator("#chart-posterior canvas").first().evaluate((c) => {
      const d = (c as unknown as { getContext(k: "2d"): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } ; width: number; height: number }).getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
      return n;
    });
    expect(inked).toBeGreaterThan(100);
  });

  it("the speed slider changes the simulator's event rate", async () => {
    const rate = async () => Number(((await page.locator("#sim-rate").textContent()) ?? "0").split(" ")[0]);
    // Slider 0 ↔ 0.1×, 100 ↔ 100× (log scale).
    await page.locator("#speed").fill("0");
    await page.locator("#speed").dispatchEvent("change");
    await waitFor("speed 0.1×", async () => (await page.locator("#speed-value").textContent()) === "0.1×");
    const slow = await waitFor("slow rate settles", async () => {
      const r = await rate();
      return r < 20 ? r + 1 : undefined;
    }, 20_000);
    await page.locator("#speed").fill("80");
    await page.locator("#speed").dispatchEvent("change");
    await waitFor("speed above 10×", async () => parseFloat((await page.locator("#speed-value").textContent()) ?? "0") > 10);
    const fast = await waitFor("fast rate", async () => {
      const r = await rate();
      return r > 5 * slow ? r : undefined;
    }, 20_000);
    expect(fast).toBeGreaterThan(5 * slow);
  });

  it("has no console errors and writes a full-page screenshot", async () => {
    await page.screenshot({ path: join(testOutputDir(), "dashboard.png"), fullPage: true });
    expect(consoleErrors).toEqual([]);
  });
});
