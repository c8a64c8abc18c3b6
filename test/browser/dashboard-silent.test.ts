// A connection cut without a close reaching the page (a network that drops packets, a laptop's Wi-Fi
// asleep): the socket stays open to the page while no frame comes. Chromium's offline emulation does
// exactly that to an open WebSocket. The page said "live" over frozen figures all along (seen for 10 s
// by the UI review); it now says how long it has heard nothing, greys its figures, and after longer takes
// the socket for dead and opens another, back to live once the network is.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import type { Running } from "../../src/system.ts";
import { launchChromium, watchedPage } from "../support/chromium.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { freePort } from "../support/ports.ts";
import { startParts, testConfig, waitFor } from "../support/system.ts";

let nats: NatsServerHandle;
let sys: Running;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

beforeAll(async () => {
  nats = await jetstreamServer();
  sys = await startParts("all", testConfig(nats.url, { server: { port: await freePort() }, simulator: { speed: 5 }, processor: { snapshotEveryMs: 250 } }));
  browser = await launchChromium();
  page = await watchedPage(browser, { width: 1366, height: 768 }, consoleErrors);
  await page.goto(sys.url!);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await sys?.stop();
  await nats?.stop();
});

const status = async () => (await page.locator("#conn").textContent())?.trim() ?? "";

describe("the dashboard on a connection that goes silent", { timeout: 90_000 }, () => {
  it("says it hears nothing, greys its figures, then opens a new socket, and is live again once the network is back", async () => {
    await waitFor("live", async () => (await status()) === "live", 30_000, 100);
    await page.context().setOffline(true);
    // Silent past max(5 s, 20 frames of server.deltaEveryMs): not live any more, the figures marked stale.
    await waitFor("the silence shown", async () => /^no update from the server for \d+ s$/.test(await status()), 12_000, 200);
    expect(await page.locator("#figures").getAttribute("data-stale")).not.toBeNull();
    // Three times that: taken for dead, a new socket tried (and refused while offline).
    await waitFor("a new socket tried", async () => (await status()) === "reconnecting", 20_000, 200);
    await page.context().setOffline(false);
    await waitFor("live again", async () => (await status()) === "live", 20_000, 200);
    expect(Number(await page.locator("#conn").getAttribute("data-reconnects"))).toBeGreaterThanOrEqual(1);
    expect(await page.locator("#figures").getAttribute("data-stale")).toBeNull();
  });
});
