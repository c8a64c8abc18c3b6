import { describe, expect, it } from "vitest";
import type { Decision } from "../../src/events/index.ts";
import type { OutcomeBrief } from "../../src/server/index.ts";
import { followDecisions, formatOutcome, joinOutcomes, MAX_FOLLOWED } from "./outcomes.ts";

const decision = (id: string, ts: number, customerId = "c00001"): Decision => ({
  id, ts, customerId, channel: "web", promotionId: "free-shipping", holdout: false, segment: "new", propensity: 0.5, eventId: id.slice(2), point: "product-view", expiresAt: ts + 1000,
  explanation: { candidates: [], excluded: [] },
});
const brief = (decisionId: string, closedBy: OutcomeBrief["closedBy"] = "redeemed", revenueCents = 7_080): OutcomeBrief => ({ decisionId, closedBy, closedAt: 5, revenueCents, discountCents: 699, marginCents: 2_088 });

describe("joinOutcomes", () => {
  it("keeps the outcomes of the decisions on show only, new ones added", () => {
    const known = new Map([["d-a", brief("d-a")], ["d-gone", brief("d-gone")]]);
    const j = joinOutcomes(known, [brief("d-b", "expired", 0), brief("d-elsewhere")], [[decision("d-a", 1), decision("d-b", 2)], [decision("d-c", 3)]]);
    expect([...j.keys()].sort()).toEqual(["d-a", "d-b"]);
    expect(j.get("d-b")!.closedBy).toBe("expired");
  });

  it("answers the same map when nothing changed (no new render)", () => {
    const known = new Map([["d-a", brief("d-a")]]);
    expect(joinOutcomes(known, [], [[decision("d-a", 1)]])).toBe(known);
    expect(joinOutcomes(known, undefined, [[decision("d-a", 1)]])).toBe(known);
  });

  it("a later outcome of the same decision replaces the first (a republish carries the same)", () => {
    const j = joinOutcomes(new Map([["d-a", brief("d-a", "purchased")]]), [brief("d-a", "redeemed")], [[decision("d-a", 1)]]);
    expect(j.get("d-a")!.closedBy).toBe("redeemed");
  });
});

describe("followDecisions", () => {
  it("keeps the followed customer's decisions, once each, newest first", () => {
    let kept = followDecisions([], [decision("d-1", 1, "me"), decision("d-2", 2, "c00001")], "me");
    kept = followDecisions(kept, [decision("d-3", 3, "me"), decision("d-1", 1, "me")], "me");
    expect(kept.map((d) => d.id)).toEqual(["d-3", "d-1"]);
  });

  it("is bounded, and empty when nobody is followed", () => {
    const many = Array.from({ length: MAX_FOLLOWED + 5 }, (_, i) => decision(`d-${i}`, i, "me"));
    const kept = followDecisions([], many, "me");
    expect(kept).toHaveLength(MAX_FOLLOWED);
    expect(kept[0]!.id).toBe(`d-${MAX_FOLLOWED + 4}`);
    expect(followDecisions(kept, many, "")).toEqual([]);
  });

  it("puts new decisions above the kept ones even when the shop's clock has started again (a restart on a fresh store)", () => {
    const kept = Array.from({ length: MAX_FOLLOWED }, (_, i) => decision(`old-${i}`, 1_000_000 - i, "me"));
    expect(followDecisions(kept, [decision("new-1", 1, "me")], "me")[0]!.id).toBe("new-1");
  });
});

describe("formatOutcome", () => {
  it("says open, or how it closed and what the purchase brought", () => {
    expect(formatOutcome(undefined)).toBe("open");
    expect(formatOutcome(brief("d", "redeemed", 7_080))).toBe("redeemed $70.80");
    expect(formatOutcome(brief("d", "purchased", 1_999))).toBe("purchased $19.99");
    expect(formatOutcome(brief("d", "expired", 0))).toBe("expired");
  });
});
