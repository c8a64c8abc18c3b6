import { describe, expect, it } from "vitest";
import type { CsvRow } from "./format.ts";
import { seedClickstream } from "./seed-clickstream.ts";

let index = 0;
const row = (raw: string): CsvRow => ({ line: ++index + 1, index, fields: raw.split(","), raw });
const ts = Date.UTC(2024, 2, 5, 22, 1, 0, 72);

describe("seed-clickstream rows → events", () => {
  it("maps each event type of the log to the contract's", () => {
    const map = seedClickstream.createMapper({ startMs: 0 });
    const base = { ts, customerId: "sc-1", sessionId: "sc-1-2" };
    const cases: [string, object][] = [
      ["1,2,2024-03-05 22:01:00.072000,login,,,", { type: "visit", ...base, channel: "web" }],
      ["1,2,2024-03-05 22:01:00.072000,page_view,,,", { type: "view", ...base }],
      ["1,2,2024-03-05 22:01:00.072000,product_view,prod_8199,,", { type: "view", ...base, productId: "prod_8199" }],
      ["1,2,2024-03-05 22:01:00.072000,click,,,", { type: "click", ...base }],
      ["1,2,2024-03-05 22:01:00.072000,click,prod_1,,", { type: "click", ...base, productId: "prod_1" }],
      ["1,2,2024-03-05 22:01:00.072000,add_to_cart,prod_4112,,", { type: "cart", ...base, productId: "prod_4112", quantity: 1, priceCents: 0 }],
      [
        "1,2,2024-03-05 22:01:00.072000,purchase,prod_5244,72.91361870063564,purchase",
        { type: "purchase", ...base, totalCents: 7291, items: [{ productId: "prod_5244", quantity: 1, priceCents: 7291 }] },
      ],
    ];
    for (const [raw, want] of cases) {
      const r = map(row(raw));
      expect(r.kind, raw).toBe("events");
      if (r.kind !== "events") continue;
      expect(r.events).toHaveLength(1);
      const { id, ...rest } = r.events[0]!;
      expect(rest, raw).toEqual(want);
      expect(id).toMatch(/^sc-\d+-[0-9a-z]+$/);
    }
  });

  it("prices a cart from the latest purchase of the product read before it", () => {
    const map = seedClickstream.createMapper({ startMs: 0 });
    map(row("7,1,2024-03-05 10:00:00,purchase,prod_9,12.50,purchase"));
    const r = map(row("8,1,2024-01-05 10:00:00,add_to_cart,prod_9,,"));
    expect(r.kind === "events" && r.events[0]).toMatchObject({ type: "cart", priceCents: 1250 });
  });

  it("skips logouts with a reason and reports malformed rows with what is wrong", () => {
    const map = seedClickstream.createMapper({ startMs: 0 });
    expect(map(row("1,2,2024-03-05 22:01:00,logout,,,"))).toEqual({ kind: "skipped", reason: expect.stringContaining("logout") });
    const bad: [string, RegExp][] = [
      ["1,2,2024-03-05 22:01:00,product_view,,,", /product_view without a ProductID/],
      ["1,2,2024-03-05 22:01:00,add_to_cart,,,", /add_to_cart without a ProductID/],
      ["1,2,2024-03-05 22:01:00,purchase,prod_1,,purchase", /Amount ""/],
      ["1,2,2024-03-05 22:01:00,purchase,prod_1,-3,purchase", /Amount "-3"/],
      ["1,2,2024-03-05 25:01:00,login,,,", /Timestamp/],
      ["1,2,1970-01-01 00:00:00,login,,,", /between 2000 and 2100/],
      ["1,2,2024-03-05 22:01:00,wishlist,,,", /unknown EventType "wishlist"/],
      [",2,2024-03-05 22:01:00,login,,,", /UserID ""/],
      ["1,,2024-03-05 22:01:00,login,,,", /SessionID ""/],
      ["1,2,2024-03-05 22:01:00,product_view,prod 1,,", /ProductID "prod 1" is not a sku/],
    ];
    for (const [raw, why] of bad) {
      const r = map(row(raw));
      expect(r.kind, raw).toBe("malformed");
      if (r.kind === "malformed") expect(r.reason, raw).toMatch(why);
    }
  });
});
