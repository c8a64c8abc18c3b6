// The world model on its own: no NATS, a fixed seed, simulated time only.
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.ts";
import type { ShopEvent } from "../../src/events/index.ts";
import { CONTROL, loadScenario, World, worldFromConfig, type Truth, type WorldOutput } from "./index.ts";

const cfg = loadConfig({ env: {} });
const MIN = 60_000;
const HOUR = 60 * MIN;

function makeWorld(seed = 7, scenario = "steady"): World {
  return worldFromConfig(cfg, loadScenario(scenario), { seed });
}

type Policy = (t: Truth) => string;

/**
 * Runs a world for `durationMs` in steps of the given sizes (cycled), answering every decision
 * point with `policy` right after the step that opened it, as the engine would. Steps stay under
 * three simulated minutes, the shortest a decision point stays open, so every answer is in time.
 */
function run(w: World, durationMs: number, policy: Policy | undefined, stepsMs: readonly number[] = [MIN]): WorldOutput[] {
  const out: WorldOutput[] = [];
  const end = w.nowMs + durationMs;
  for (let i = 0; w.nowMs < end; i++) {
    const step = Math.min(stepsMs[i % stepsMs.length]!, end - w.nowMs);
    const got = w.advance(w.nowMs + step);
    out.push(...got);
    if (policy)
      for (const o of got)
        if (o.kind === "truth") w.onDecision({ id: `d-${o.truth.eventId}`, eventId: o.truth.eventId, promotionId: policy(o.truth) });
  }
  return out;
}

const events = (out: WorldOutput[]): ShopEvent[] => out.flatMap((o) => (o.kind === "event" ? [o.event] : []));
const truths = (out: WorldOutput[]): Truth[] => out.flatMap((o) => (o.kind === "truth" ? [o.truth] : []));
const uplift: Policy = (t) => t.best;
/** Picks the arm with the highest purchase probability: what a policy rewarded by conversions learns. */
const conversion: Policy = (t) => {
  let best = CONTROL;
  for (const [arm, p] of Object.entries(t.conversion)) if (p > t.conversion[best]!) best = arm;
  return best;
};

describe("World determinism", () => {
  it("gives the same event stream and truth for the same seed and scenario, whatever the step sizes", () => {
    const a = run(makeWorld(11, "steady"), 2 * HOUR, uplift, [MIN]);
    const b = run(makeWorld(11, "steady"), 2 * HOUR, uplift, [7_000, 150_000, 41_000]);
    const ea = events(a);
    expect(ea.length).toBeGreaterThan(20_000);
    expect(events(b)).toEqual(ea);
    expect(truths(b)).toEqual(truths(a));
    // Offers were made and redeemed, so the decisions took part in what is compared.
    expect(ea.some((e) => e.type === "purchase" && e.promotionId !== undefined)).toBe(true);
  });

  it("gives a different stream for another seed", () => {
    const a = events(run(makeWorld(11), 20 * MIN, undefined));
    const b = events(run(makeWorld(12), 20 * MIN, undefined));
    expect(b.map((e) => JSON.stringify({ ...e, id: "" }))).not.toEqual(a.map((e) => JSON.stringify({ ...e, id: "" })));
  });
});

describe("World ground truth", () => {
  it("makes a conversion-maximising policy earn visibly less margin than one that picks uplift", () => {
    const results = Object.entries({ none: () => CONTROL, uplift, conversion } as Record<string, Policy>).map(([name, policy]) => {
      const w = makeWorld(7, "steady");
      let expectedConversions = 0;
      const out = run(w, 2 * HOUR, (t) => {
        const arm = policy(t);
        expectedConversions += t.conversion[arm]!;
        return arm;
      });
      return { name, counts: w.counts, expectedConversions, truths: truths(out).length };
    });
    const [none, up, conv] = results as [(typeof results)[0], (typeof results)[0], (typeof results)[0]];
    // The conversion policy does buy more conversions...
    expect(conv.expectedConversions).toBeGreaterThan(up.expectedConversions);
    expect(conv.counts.discountCents).toBeGreaterThan(1.5 * up.counts.discountCents);
    // ...and pays for them: its margin gain over no promotion at all is well under the uplift policy's.
    const gainUp = up.counts.marginCents - none.counts.marginCents;
    const gainConv = conv.counts.marginCents - none.counts.marginCents;
    expect(gainUp).toBeGreaterThan(0);
    expect(gainConv).toBeLessThan(0.6 * gainUp);
  });

  it("gives every decision point a truth with control at 0 and best as the arm of the highest value", () => {
    const out = run(makeWorld(3), 90 * MIN, uplift);
    // The decision points of the default config: the first product view of each visit, and every send.
    const seen = new Set<string>();
    const dp = events(out).filter((e) => {
      if (e.type === "send") return true;
      if (e.type !== "view" || e.sessionId === undefined || seen.has(e.sessionId)) return false;
      seen.add(e.sessionId);
      return true;
    });
    const ts = truths(out);
    expect(ts.map((t) => t.eventId)).toEqual(dp.map((e) => e.id));
    expect(new Set(ts.map((t) => t.point))).toEqual(new Set(["product-view", "cart", "send"]));
    // Checked in plain code and asserted once: an expect per truth makes this take seconds.
    const wrong = ts.filter(
      (t) => t.arms[CONTROL] !== 0 || t.arms[t.best] !== Math.max(...Object.values(t.arms)) || Object.keys(t.arms).some((a) => !(t.conversion[a]! >= 0)),
    );
    expect(wrong).toEqual([]);
    // All four shopper types occur; a promotion only costs margin on shoppers who buy anyway (the
    // bundle excepted: it sells them a second unit), and puts some shoppers off.
    expect(new Set(ts.map((t) => t.shopperType)).size).toBe(4);
    const sure = ts.filter((t) => t.shopperType === "sure-thing");
    for (const p of cfg.promotions.filter((p) => p.kind !== "bundle")) {
      const values = sure.flatMap((t) => (t.arms[p.id] === undefined ? [] : [t.arms[p.id]!]));
      expect(values.reduce((a, b) => a + b, 0), p.id).toBeLessThan(0);
    }
    expect(ts.some((t) => t.shopperType === "sleeping-dog" && Object.values(t.arms).some((v) => v < 0))).toBe(true);
  });

  it("lists only the arms the channel allows", () => {
    const promos = new Map(cfg.promotions.map((p) => [p.id, p]));
    const ts = truths(run(makeWorld(5), 3 * HOUR, uplift));
    const channels = new Set(ts.map((t) => t.channel));
    expect(channels).toEqual(new Set(["web", "email", "sms", "push"]));
    const wrong = ts.flatMap((t) => Object.keys(t.arms).filter((a) => a !== CONTROL && !promos.get(a)!.channels.includes(t.channel)).map((a) => `${t.channel}:${a}`));
    expect(wrong).toEqual([]);
  });

  it("redeems each kind of promotion by its rule: percent, amount, free shipping and a bundle of two", () => {
    const promos = new Map(cfg.promotions.map((p) => [p.id, p]));
    let turn = 0;
    // Offers every live promotion in turn, so each kind is redeemed.
    const rotate: Policy = (t) => {
      const arms = Object.keys(t.arms).filter((a) => a !== CONTROL);
      return arms.length ? arms[turn++ % arms.length]! : CONTROL;
    };
    const w = makeWorld(9);
    const out = run(w, 2 * HOUR, rotate);
    const redeemed = events(out).filter((e): e is Extract<ShopEvent, { type: "purchase" }> => e.type === "purchase" && e.promotionId !== undefined);
    const kinds = new Set<string>();
    for (const e of redeemed) {
      const p = promos.get(e.promotionId!)!;
      const item = e.items![0]!;
      kinds.add(p.kind);
      if (p.kind === "bundle") expect(item.quantity).toBe(2);
      else expect(item.quantity).toBe(1);
      const rule =
        p.kind === "percent" || p.kind === "bundle" ? Math.round((item.priceCents * item.quantity * p.percentOff!) / 100) : p.amountOffCents!;
      expect(e.discountCents).toBe(Math.min(rule, p.maxDiscountCents));
      expect(e.totalCents).toBe(item.priceCents * item.quantity - e.discountCents!);
      expect(e.decisionId).toMatch(/^d-/);
    }
    expect(kinds).toEqual(new Set(["percent", "amount", "free-shipping", "bundle"]));
    expect(w.counts.promoPurchases).toBe(redeemed.length);
    expect(w.counts.discountCents).toBe(redeemed.reduce((s, e) => s + e.discountCents!, 0));
  });

  it("schedules sends: an email after an abandoned cart, and a message on each shopper's best channel when they are away", () => {
    const w = makeWorld(4);
    const out = run(w, 4 * HOUR, undefined);
    const sends = events(out).filter((e): e is Extract<ShopEvent, { type: "send" }> => e.type === "send");
    const abandoned = sends.filter((e) => e.reason === "cart-abandoned");
    const lapsed = sends.filter((e) => e.reason === "lapsed");
    expect(abandoned.length).toBeGreaterThan(100);
    expect(abandoned.every((e) => e.channel === "email")).toBe(true);
    expect(lapsed.length).toBeGreaterThan(50);
    expect(new Set(lapsed.map((e) => e.channel))).toEqual(new Set(["email", "sms", "push"]));
    const shoppers = new Map(w.shoppers.map((s) => [s.id, s]));
    for (const e of lapsed) {
      const r = shoppers.get(e.customerId)!.responsiveness;
      expect(r[e.channel]).toBe(Math.max(r.email, r.sms, r.push));
    }
    // A lapsed shopper is messaged at most once a day.
    const perShopper = new Map<string, number>();
    for (const e of lapsed) perShopper.set(e.customerId, (perShopper.get(e.customerId) ?? 0) + 1);
    expect(Math.max(...perShopper.values())).toBe(1);
    expect(w.counts.sends).toBe(sends.length);
  });
});
