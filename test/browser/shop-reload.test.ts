// The shop page reloaded in the middle of a visit (and a second tab of it), in real headless Chromium against the
// whole system in this process (nats-server, processor, simulator at a low speed, server). A reload is
// the same visit (its id is in sessionStorage), so the engine does not decide again on a product already
// viewed; the offer the visit's decision made must still be on the product's page after the reload (it
// was lost: "No decision at this view", the shopper's discount gone), and an offer an order has used must
// come back as used, not as one to take again.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import type { Config } from "../../src/config/index.ts";
import type { CatalogItemView } from "../../src/server/index.ts";
import type { Running } from "../../src/system.ts";
import { launchChromium, watchedPage } from "../support/chromium.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { freePort } from "../support/ports.ts";
import { startParts, testConfig, waitFor } from "../support/system.ts";

/** Visits tried before giving up on an offer (control and the holdout take some). */
const MAX_TRIES = 15;

let nats: NatsServerHandle;
let cfg: Readonly<Config>;
let sys: Running;
let browser: Browser;
let page: Page;
let base: string;
const consoleErrors: string[] = [];

beforeAll(async () => {
  nats = await jetstreamServer();
  cfg = testConfig(nats.url, { server: { port: await freePort() }, simulator: { speed: 2 }, processor: { snapshotEveryMs: 250 } });
  sys = await startParts("all", cfg);
  base = sys.url!.replace(/\/$/, "");
  browser = await launchChromium();
  page = await watchedPage(browser, { width: 1366, height: 900 }, consoleErrors);
});

afterAll(async () => {
  await browser?.close();
  await sys?.stop();
  await nats?.stop();
});

const answered = () => waitFor("the view's answer", async () => (await page.locator("#offer, #decision-status:not([data-state='asking'])").count()) > 0);

describe("the shop, reloaded mid-visit", () => {
  let decisionId = "";

  it("keeps the visit's offer on the product's page after a reload", async () => {
    await page.goto(`${base}/shop`);
    const catalog = ((await (await fetch(`${base}/api/catalog`)).json()) as { products: CatalogItemView[] }).products;
    // The promotions that apply to one category are offered on its products: try those first.
    const promos = ((await (await fetch(`${base}/api/promotions`)).json()) as { configured: { category?: string }[] }).configured;
    const categories = new Set(promos.map((p) => p.category).filter(Boolean));
    const tries = catalog.filter((p) => categories.has(p.category)).slice(0, MAX_TRIES);
    for (const p of tries) {
      await page.goto(`${base}/shop#/p/${p.id}`);
      await page.locator("#new-visit").click();
      await answered();
      if ((await page.locator("#offer").count()) === 1) {
        decisionId = (await page.locator("#offer").getAttribute("data-decision-id"))!;
        break;
      }
    }
    expect(decisionId, `an offer within ${tries.length} visits`).not.toBe("");
    const visit = (await page.locator("#visit-id").textContent())!.trim();
    await page.reload();
    await answered();
    expect((await page.locator("#visit-id").textContent())!.trim()).toBe(visit);
    // The view after the reload is no decision point (the visit had it), but the offer stands.
    expect(await page.locator("#offer").count()).toBe(1);
    expect(await page.locator("#offer").getAttribute("data-decision-id")).toBe(decisionId);
    expect(await page.locator("#offer").getAttribute("data-earlier")).toBe("true");
    expect(await page.locator("#offer").getAttribute("data-used")).toBe("false");
  });

  it("shows an offer an order used as used after a reload, not as one to take again", async () => {
    await page.locator("#buy").click();
    await waitFor("the order placed", async () => (await page.locator(`#orders li[data-status="accepted"][data-decision-id="${decisionId}"]`).count()) === 1);
    await waitFor("the offer marked used", async () => (await page.locator("#offer").getAttribute("data-used")) === "true");
    await page.reload();
    await answered();
    expect(await page.locator("#offer").getAttribute("data-decision-id")).toBe(decisionId);
    expect(await page.locator("#offer").getAttribute("data-used")).toBe("true");
    expect(await page.locator("#use-offer").count()).toBe(0);
  });

  it("follows another tab that became another customer, with a visit of its own", async () => {
    // Two tabs of one browser profile (one context: shared localStorage, a sessionStorage each).
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const [tab, other] = [await ctx.newPage(), await ctx.newPage()];
    for (const t of [tab, other]) t.on("pageerror", (e) => consoleErrors.push(e.message));
    await tab.goto(`${base}/shop`);
    await other.goto(`${base}/shop`);
    const idOf = async (t: typeof tab) => ((await t.locator("#customer-id").textContent()) ?? "").trim();
    await waitFor("both tabs' shopper", async () => (await idOf(tab)) !== "" && (await idOf(other)) !== "");
    expect(await idOf(other)).toBe(await idOf(tab));
    const visitBefore = (await tab.locator("#visit-id").textContent())!.trim();
    await other.locator("#customer-input").fill("shopper-othertab");
    await other.locator("#customer-set").click();
    await waitFor("the first tab following", async () => (await idOf(tab)) === "shopper-othertab");
    expect((await tab.locator("#visit-id").textContent())!.trim()).not.toBe(visitBefore);
    await ctx.close();
  });

  it("has had no console errors", () => {
    expect(consoleErrors).toEqual([]);
  });
});
