import { describe, expect, it } from "vitest";
import { decodeEvent, encodeEvent, Subjects, type ShopEvent } from "./index.ts";
import { copyId, fitId } from "./ids.ts";
import { ID_MAX_LENGTH, ID_PATTERN } from "./schema.ts";

const TS = Date.parse("2026-03-02T08:00:00Z");
/** The longest id the contract allows, of every character it allows. */
const LONGEST = "Ab9._:@-".repeat(16);
const valid = (ev: ShopEvent, max = 65_536) => {
  const d = decodeEvent(encodeEvent(ev), max);
  return d.ok ? "accepted" : `${d.reason}: ${d.detail}`;
};

describe("derived ids", () => {
  it("keep an id that fits as it is", () => {
    expect(fitId("inv-42", 6)).toBe("inv-42");
    expect(copyId("inv-42", "s", 3)).toBe("inv-42.s3");
    expect(copyId("x".repeat(ID_MAX_LENGTH - 6), "p", 1023)).toBe(`${"x".repeat(ID_MAX_LENGTH - 6)}.p1023`);
  });

  it("shorten one that does not to its start and a digest: valid, the same every time, different for different ids", () => {
    expect(LONGEST.length).toBe(ID_MAX_LENGTH);
    const a = copyId(LONGEST, "s", 1023);
    expect(a.length).toBeLessThanOrEqual(ID_MAX_LENGTH);
    expect(a).toMatch(new RegExp(ID_PATTERN));
    expect(a).toBe(copyId(LONGEST, "s", 1023));
    expect(a.startsWith(LONGEST.slice(0, 60))).toBe(true);
    // Ids that differ only past the kept start (or only in length) stay apart.
    const b = copyId(`${LONGEST.slice(0, -1)}Z`, "s", 1023);
    const c = copyId(LONGEST.slice(0, -1), "s", 1023);
    expect(new Set([a, b, c]).size).toBe(3);
    expect(fitId(LONGEST, 40).length).toBe(ID_MAX_LENGTH - 40);
  });

  it("make copies of a shop's longest ids that the event schema accepts: stock copies, mode and promotion changes on 1024 partitions", () => {
    const inventory: ShopEvent = { type: "inventory", id: LONGEST, ts: TS, productId: "sku-001", category: "toys", stock: 5, priceCents: 2000, costCents: 1200 };
    expect(valid(inventory)).toBe("accepted");
    // src/scale/inventory.ts copies it into each partition.
    for (const k of [0, 9, 1023]) expect(valid({ ...inventory, type: "stock", id: copyId(inventory.id, "s", k) })).toBe("accepted");
    const subjects = new Subjects();
    // src/processor/processor.ts: a graduation's change id is grad-<the triggering event's id>.
    // It names the apprenticeship that earned it: the change that began it, as an engine keeps it (a copy's id without .p<n>).
    const since = copyId(`mode-${LONGEST}`, "p", 1023).replace(/\.p\d+$/, "");
    const modes = subjects.modeChange({ mode: "conservative", reason: "graduated", since, evidence: { decisions: 5000, mean: 90, lo: 10, hi: 170 } }, `grad-${LONGEST}`, TS, 1024);
    const promotions = subjects.promotionChange({ id: "p1", name: "p1", kind: "amount", amountOffCents: 100, channels: ["web"], budgetCents: 1000, maxDiscountCents: 100 }, `promo-${LONGEST}`, TS, 1024);
    for (const r of [...modes, ...promotions]) expect(valid(r.event)).toBe("accepted");
    expect(new Set(modes.map((r) => r.event.id)).size).toBe(1024);
    // Every copy names the one change (src/engine/safe.ts applies it once).
    expect(new Set(modes.map((r) => r.event.id.replace(/\.p\d+$/, ""))).size).toBe(1);
  });
});
