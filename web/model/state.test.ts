import { describe, expect, it } from "vitest";
import type { Decision } from "../../src/events/index.ts";
import type { LiveSnapshot } from "../../src/kpi/index.ts";
import type { DashboardState, Mark, SimStatusView } from "../../src/server/index.ts";
import { applyFrame, commandNotSent, emptyState, modeAsked, followCustomer, MAX_FEED, mergeFeed, mergeMarks, totalDeadLetters } from "./state.ts";

const decision = (id: string, ts: number): Decision => ({
  id, ts, customerId: "c00001", channel: "web", promotionId: "control", holdout: false, segment: "new|browser", propensity: 0.5, eventId: `e-${id}`, point: "product-view", expiresAt: ts + 1000,
  explanation: { candidates: [], excluded: [] },
});
const sim = (scenario: string): SimStatusView => ({ running: true, speed: 1, scenario, seed: 7, simTimeMs: 0, ratePerSec: 10, published: 1, counts: {}, scenarios: ["steady", scenario] });
const kpi = (decisions: number, deadLetters: Record<string, number> = {}) => ({ decisions, deadLetters }) as unknown as LiveSnapshot;
const snapshot = (over: Partial<DashboardState>) => ({ type: "snapshot" as const, state: { kpi: null, history: [], feed: [], sim: null, regret: null, marks: [], whatIf: null, serverTimeMs: 0, ...over } });
const mark = (t: number, label: string): Mark => ({ t, kind: "scenario", label });

describe("mergeFeed", () => {
  it("keeps each decision once, newest first, bounded", () => {
    expect(mergeFeed([decision("b", 2), decision("c", 3)], [decision("a", 1), decision("b", 2)]).map((d) => d.id)).toEqual(["c", "b", "a"]);
    const many = Array.from({ length: MAX_FEED + 20 }, (_, i) => decision(`d${i}`, i));
    expect(mergeFeed(many, [])).toHaveLength(MAX_FEED);
    expect(mergeFeed(many, [])[0]!.id).toBe(`d${MAX_FEED + 19}`);
  });
  it("puts incoming decisions above the held ones even when the shop's clock has started again (a restart on a fresh store)", () => {
    const oldRun = Array.from({ length: MAX_FEED }, (_, i) => decision(`old${i}`, 1_000_000 - i));
    const merged = mergeFeed([decision("new2", 2), decision("new1", 1)], oldRun);
    expect(merged).toHaveLength(MAX_FEED);
    expect(merged.slice(0, 3).map((d) => d.id)).toEqual(["new2", "new1", "old0"]);
  });
});

describe("mergeMarks", () => {
  it("keeps each mark once, oldest first, the newest few", () => {
    expect(mergeMarks([mark(1, "a"), mark(3, "c")], [mark(2, "b"), mark(1, "a")])).toEqual([mark(1, "a"), mark(2, "b"), mark(3, "c")]);
    expect(mergeMarks([mark(1, "a"), mark(2, "b"), mark(3, "c")], [], 2)).toEqual([mark(2, "b"), mark(3, "c")]);
  });
});

describe("applyFrame", () => {
  it("takes a snapshot, then deltas, counting frames", () => {
    let s = applyFrame(emptyState(), snapshot({ kpi: kpi(5), feed: [decision("a", 1)], sim: sim("steady") }));
    expect(s.kpi!.decisions).toBe(5);
    s = applyFrame(s, { type: "delta", kpi: kpi(9), points: [], decisions: [decision("b", 2)], sim: sim("taste-shift"), regret: null, marks: [mark(10, "taste-shift")], serverTimeMs: 0 });
    expect(s.kpi!.decisions).toBe(9);
    expect(s.feed.map((d) => d.id)).toEqual(["b", "a"]);
    expect(s.sim!.scenario).toBe("taste-shift");
    expect(s.marks).toEqual([mark(10, "taste-shift")]);
    expect(s.frames).toBe(2);
  });

  it("marks a change of world no mark names: after a restart of everything, the simulator back at its start settings", () => {
    const delta = (over: { sim: SimStatusView | null; marks?: Mark[]; serverTimeMs: number }) => ({ type: "delta" as const, kpi: null, points: [], decisions: [], regret: null, marks: [], ...over });
    let s = applyFrame(emptyState(), snapshot({ sim: { ...sim("taste-shift"), seed: 42 }, marks: [mark(5, "taste-shift"), { t: 6, kind: "seed", label: "seed 42" }], serverTimeMs: 10 }));
    // The server marked the operator's own switch: the page adds nothing.
    s = applyFrame(s, delta({ sim: { ...sim("holiday"), seed: 42 }, marks: [mark(20, "holiday")], serverTimeMs: 20 }));
    expect(s.marks.map((m) => m.label)).toEqual(["taste-shift", "seed 42", "holiday"]);
    // Everything restarts: the simulator is away for a while, then a new server sends its first status unmarked.
    s = applyFrame(s, delta({ sim: null, serverTimeMs: 30 }));
    s = applyFrame(s, snapshot({ sim: null, marks: [], serverTimeMs: 40 }));
    s = applyFrame(s, delta({ sim: sim("steady"), serverTimeMs: 50 }));
    expect(s.marks.slice(-2)).toEqual([
      { t: 50, kind: "scenario", label: "steady" },
      { t: 50, kind: "seed", label: "seed 7" },
    ]);
    // Once only, and nothing when the world is the one the page knew.
    s = applyFrame(s, delta({ sim: sim("steady"), serverTimeMs: 60 }));
    s = applyFrame(s, snapshot({ sim: sim("steady"), serverTimeMs: 70 }));
    expect(s.marks).toHaveLength(5);
  });

  it("keeps the freshness the last frame carried (none from an older server)", () => {
    let s = applyFrame(emptyState(), snapshot({ kpiAgeMs: null, kpiEveryMs: 500, simAbsent: "no-answer" }));
    expect(s.fresh).toEqual({ kpiAgeMs: null, kpiEveryMs: 500, simAbsent: "no-answer" });
    s = applyFrame(s, { type: "delta", kpi: null, points: [], decisions: [], sim: null, regret: null, marks: [], serverTimeMs: 0, kpiAgeMs: 9_000, kpiEveryMs: 500, simAbsent: null });
    expect(s.fresh).toEqual({ kpiAgeMs: 9_000, kpiEveryMs: 500, simAbsent: null });
    expect(applyFrame(s, snapshot({})).fresh).toEqual({});
  });

  it("keeps what it knew when a restarted server's snapshot knows less", () => {
    let s = applyFrame(emptyState(), snapshot({ kpi: kpi(5), feed: [decision("a", 1)], marks: [mark(1, "holiday")] }));
    s = applyFrame(s, snapshot({ kpi: null, feed: [], marks: [] }));
    expect(s.kpi!.decisions).toBe(5);
    expect(s.feed).toHaveLength(1);
    expect(s.marks).toEqual([mark(1, "holiday")]);
  });

  it("shows the simulator's refusal of a command, and clears it on the next accepted one", () => {
    let s = applyFrame(emptyState(), { type: "sim-reply", reply: { ok: false, error: "speed must be a number", status: sim("steady") } });
    expect(s.simError).toMatch(/speed must be/);
    expect(s.sim!.scenario).toBe("steady");
    s = applyFrame(s, { type: "sim-reply", reply: { ok: true, status: sim("holiday") } });
    expect(s.simError).toBeNull();
    expect(s.sim!.scenario).toBe("holiday");
    // Counted, so that the controls show the simulator's settings again after each reply, the same refusal twice included.
    expect(s.simReplies).toBe(2);
  });

  it("joins outcomes to the decisions on show, from the snapshot and from deltas in either order", () => {
    const closed = (decisionId: string) => ({ decisionId, closedBy: "redeemed" as const, closedAt: 9, revenueCents: 100, discountCents: 10, marginCents: 20 });
    let s = applyFrame(emptyState(), snapshot({ feed: [decision("a", 1), decision("b", 2)], outcomes: [closed("a"), closed("not-shown")] }));
    expect([...s.outcomes.keys()]).toEqual(["a"]);
    const delta = { type: "delta" as const, kpi: null, points: [], sim: null, regret: null, marks: [], serverTimeMs: 0 };
    // An outcome alone, for a decision already shown.
    s = applyFrame(s, { ...delta, decisions: [], outcomes: [closed("b")] });
    expect([...s.outcomes.keys()].sort()).toEqual(["a", "b"]);
    // A decision and its outcome in one delta.
    s = applyFrame(s, { ...delta, decisions: [decision("c", 3)], outcomes: [closed("c")] });
    expect(s.outcomes.get("c")!.closedBy).toBe("redeemed");
  });

  it("follows a customer: their decisions in the feed at once, the next ones as they come, kept past the feed's bound", () => {
    const mine = (id: string, ts: number) => ({ ...decision(id, ts), customerId: "shopper-me" });
    let s = applyFrame(emptyState(), snapshot({ feed: [mine("m1", 1), decision("x", 2)] }));
    s = followCustomer(s, " shopper-me ");
    expect(s.follow).toBe("shopper-me");
    expect(s.followed.map((d) => d.id)).toEqual(["m1"]);
    const delta = { type: "delta" as const, kpi: null, points: [], sim: null, regret: null, marks: [], serverTimeMs: 0 };
    s = applyFrame(s, { ...delta, decisions: [mine("m2", 3)] });
    const flood = Array.from({ length: MAX_FEED + 10 }, (_, i) => decision(`f${i}`, 10 + i));
    s = applyFrame(s, { ...delta, decisions: flood, outcomes: [{ decisionId: "m1", closedBy: "expired", closedAt: 50, revenueCents: 0, discountCents: 0, marginCents: 0 }] });
    expect(s.feed.some((d) => d.customerId === "shopper-me")).toBe(false);
    expect(s.followed.map((d) => d.id)).toEqual(["m2", "m1"]);
    expect(s.outcomes.get("m1")!.closedBy).toBe("expired");
    s = followCustomer(s, "");
    expect(s.followed).toEqual([]);
  });

  it("ignores error frames", () => {
    const s = emptyState();
    expect(applyFrame(s, { type: "error", error: "x" })).toBe(s);
  });
});

describe("totalDeadLetters", () => {
  it("adds up the reasons", () => {
    expect(totalDeadLetters(null)).toBe(0);
    expect(totalDeadLetters(kpi(0, { "not-json": 2, late: 3 }))).toBe(5);
  });
});

describe("commandNotSent", () => {
  it("says a command the page could not send was not sent, and counts it as answered for the simulator's controls", () => {
    const s = commandNotSent(emptyState(), "sim");
    expect(s.simError).toMatch(/^not sent/);
    expect(s.simReplies).toBe(1);
    const m = commandNotSent(emptyState(), "mode");
    expect(m.modeError).toMatch(/^not sent/);
    expect(m.simReplies).toBe(0);
  });
  it("takes the notice back with the next connection's snapshot, and keeps a refusal", () => {
    const s = applyFrame(commandNotSent(commandNotSent(emptyState(), "sim"), "mode"), snapshot({ sim: sim("steady") }));
    expect(s.simError).toBeNull();
    expect(s.modeError).toBeNull();
    const refused = applyFrame(emptyState(), { type: "sim-reply", reply: { ok: false, error: "seed must be ≥ 0" } });
    expect(applyFrame(refused, snapshot({ sim: sim("steady") })).simError).toBe("seed must be ≥ 0");
  });
});

describe("modeAsked", () => {
  it("holds further mode changes until promo.control answers, or the connection the ask went on is gone", () => {
    const asked = modeAsked(emptyState());
    expect(asked.modePending).toBe(true);
    expect(applyFrame(asked, { type: "mode-reply", reply: { ok: true } }).modePending).toBe(false);
    expect(applyFrame(asked, { type: "mode-reply", reply: { ok: false, error: "no" } })).toMatchObject({ modePending: false, modeError: "no" });
    expect(applyFrame(asked, snapshot({})).modePending).toBe(false);
    expect(commandNotSent(asked, "mode").modePending).toBe(false);
  });
});
