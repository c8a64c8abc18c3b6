// Safe start (issue 23): the shop's rule at a decision, the apprentice's serving and its exact
// propensities, the conservative bound's fallback (a fixed-seed case where it must fall back and one
// where it must not), graduation through the log (asked for as an effect, applied where its mode
// event stands; copies and late graduations apply once), and the state through a checkpoint.
import { describe, expect, it } from "vitest";
import type { BaselineRule } from "../config/index.ts";
import { decodeEvent, encodeEvent, Subjects, type Decision, type ShopEvent } from "../events/index.ts";
import { rngFromKey } from "../random/index.ts";
import { HOUR, MIN, T0, engineConfig, ev, promo } from "../../test/support/engine.ts";
import { createEngine, engineFromJSON, engineToJSON, safeSnapshot, slackLowerBound, step, type Effect, type Engine, type EngineConfig, type SafeConfig } from "./index.ts";

const run = (e: Engine, x: ShopEvent): Effect[] => step(e, x, rngFromKey(e.cfg.seed, x.id));
const decisionOf = (fx: Effect[]): Decision | undefined => fx.flatMap((f) => (f.kind === "decision" ? [f.decision] : []))[0];

const THIRD_VIEW: BaselineRule = { name: "third-view", web: { offer: "p", atView: 3 }, email: { offer: "control" } };
const ALWAYS_P: BaselineRule = { name: "always-p", web: { offer: "p" } };

function engine(safe: Partial<SafeConfig>, over: Parameters<typeof engineConfig>[0] = {}): Engine {
  const cfg: EngineConfig = engineConfig({
    promotions: [promo("p", { category: "toys" }), promo("q", { category: "toys" })],
    decisionPoints: { visit: false, productView: { enabled: true, minViews: 1, maxPerVisit: 1 } },
    frequencyCaps: { web: { maxOffers: 1000, windowMs: MIN } },
    bandit: { reward: "margin" },
    ...over,
  });
  cfg.safe = { mode: "learner", baseline: THIRD_VIEW, explore: 0.05, graduateAfter: 100, graduateTo: "conservative", alpha: 0.05, ...safe };
  const e = createEngine(cfg);
  for (const sku of ["a", "b", "c"]) e.ledger.setInventory(sku, "toys", 1_000, 2_000, 1_000, T0);
  return e;
}

let n = 0;
const view = (customerId: string, ts: number, productId = "a", sessionId = `s-${customerId}`): ShopEvent => ({ type: "view", id: `v${++n}`, ts, customerId, sessionId, productId, category: "toys", priceCents: 2_000 });

/** `count` product-view decisions, one per new customer, a second apart from `ts`. */
function decisions(e: Engine, count: number, ts = T0): Decision[] {
  const out: Decision[] = [];
  for (let i = 0; i < count; i++) {
    const d = decisionOf(run(e, view(`c${++n}`, ts + i * 1_000)));
    if (d) out.push(d);
  }
  return out;
}

describe("the shop's rule at a decision", () => {
  it("offers at the n-th view of a product in the visit, nothing before it, and nothing at other decision points", () => {
    // Decisions at the 3rd view: the rule offers its promotion there.
    const third = engine({ mode: "apprentice", explore: 0 }, { decisionPoints: { productView: { enabled: true, minViews: 3, maxPerVisit: 1 } } });
    for (const t of [0, 1, 2]) run(third, view("c3", T0 + t * 1_000, "b"));
    const d3 = third.pending.values()[0]!;
    expect(d3).toBeDefined();
    expect(d3.promotionId).toBe("p");
    // Decisions at the 1st view: the rule's 3rd view never comes at a decision point.
    const first = engine({ mode: "apprentice", explore: 0 });
    const d1 = decisionOf(run(first, view("c1", T0)))!;
    expect(d1.policy).toEqual({ mode: "apprentice", served: "baseline", baseline: "control" });
    expect(d1.promotionId).toBe("control");
    expect(d1.propensity).toBe(1);
    // A send: the rule's email entry says control.
    const s = decisionOf(run(first, { type: "send", id: "s-1", ts: T0 + 5_000, customerId: "c9", channel: "email" }))!;
    expect(s.policy?.baseline).toBe("control");
  });

  it("offers its promotion only where the guards let it: a product it does not apply to gets control", () => {
    const e = engine({ mode: "apprentice", explore: 0, baseline: ALWAYS_P });
    e.ledger.setInventory("h", "home", 1_000, 2_000, 1_000, T0);
    expect(decisionOf(run(e, view("c-toy", T0)))!.promotionId).toBe("p");
    const home = decisionOf(run(e, { ...view("c-home", T0 + 1_000, "h"), category: "home" } as ShopEvent))!;
    expect(home.promotionId).toBe("control");
    expect(home.policy?.baseline).toBe("control");
  });
});

describe("apprentice", () => {
  it("serves the rule but for a share explored, logging each decision's exact probability", () => {
    const e = engine({ mode: "apprentice", baseline: ALWAYS_P, explore: 0.2 });
    const ds = decisions(e, 2_000);
    const explored = ds.filter((d) => d.policy!.served === "explore");
    expect(explored.length / ds.length).toBeGreaterThan(0.16);
    expect(explored.length / ds.length).toBeLessThan(0.24);
    // Served by the rule: its arm, with at least 1 − ε; every arm is explored.
    for (const d of ds.filter((x) => x.policy!.served === "baseline")) {
      expect(d.promotionId).toBe("p");
      expect(d.propensity).toBeGreaterThanOrEqual(0.8);
    }
    expect(new Set(explored.map((d) => d.promotionId))).toEqual(new Set(["p", "q", "control"]));
    // Propensities sum to 1 over the arms at one decision: the served arm's, from (1 − ε)·[rule] + ε·(¼/n + ¾·π).
    for (const d of explored) expect(d.propensity).toBeGreaterThanOrEqual((0.2 * 0.25) / 3 - 1e-12);
    expect(e.safe.decisions).toBe(2_000);
    expect(e.safe.servedByBaseline + e.safe.explored).toBe(2_000);
  });

  it("learns from every outcome and estimates the learner against the rule once the decisions' windows end", () => {
    const e = engine({ mode: "apprentice", explore: 0.3, graduateAfter: 1_000_000 });
    // Every decision converts at once (a purchase closes it early).
    for (let i = 0; i < 400; i++) {
      const d = decisionOf(run(e, view(`b${i}`, T0 + i * 1_000)))!;
      run(e, { type: "purchase", id: `buy-${d.id}`, ts: d.ts + 500, customerId: d.customerId, totalCents: 2_000, items: [{ productId: "a", quantity: 1, priceCents: 2_000 }], ...(d.offer ? { promotionId: d.promotionId, decisionId: d.id, discountCents: 500 } : {}) });
    }
    expect(e.pending.open).toBe(0);
    // Closed, but their windows have not ended: the evidence waits, so conversions never enter before failures would.
    expect(e.safe.evidence.n).toBe(0);
    expect(e.safe.matured.length).toBe(400);
    // An event after every window (30 min + 5 min lateness) lets them in.
    run(e, ev.tick(T0 + HOUR));
    expect(e.safe.evidence.n).toBe(400);
    expect(e.safe.matured.length).toBe(0);
  });

  // The dashboard and /metrics label the evidence and the bound by it: with bandit.reward conversion they
  // count conversions (a converted decision is 1), and were shown as cents of margin.
  it("says in its snapshot which objective its evidence and bound count (bandit.reward)", () => {
    for (const reward of ["margin", "conversion"] as const) {
      const e = engine({ mode: "apprentice", explore: 0.3, graduateAfter: 1_000_000 }, { bandit: { reward } });
      for (let i = 0; i < 50; i++) {
        const d = decisionOf(run(e, view(`o${reward}${i}`, T0 + i * 1_000)))!;
        run(e, { type: "purchase", id: `buy-${d.id}`, ts: d.ts + 500, customerId: d.customerId, totalCents: 2_000, items: [{ productId: "a", quantity: 1, priceCents: 2_000 }], ...(d.offer ? { promotionId: d.promotionId, decisionId: d.id, discountCents: 500 } : {}) });
      }
      run(e, ev.tick(T0 + HOUR));
      const s = safeSnapshot(e);
      expect(s.objective).toBe(reward);
      expect(s.evidence!.decisions).toBe(50);
      // Every decision converted: the bound's sum is 50 conversions, or the margin in cents.
      if (reward === "conversion") expect(s.bound!.marginCents).toBe(50);
      else expect(s.bound!.marginCents).toBeGreaterThan(50 * 100);
    }
  });
});

describe("conservative", () => {
  const rule: BaselineRule = { name: "control", web: { offer: "control" } };

  it("falls back to the rule while its slack cannot cover the learner's worst case (seed 1: a fresh bound)", () => {
    const e = engine({ mode: "conservative", baseline: rule });
    const ds = decisions(e, 200);
    // Nothing has closed: the bound rests on the open rule rounds' α × q⁻ alone, which covers no promotion's worst case.
    expect(ds.every((d) => d.promotionId === "control")).toBe(true);
    const fallbacks = ds.filter((d) => d.policy!.served === "baseline");
    expect(fallbacks.length).toBeGreaterThan(50);
    // The rule's arm takes its own probability plus every refused arm's: here every promotion is refused.
    for (const d of fallbacks) expect(d.propensity).toBeGreaterThan(0.99);
    expect(e.safe.servedByBaseline).toBe(fallbacks.length);
  });

  it("serves the learner where the slack covers it (seed 1: a bound with margin to spare)", () => {
    const e = engine({ mode: "conservative", baseline: rule });
    // As if 10,000 rule rounds had closed at $8 each: α × $80,000 of slack.
    e.safe.ledger.baseline = { n: 10_000, sum: 8_000_000, sumSq: 10_000 * 800 * 800 };
    e.safe.ledger.margin = { ...e.safe.ledger.baseline };
    expect(slackLowerBound(e.safe.ledger, 0.05)).toBeGreaterThan(300_000);
    const ds = decisions(e, 200);
    expect(ds.some((d) => d.policy!.served === "baseline")).toBe(false);
    const promos = ds.filter((d) => d.promotionId !== "control");
    expect(promos.length).toBeGreaterThan(20);
    // Served by the learner: the learner's own propensity (Thompson, holdout included).
    for (const d of promos) expect(d.propensity).toBeLessThan(1);
  });

  it("counts an open decision at its worst case, and its margin once its window has ended", () => {
    const e = engine({ mode: "conservative", baseline: rule });
    e.safe.ledger.baseline = { n: 10_000, sum: 8_000_000, sumSq: 10_000 * 800 * 800 };
    e.safe.ledger.margin = { ...e.safe.ledger.baseline };
    const before = e.safe.ledger.openLower;
    decisions(e, 50);
    expect(e.safe.ledger.openLower).not.toBe(before);
    run(e, ev.tick(T0 + HOUR));
    // Every earlier decision closed (expired) and entered with its margin (0: no purchase).
    expect(e.safe.ledger.learner.n + e.safe.ledger.baseline.n).toBe(10_050);
  });
});

describe("graduation through the log", () => {
  const due = (e: Engine) => {
    // Evidence as if 5,000 closed decisions had shown the learner $1 better per decision (sd $10).
    e.safe.evidence = { n: 5_000, sum: 5_000 * 100, sumSq: 5_000 * (100 * 100 + 1_000 * 1_000) };
  };
  const modeEvent = (id: string, mode: "learner" | "apprentice" | "conservative", reason: "graduated" | "manual"): ShopEvent => ({ type: "mode", id, ts: T0, mode, reason });

  it("asks once as an effect; the mode changes where the mode event stands, each change's copies once", () => {
    const e = engine({ mode: "apprentice" });
    due(e);
    const fx = run(e, view("c-a", T0));
    const ask = fx.find((f) => f.kind === "mode");
    expect(ask).toMatchObject({ kind: "mode", mode: "conservative", reason: "graduated", evidence: { decisions: 5_000 } });
    // Not again while its event is on its way; the mode is still apprentice.
    expect(run(e, view("c-b", T0 + 1_000)).some((f) => f.kind === "mode")).toBe(false);
    expect(e.safe.mode).toBe("apprentice");
    expect(decisionOf(run(e, view("c-c", T0 + 2_000)))!.policy!.mode).toBe("apprentice");
    // The log's copy for partition 0 changes it; partition 1's copy of the same change does nothing more.
    run(e, modeEvent("grad-x.p0", "conservative", "graduated"));
    expect(e.safe.mode).toBe("conservative");
    expect(e.safe.changes.at(-1)).toMatchObject({ mode: "conservative", reason: "graduated" });
    const changes = e.safe.changes.length;
    run(e, modeEvent("grad-x.p1", "conservative", "graduated"));
    expect(e.safe.changes.length).toBe(changes);
    // Another partition's graduation, asked for before the first arrived: no longer an apprentice, nothing happens.
    run(e, modeEvent("grad-y.p0", "conservative", "graduated"));
    expect(e.safe.changes.length).toBe(changes);
    expect(decisionOf(run(e, view("c-d", T0 + 3_000)))!.policy!.mode).toBe("conservative");
  });

  it("graduates at an event whose id is as long as the contract allows: its mode events, as the processor writes them, decode", () => {
    const e = engine({ mode: "apprentice" });
    due(e);
    const long: ShopEvent = { ...view("c-long", T0), id: "v".repeat(128) };
    const ask = run(e, long).find((f) => f.kind === "mode");
    if (ask?.kind !== "mode") throw new Error("no graduation asked");
    // src/processor/processor.ts graduate(): change id grad-<event id>, a copy per partition.
    const copies = new Subjects().modeChange({ mode: ask.mode, reason: ask.reason, evidence: ask.evidence }, `grad-${ask.eventId}`, ask.ts, 16);
    const decoded = copies.map((r) => decodeEvent(encodeEvent(r.event), 16_384));
    expect(decoded.map((d) => (d.ok ? "ok" : d.detail))).toEqual(copies.map(() => "ok"));
    for (const d of decoded) if (d.ok) run(e, d.value);
    expect(e.safe.mode).toBe("conservative");
    expect(e.safe.changes.filter((c) => c.reason === "graduated")).toHaveLength(1);
  });

  it("a person's change applies (back to apprentice: the evidence starts over)", () => {
    const e = engine({ mode: "conservative" });
    run(e, modeEvent("manual-1.p0", "apprentice", "manual"));
    expect(e.safe.mode).toBe("apprentice");
    expect(e.safe.evidence.n).toBe(0);
    run(e, modeEvent("manual-2.p0", "learner", "manual"));
    expect(e.safe.mode).toBe("learner");
    expect(decisionOf(run(e, view("c-e", T0)))!.policy).toBeUndefined();
  });

  it("a person's change to conservative (or learner) mode when the engine is in it changes nothing (a second click, or 'Graduate now' behind a graduation)", () => {
    const e = engine({ mode: "apprentice" });
    decisions(e, 20);
    // The slack an apprenticeship earned, which its graduate keeps (README: the bound goes on from the apprenticeship's start).
    e.safe.ledger.baseline = { n: 10_000, sum: 8_000_000, sumSq: 10_000 * 800 * 800 };
    e.safe.ledger.margin = { ...e.safe.ledger.baseline };
    run(e, modeEvent("grad-g.p0", "conservative", "graduated"));
    expect(e.safe.mode).toBe("conservative");
    const ledger = structuredClone(e.safe.ledger);
    const epoch = e.safe.ledgerEpoch;
    decisions(e, 5);
    const decided = e.safe.decisions;
    const changes = e.safe.changes.length;
    // The person pressed "Graduate now" while the engine's own graduation was on its way (the dashboard still said apprentice).
    run(e, modeEvent("mode-late.p0", "conservative", "manual"));
    expect(e.safe.mode).toBe("conservative");
    expect(e.safe.ledgerEpoch).toBe(epoch);
    expect(e.safe.ledger.baseline).toEqual(ledger.baseline);
    expect(e.safe.decisions).toBe(decided);
    expect(e.safe.changes.length).toBe(changes);
    // "Learner" twice: the second changes nothing either.
    run(e, modeEvent("mode-l1.p0", "learner", "manual"));
    const n1 = e.safe.changes.length;
    run(e, modeEvent("mode-l2.p0", "learner", "manual"));
    expect(e.safe.changes.length).toBe(n1);
  });

  it("a graduation applies only in the apprenticeship that earned it: partitions agree whichever way a person's change and two graduations interleave", () => {
    // Two partitions of one apprenticeship, both due (their evidence added up through sync): each asks.
    const a = engine({ mode: "apprentice" });
    const b = engine({ mode: "apprentice" });
    due(a);
    due(b);
    const askOf = (e: Engine, id: string) => {
      const f = run(e, view(id, T0)).find((x) => x.kind === "mode");
      if (f?.kind !== "mode") throw new Error("no graduation asked");
      return f;
    };
    const ga = askOf(a, "c-ga");
    const gb = askOf(b, "c-gb");
    // As src/processor/processor.ts graduate() puts them in the log: a copy per partition.
    const logged = (ask: typeof ga) => new Subjects().modeChange(ask, `grad-${ask.eventId}`, ask.ts, 2).map((r) => r.event);
    const [ga0, ga1] = logged(ga);
    const [gb0, gb1] = logged(gb);
    // A person sends the engine back to apprentice once the first graduation shows; the copies of three
    // changes from three publishers reach the two partitions in different orders.
    const back = new Subjects().modeChange({ mode: "apprentice", reason: "manual" }, "mode-back", T0, 2).map((r) => r.event);
    for (const x of [ga0!, back[0]!, gb0!]) run(a, x);
    for (const x of [ga1!, gb1!, back[1]!]) run(b, x);
    expect(a.safe.mode).toBe("apprentice");
    expect(b.safe.mode).toBe("apprentice");
    // And a graduation earned in this apprenticeship still applies.
    due(a);
    const again = askOf(a, "c-ga2");
    run(a, logged(again)[0]!);
    expect(a.safe.mode).toBe("conservative");
  });

  it("keeps the mode, the evidence and the bound through a checkpoint; replaying the log after a restore graduates at the same event", () => {
    const cfgOver = { mode: "apprentice" as const };
    const live = engine(cfgOver);
    const events: ShopEvent[] = [];
    for (let i = 0; i < 300; i++) events.push(view(`r${i}`, T0 + i * 1_000));
    // The processor's loop: a graduation asked for goes into the log right after its event.
    const drive = (e: Engine, log: ShopEvent[], from: number, upTo: number, onAsk?: (at: number, ev: ShopEvent) => void): Decision[] => {
      const out: Decision[] = [];
      for (let i = from; i < upTo; i++) {
        if (i === 150 && e.safe.mode === "apprentice") due(e);
        for (const f of run(e, log[i]!)) {
          if (f.kind === "decision") out.push(f.decision);
          if (f.kind === "mode") onAsk?.(i, { type: "mode", id: `grad-${f.eventId}.p0`, ts: f.ts, mode: f.mode, reason: f.reason, evidence: f.evidence });
        }
      }
      return out;
    };
    const log = [...events];
    let askedAt = -1;
    const first = drive(live, log, 0, 200, (at, m) => {
      askedAt = at;
      log.splice(at + 1, 0, m);
    });
    expect(askedAt).toBe(150);
    expect(log[151]!.type).toBe("mode");
    // A checkpoint at event 120 (before the graduation), then a crash at 200.
    const replayed = engine(cfgOver);
    drive(replayed, log, 0, 120);
    const restored = engineFromJSON(replayed.cfg, JSON.parse(JSON.stringify(engineToJSON(replayed))));
    expect(restored.safe.mode).toBe("apprentice");
    const again: Decision[] = [];
    // Replay from the checkpoint: the same graduation is asked for at the same event (its event id, so
    // its mode events have the same ids: the stream's duplicate window drops the second copy), and the
    // mode changes where the logged mode event stands.
    let askedAgain = -1;
    again.push(...drive(restored, log, 120, 201, (at) => (askedAgain = at)));
    expect(askedAgain).toBe(150);
    expect(restored.safe.mode).toBe("conservative");
    expect(restored.safe.changes.at(-1)!.atDecision).toBe(live.safe.changes.at(-1)!.atDecision);
    // The same decisions after the restore as before the crash, mode included.
    const byId = new Map(first.map((d) => [d.id, d]));
    for (const d of again) if (byId.has(d.id)) expect(d).toEqual(byId.get(d.id));
    // And a checkpoint after the graduation restores graduated.
    const after = engineFromJSON(restored.cfg, JSON.parse(JSON.stringify(engineToJSON(restored))));
    expect(after.safe.mode).toBe("conservative");
    expect(after.safe.ledger).toEqual(restored.safe.ledger);
  });

  it("restores a version 3 checkpoint (before safe start) with the configuration's mode, and a changed configuration's mode over the checkpoint's", () => {
    const e = engine({ mode: "conservative" });
    decisions(e, 10);
    const v3 = JSON.parse(JSON.stringify(engineToJSON(e)));
    v3.version = 3;
    delete v3.safe;
    expect(engineFromJSON(e.cfg, v3).safe.mode).toBe("conservative");
    const s = JSON.parse(JSON.stringify(engineToJSON(e)));
    const cfg2: EngineConfig = { ...e.cfg, safe: { ...e.cfg.safe!, mode: "apprentice" } };
    const r = engineFromJSON(cfg2, s);
    expect(r.safe.mode).toBe("apprentice");
    expect(r.safe.changes.at(-1)).toMatchObject({ reason: "config", mode: "apprentice" });
  });
});

describe("a configuration changed at restart", () => {
  it("to the mode the checkpoint's engine is already in (the graduate's, written down) keeps the bound it earned", () => {
    const e = engine({ mode: "apprentice" });
    decisions(e, 20);
    e.safe.ledger.baseline = { n: 10_000, sum: 8_000_000, sumSq: 10_000 * 800 * 800 };
    e.safe.ledger.margin = { ...e.safe.ledger.baseline };
    run(e, { type: "mode", id: "grad-g.p0", ts: T0, mode: "conservative", reason: "graduated" });
    const ledger = structuredClone(e.safe.ledger);
    const changes = e.safe.changes.length;
    // The shop writes the graduation into its configuration (POLICY_MODE=conservative) and restarts.
    const cfg2: EngineConfig = { ...e.cfg, safe: { ...e.cfg.safe!, mode: "conservative" } };
    const r = engineFromJSON(cfg2, JSON.parse(JSON.stringify(engineToJSON(e))));
    expect(r.safe.mode).toBe("conservative");
    expect(r.safe.ledger).toEqual(ledger);
    expect(r.safe.changes.length).toBe(changes);
    // A later restart with the configuration back at apprentice takes over (it changed again).
    const cfg3: EngineConfig = { ...e.cfg, safe: { ...e.cfg.safe!, mode: "apprentice" } };
    expect(engineFromJSON(cfg3, JSON.parse(JSON.stringify(engineToJSON(r)))).safe.mode).toBe("apprentice");
  });
});

describe("partitions", () => {
  it("add up the apprenticeship's evidence through sync events, and ignore another apprenticeship's", async () => {
    const { ownSafe } = await import("./index.ts");
    const a = engine({ mode: "apprentice", graduateAfter: 8_000 });
    const b = engine({ mode: "apprentice", graduateAfter: 8_000 });
    a.safe.evidence = { n: 5_000, sum: 5_000 * 100, sumSq: 5_000 * (100 * 100 + 1_000 * 1_000) };
    b.safe.evidence = { n: 5_000, sum: 5_000 * 100, sumSq: 5_000 * (100 * 100 + 1_000 * 1_000) };
    const sync = (from: Engine, to: Engine, k: number): ShopEvent => ({ type: "sync", id: `sync-${k}-${++n}`, ts: T0, from: k, arms: {}, safe: ownSafe(from)! });
    // Alone, 5,000 decisions are not enough for graduateAfter 8,000.
    expect(run(a, view("p-1", T0)).some((f) => f.kind === "mode")).toBe(false);
    run(a, sync(b, a, 1));
    expect(run(a, view("p-2", T0 + 1_000)).find((f) => f.kind === "mode")).toMatchObject({ evidence: { decisions: 10_000 } });
    // A partition back in an apprenticeship of its own (another change) does not count here.
    const c = engine({ mode: "conservative" });
    run(c, { type: "mode", id: "manual-z.p0", ts: T0, mode: "apprentice", reason: "manual" });
    c.safe.evidence = { n: 5_000, sum: 0, sumSq: 0 };
    run(b, sync(c, b, 2));
    expect(b.safe.remoteEvidence["2"]).toBeUndefined();
  });
});
