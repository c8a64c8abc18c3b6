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
import { readStream } from "../support/streams.ts";
import { connect } from "@nats-io/transport-node";

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

  it("sends an order that got no answer under the same id when it is placed again: one purchase, not two", async () => {
    // Its own page: the answers it is refused show as failed loads, which are no console errors of the shop's.
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const tab = await ctx.newPage();
    tab.on("pageerror", (e) => consoleErrors.push(e.message));
    await tab.goto(`${base}/shop`);
    await tab.locator("#customer-input").fill("shopper-twice");
    await tab.locator("#customer-set").click();
    const [p] = ((await (await fetch(`${base}/api/catalog`)).json()) as { products: CatalogItemView[] }).products.filter((x) => x.stock > 5);
    await tab.goto(`${base}/shop#/p/${p!.id}`);
    await waitFor("the view's answer", async () => (await tab.locator("#offer, #decision-status:not([data-state='asking'])").count()) > 0);
    await tab.locator("#add-to-cart").click();
    await waitFor("the cart", async () => (await tab.locator("#cart li").count()) === 1);
    // The purchase reaches the server and is stored, but its answer never reaches the page (a connection
    // cut on the way back): the client asks again until its deadline, each time stored again as the same.
    await tab.route("**/api/events", async (route) => {
      await route.fetch();
      await route.abort("connectionreset");
    });
    await tab.locator("#checkout").click();
    await waitFor("the order without an answer", async () => (await tab.locator('#orders li[data-status="failed"]').count()) === 1, 15_000);
    await tab.unroute("**/api/events");
    await tab.locator("#checkout").click();
    await waitFor("the order placed", async () => (await tab.locator('#orders li:not([data-status="sending"]):not([data-status="failed"])').count()) === 1, 15_000);
    // One order on the page, counted once: the stream already had it.
    expect(await tab.locator("#orders li").count()).toBe(1);
    expect(await tab.locator("#orders li").getAttribute("data-status")).toBe("duplicate");
    const nc = await connect({ servers: nats.url });
    try {
      const purchases = (await readStream(nc, "EVENTS"))
        .map((m) => JSON.parse(new TextDecoder().decode(m.data)) as { type: string; customerId: string })
        .filter((e) => e.type === "purchase" && e.customerId === "shopper-twice");
      expect(purchases).toHaveLength(1);
    } finally {
      await nc.close();
      await ctx.close();
    }
  });

  it("has had no console errors", () => {
    expect(consoleErrors).toEqual([]);
  });
});
