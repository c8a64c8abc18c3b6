import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { HOUR, T0, promo } from "../../test/support/engine.ts";
import type { Channel } from "../events/index.ts";
import { EligibilityCache, PromotionTable } from "./eligibility.ts";
import { staticExclusionOf } from "./guards.ts";
import type { DecisionProduct } from "./margin.ts";
import type { Promotion } from "./types.ts";

const CHANNELS: Channel[] = ["web", "email", "sms", "push"];
const toy: DecisionProduct = { productId: "sku-1", category: "toys", priceCents: 4_000, costCents: 2_000 };
const home: DecisionProduct = { productId: "sku-2", category: "home", priceCents: 1_000, costCents: 500 };

/** What the cache must say: staticExclusionOf of every promotion, in order. */
function expected(promotions: ReadonlyMap<string, Promotion>, channel: Channel, product: DecisionProduct | undefined, nowMs: number) {
  return [...promotions.values()].map((p) => staticExclusionOf(p, channel, nowMs, product));
}

function verdicts(cache: EligibilityCache, promotions: ReadonlyMap<string, Promotion>, channel: Channel, product: DecisionProduct | undefined, nowMs: number) {
  const g = cache.generation(promotions);
  const s = g.at(channel, product, nowMs);
  expect(s.candidates).toEqual(s.why.flatMap((w, i) => (w ? [] : [i])));
  expect(s.excluded).toEqual(s.why.flatMap((w, i) => (w ? [{ promotionId: g.promos[i]!.id, reason: w }] : [])));
  return s.why;
}

describe("EligibilityCache", () => {
  it("gives the static guards' verdicts, in promotion order, across schedule bounds, channels and products", () => {
    const t = new PromotionTable();
    for (const p of [
      promo("toys", { category: "toys" }),
      promo("sku-1", { productId: "sku-1", channels: ["web"] }),
      promo("later", { startsAtMs: T0 + HOUR }),
      promo("ends", { endsAtMs: T0 + 2 * HOUR, channels: ["email", "push"] }),
      promo("all"),
    ])
      t.set(p.id, p);
    const cache = new EligibilityCache();
    for (const now of [T0, T0 + HOUR - 1, T0 + HOUR, T0 + 2 * HOUR - 1, T0 + 2 * HOUR, T0 + HOUR, T0])
      for (const channel of CHANNELS) for (const product of [toy, home, undefined]) expect(verdicts(cache, t, channel, product, now)).toEqual(expected(t, channel, product, now));
  });

  it("follows promotions added, changed and removed, and a product whose category changed", () => {
    const t = new PromotionTable();
    t.set("a", promo("a", { category: "toys" }));
    const cache = new EligibilityCache();
    expect(verdicts(cache, t, "web", toy, T0)).toEqual([undefined]);
    t.set("b", promo("b", { category: "home", channels: ["email"] }));
    expect(verdicts(cache, t, "web", toy, T0)).toEqual([undefined, "wrong-channel"]);
    t.set("a", promo("a", { category: "home" }));
    expect(verdicts(cache, t, "web", toy, T0)).toEqual(["not-applicable", "wrong-channel"]);
    expect(verdicts(cache, t, "web", { ...toy, category: "home" }, T0)).toEqual([undefined, "wrong-channel"]);
    t.delete("b");
    expect(verdicts(cache, t, "web", toy, T0)).toEqual(["not-applicable"]);
    t.clear();
    expect(verdicts(cache, t, "web", toy, T0)).toEqual([]);
  });

  it("shares one frozen list of exclusions between decisions at the same place and time", () => {
    const t = new PromotionTable();
    t.set("a", promo("a", { category: "home" }));
    t.set("b", promo("b", { category: "toys" }));
    const cache = new EligibilityCache();
    const first = cache.generation(t).at("web", toy, T0).excluded;
    expect(cache.generation(t).at("web", toy, T0 + 1).excluded).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first[0])).toBe(true);
  });

  it("agrees with staticExclusionOf on random promotions and times (a plain Map too)", () => {
    const arbPromo = fc.record({
      scope: fc.constantFrom("toys", "home", "sku-1", "sku-2", "all"),
      channels: fc.subarray(CHANNELS, { minLength: 1 }),
      start: fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }),
      length: fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(arbPromo, { maxLength: 8 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 22 }), fc.constantFrom(...CHANNELS), fc.constantFrom(toy, home, undefined)), { minLength: 1, maxLength: 30 }), fc.boolean(), (ps, calls, plain) => {
        const t: Map<string, Promotion> = plain ? new Map() : new PromotionTable();
        ps.forEach((x, i) => {
          const startsAtMs = x.start === undefined ? -Infinity : T0 + x.start * HOUR;
          const endsAtMs = x.length === undefined ? Infinity : (x.start === undefined ? T0 : startsAtMs) + x.length * HOUR;
          const scope = x.scope === "all" ? {} : x.scope.startsWith("sku") ? { productId: x.scope } : { category: x.scope };
          t.set(`p${i}`, promo(`p${i}`, { ...scope, channels: x.channels, startsAtMs, endsAtMs }));
        });
        const cache = new EligibilityCache();
        for (const [h, channel, product] of calls) {
          const now = T0 + (h * HOUR) / 2;
          expect(verdicts(cache, t, channel, product, now)).toEqual(expected(t, channel, product, now));
        }
      }),
      { numRuns: 300 },
    );
  });
});
