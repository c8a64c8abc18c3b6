import { describe, expect, it } from "vitest";
import { fitDecision } from "./fit.ts";
import { isValidDecision, type Decision } from "./index.ts";

const T = Date.parse("2026-03-02T08:00:00Z");
function decision(candidates: number, excluded: number, promotionId = "p-3"): Decision {
  return {
    id: "d-e1",
    ts: T,
    customerId: "c1",
    channel: "email",
    promotionId,
    holdout: false,
    segment: "new",
    propensity: 0.25,
    eventId: "e1",
    point: "send",
    expiresAt: T + 86_400_000,
    explanation: {
      candidates: [...Array.from({ length: candidates }, (_, i) => ({ promotionId: `p-${i}`, score: 12.34 + i, marginCents: 1500 })), { promotionId: "control", score: 10.5, marginCents: 1600 }],
      excluded: Array.from({ length: excluded }, (_, i) => ({ promotionId: `x-${i}`, reason: "wrong-channel" as const })),
    },
  };
}
const bytes = (s: string) => Buffer.byteLength(s);

describe("fitDecision", () => {
  it("leaves a decision that fits as it is (the same object)", () => {
    const d = decision(5, 20);
    const f = fitDecision(d, 65_536 - 512);
    expect(f.decision).toBe(d);
    expect(f.json).toBe(JSON.stringify(d));
  });

  it("shortens the exclusions first, saying how many it left out, within the limit and valid", () => {
    const d = decision(5, 600);
    expect(bytes(JSON.stringify(d))).toBeGreaterThan(8_000);
    const f = fitDecision(d, 8_000);
    expect(bytes(f.json)).toBeLessThanOrEqual(8_000);
    expect(JSON.parse(f.json)).toEqual(f.decision);
    expect(isValidDecision(f.decision)).toBe(true);
    const x = f.decision.explanation;
    expect(x.candidates).toEqual(d.explanation.candidates);
    expect(x.excluded.length + x.excludedOmitted!).toBe(600);
    expect(x.excluded).toEqual(d.explanation.excluded.slice(0, x.excluded.length));
    // The most that fits: one more would not.
    expect(bytes(JSON.stringify({ ...f.decision, explanation: { ...x, excluded: d.explanation.excluded.slice(0, x.excluded.length + 1) } }))).toBeGreaterThan(8_000);
    // What a storefront acts on is untouched.
    expect({ ...f.decision, explanation: undefined }).toEqual({ ...d, explanation: undefined });
  });

  it("then the other candidates, keeping the chosen one", () => {
    const d = decision(400, 100, "p-250");
    const f = fitDecision(d, 4_000);
    expect(bytes(f.json)).toBeLessThanOrEqual(4_000);
    expect(isValidDecision(f.decision)).toBe(true);
    const x = f.decision.explanation;
    expect(x.excluded).toEqual([]);
    expect(x.excludedOmitted).toBe(100);
    expect(x.candidates.find((c) => c.promotionId === "p-250")).toEqual({ promotionId: "p-250", score: 262.34, marginCents: 1500 });
    expect(x.candidates.length - 1 + x.candidatesOmitted!).toBe(400);
  });
});
