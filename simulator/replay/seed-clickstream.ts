// The seed project's clickstream (../shared/datasets/seed-clickstream/): one row per shopper event,
// UserID,SessionID,Timestamp,EventType,ProductID,Amount,Outcome.
//
// Mapping to our events (src/events):
//   login        → visit (web decision point; a login is where a session starts), sessionId
//   page_view    → view without a product (ProductID is empty on page views: that is the log's
//                  normal, not an error; a product id is kept if one is there)
//   product_view → view of ProductID (required)
//   click        → click (ProductID when present)
//   add_to_cart  → cart of ProductID (required), quantity 1, priceCents = the price of that product
//                  in the latest purchase row read before (file order), else 0: the log has Amount
//                  only on purchases, so 0 means "price unknown"
//   purchase     → purchase, totalCents = Amount (required), one item of ProductID when present
//   logout       → no event (the contract has none): the row is counted as skipped, not malformed
// customerId = "sc-<UserID>", sessionId = "sc-<UserID>-<SessionID>"; Outcome (only ever "purchase"
// on purchase rows) adds nothing and is not read. Timestamps without an offset are taken as UTC.
import { LRUCache } from "lru-cache";
import type { ShopEvent } from "../../src/events/index.ts";
import { parseCents, parseLogTime, rowEventId, show, SKU, type CsvRow, type ReplayFormat, type RowResult } from "./format.ts";

const COLUMNS = ["UserID", "SessionID", "Timestamp", "EventType", "ProductID", "Amount", "Outcome"] as const;
const ID = /^[A-Za-z0-9_-]{1,64}$/;

export const seedClickstream: ReplayFormat = {
  name: "seed-clickstream",
  summary: "the seed project's clickstream CSV (UserID,SessionID,Timestamp,EventType,ProductID,Amount,Outcome)",
  columns: COLUMNS,
  defaultStartMs: 0,
  createMapper() {
    // Prices seen on purchases, for carts (bounded: a log may name millions of products).
    const prices = new LRUCache<string, number>({ max: 200_000 });
    return (row: CsvRow): RowResult => {
      const [user, session, time, type, product, amount] = row.fields.map((f) => f.trim()) as [string, string, string, string, string, string, string];
      if (!ID.test(user)) return { kind: "malformed", reason: `UserID ${show(user)} is not an id (letters, digits, _ or -)` };
      if (!ID.test(session)) return { kind: "malformed", reason: `SessionID ${show(session)} is not an id (letters, digits, _ or -)` };
      const ts = parseLogTime(time);
      if (ts === undefined) return { kind: "malformed", reason: `Timestamp ${show(time)} is not a time between 2000 and 2100` };
      if (product !== "" && !SKU.test(product)) return { kind: "malformed", reason: `ProductID ${show(product)} is not a sku (letters, digits, . _ -)` };
      const base = { id: rowEventId("sc", row), ts, customerId: `sc-${user}`, sessionId: `sc-${user}-${session}` };
      const needProduct = (): RowResult => ({ kind: "malformed", reason: `${type} without a ProductID` });
      let e: ShopEvent;
      switch (type) {
        case "login":
          e = { type: "visit", ...base, channel: "web" };
          break;
        case "page_view":
          e = { type: "view", ...base, ...(product ? { productId: product } : {}) };
          break;
        case "product_view":
          if (!product) return needProduct();
          e = { type: "view", ...base, productId: product };
          break;
        case "click":
          e = { type: "click", ...base, ...(product ? { productId: product } : {}) };
          break;
        case "add_to_cart":
          if (!product) return needProduct();
          e = { type: "cart", ...base, productId: product, quantity: 1, priceCents: prices.get(product) ?? 0 };
          break;
        case "purchase": {
          const cents = parseCents(amount);
          if (cents === undefined) return { kind: "malformed", reason: `purchase with Amount ${show(amount)}, not a non-negative number` };
          if (product) prices.set(product, cents);
          e = { type: "purchase", ...base, totalCents: cents, ...(product ? { items: [{ productId: product, quantity: 1, priceCents: cents }] } : {}) };
          break;
        }
        case "logout":
          return { kind: "skipped", reason: "logout (the contract has no event for it)" };
        default:
          return { kind: "malformed", reason: `unknown EventType ${show(type)}` };
      }
      return { kind: "events", events: [e] };
    };
  },
};
