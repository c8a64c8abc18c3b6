// A shop operator's session in real headless Chromium against the whole system in this process
// (nats-server, processor, simulator at a low speed, server with an API token): the shop on a phone,
// and the dashboard used from the keyboard. The tests run in order on one page.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import type { Config } from "../../src/config/index.ts";
import type { CatalogItemView } from "../../src/server/index.ts";
import type { Running } from "../../src/system.ts";
import { launchChromium, watchedPage } from "../support/chromium.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { freePort } from "../support/ports.ts";
import { startParts, testConfig, waitFor } from "../support/system.ts";

const TOKEN = "operator-test-token-0123456789";

let nats: NatsServerHandle;
let cfg: Readonly<Config>;
let sys: Running;
let browser: Browser;
let page: Page;
let base: string;
const consoleErrors: string[] = [];

beforeAll(async () => {
  nats = await jetstreamServer();
  cfg = testConfig(nats.url, { server: { port: await freePort(), token: TOKEN }, simulator: { speed: 2 }, processor: { snapshotEveryMs: 250 } });
  sys = await startParts("all", cfg);
  base = sys.url!.replace(/\/$/, "");
  browser = await launchChromium();
  page = await watchedPage(browser, { width: 1366, height: 768 }, consoleErrors);
});

afterAll(async () => {
  await browser?.close();
  await sys?.stop();
  await nats?.stop();
});

// Page-side code runs in Chromium, but this project compiles without the DOM library: name what it touches.
interface Win { document: { documentElement: { scrollWidth: number } }; innerWidth: number }
interface FocusEl { shadowRoot: { activeElement: FocusEl | null } | null; getAttribute(name: string): string | null }

const pageWidth = () =>
  page.evaluate(() => {
    const g = globalThis as unknown as Win;
    return { scroll: g.document.documentElement.scrollWidth, inner: g.innerWidth };
  });

type SnapshotMark = { kind: string; label: string };
/** The dashboard server's marks once one of `kind` is among them (its poll of the simulator sees a change within a second or so). */
const markedAs = (kind: string) =>
  waitFor(`a ${kind} mark on the server`, async () => {
    const { marks } = (await (await fetch(`${base}/api/snapshot`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { marks: SnapshotMark[] };
    return marks.some((m) => m.kind === kind) ? marks : undefined;
  }, 5_000);

describe("an operator's session", () => {
  it("the shop's product page, with its decision's why, does not scroll sideways on a 320 or 375 px phone", async () => {
    const catalog = ((await (await fetch(`${base}/api/catalog`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { products: CatalogItemView[] }).products;
    for (const [i, width] of [320, 375].entries()) {
      await page.setViewportSize({ width, height: 800 });
      // A new visit each time, so that the view is a decision point and the page shows the why.
      await page.goto(`${base}/shop?token=${TOKEN}#/`);
      await page.locator("#new-visit").click();
      await page.locator(`#products a.tile[data-product="${catalog[i]!.id}"]`).click();
      await waitFor(`the why of ${catalog[i]!.id}`, async () => (await page.locator("#why-candidates tbody tr").count()) > 0);
      const w = await waitFor(`no sideways scroll at ${width} px`, async () => {
        const x = await pageWidth();
        return x.scroll <= x.inner ? x : undefined;
      }, 3_000).catch(pageWidth);
      expect(w, `the product page at ${width} px`).toEqual({ scroll: width, inner: width });
    }
    await page.setViewportSize({ width: 1366, height: 768 });
    expect(consoleErrors).toEqual([]);
  });

  it("on the dashboard, a live decision's explanation opens from the keyboard: Tab to its row, Enter", async () => {
    await page.goto(`${base}/?token=${TOKEN}`);
    await waitFor("live decisions", async () => (await page.locator("ps-feed tbody tr").count()) > 0);
    // Tab through the page until a decision's row has the focus (the controls before it: a dozen at most).
    let id: string | null = null;
    for (let i = 0; i < 30 && !id; i++) {
      await page.keyboard.press("Tab");
      id = await page.evaluate(() => {
        let a = (globalThis as unknown as { document: { activeElement: FocusEl | null } }).document.activeElement;
        while (a?.shadowRoot?.activeElement) a = a.shadowRoot.activeElement;
        return a?.getAttribute("data-decision-id") ?? null;
      });
    }
    expect(id, "a decision's row reached with Tab").not.toBeNull();
    await page.keyboard.press("Enter");
    const shown = await waitFor("the explanation", async () => ((await page.locator("#explanation").count()) ? page.locator("#explanation b").first().textContent() : undefined), 3_000).catch(() => null);
    expect(shown).toBe(id);
    expect(consoleErrors).toEqual([]);
  });

  it("the safe-start button asks once for a double click: one mode change in the log, not two", async () => {
    await page.goto(`${base}/?token=${TOKEN}`);
    await waitFor("the learner's button", async () => (await page.locator("#safe-apprentice").count()) === 1);
    await page.locator("#safe-apprentice").dblclick();
    await waitFor("the apprentice", async () => (await page.locator("#safe-mode").textContent()) === "apprentice");
    // Both asks would have answered by now; the processor reports every 250 ms.
    await new Promise((r) => setTimeout(r, 2_000));
    const snap = (await (await fetch(`${base}/api/snapshot`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { kpi: { safe: { changes: { mode: string; reason: string }[] } } };
    expect(snap.kpi.safe.changes.filter((c) => c.reason === "manual")).toEqual([expect.objectContaining({ mode: "apprentice" })]);
    expect(consoleErrors).toEqual([]);
  });

  it("the scenario picker from the keyboard: the arrows choose and Enter switches once, not at every scenario passed", async () => {
    await page.goto(`${base}/?token=${TOKEN}`);
    await waitFor("the scenario picker", async () => (await page.locator("#scenario").count()) === 1);
    const from = sys.simulator!.status().scenario;
    const scenarios = sys.simulator!.status().scenarios;
    const want = scenarios[(scenarios.indexOf(from) + 2) % scenarios.length]!;
    await page.locator("#scenario").focus();
    for (let i = 0; i < 2; i++) await page.keyboard.press("ArrowDown");
    await new Promise((r) => setTimeout(r, 1_500));
    expect(sys.simulator!.status().scenario, "the simulator while the picker is being moved through").toBe(from);
    expect(await page.locator("#scenario").inputValue()).toBe(want);
    await page.keyboard.press("Enter");
    await waitFor(`the simulator on ${want}`, async () => sys.simulator!.status().scenario === want, 5_000);
    // The server marks a change when its poll of the simulator's status sees it: wait for the mark.
    const marks = await markedAs("scenario");
    expect(marks.filter((m) => m.kind === "scenario").map((m) => m.label)).toEqual([want]);
    expect(consoleErrors).toEqual([]);
  });

  it("the Seed field from the keyboard: the arrows step and Enter reseeds once, not at every step", async () => {
    await waitFor("the Seed field", async () => (await page.locator("#seed").count()) === 1);
    const from = sys.simulator!.status().seed;
    await page.locator("#seed").focus();
    for (let i = 0; i < 2; i++) await page.keyboard.press("ArrowUp");
    await new Promise((r) => setTimeout(r, 1_500));
    expect(sys.simulator!.status().seed, "the simulator while the field is being stepped").toBe(from);
    expect(await page.locator("#seed").inputValue()).toBe(String(from + 2));
    await page.keyboard.press("Enter");
    await waitFor(`the simulator on seed ${from + 2}`, async () => sys.simulator!.status().seed === from + 2, 5_000);
    const marks = await markedAs("seed");
    expect(marks.filter((m) => m.kind === "seed").map((m) => m.label)).toEqual([`seed ${from + 2}`]);
    expect(consoleErrors).toEqual([]);
  });
});
