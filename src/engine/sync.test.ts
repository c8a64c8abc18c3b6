// Partitioned processors share what they learned through `sync` events in each other's streams. The
// events travel the wire like any other: encoded, then decoded and checked against the event schema by
// the receiving processor. A share the schema refused would be dead-lettered and its partition would
// learn alone (the logistic share's centre and evidence, added in issue 21, once were).
import { describe, expect, it } from "vitest";
import { decodeEvent, encodeEvent, type ShopEvent } from "../events/index.ts";
import { rngFromKey } from "../random/index.ts";
import { MIN, T0, engineConfig, promo } from "../../test/support/engine.ts";
import { createEngine, step, syncParts, syncPayload, type Engine } from "./index.ts";

const cfg = () =>
  engineConfig({
    promotions: [promo("p1"), promo("p2")],
    bandit: { model: "logistic", reward: "conversion" },
    safe: { mode: "apprentice", baseline: { name: "never" }, explore: 0.05, graduateAfter: 1_000_000, graduateTo: "conservative", alpha: 0.05 },
  });
const run = (e: Engine, ev: ShopEvent) => step(e, ev, rngFromKey(e.cfg.seed, ev.id));

/** Customers' visits and product views, half of the decisions followed by a purchase. */
function learn(e: Engine, n: number): void {
  for (let i = 0; i < n; i++) {
    const ts = T0 + i * 2_000;
    const view: ShopEvent = { type: "view", id: `v${i}`, ts, customerId: `c${i}`, sessionId: `s${i}`, productId: "sku-1", category: "toys", priceCents: 2_000 };
    const d = run(e, view).find((f) => f.kind === "decision");
    if (d?.kind === "decision" && i % 2 === 0)
      run(e, { type: "purchase", id: `b${i}`, ts: ts + MIN, customerId: `c${i}`, totalCents: 2_000, items: [{ productId: "sku-1", quantity: 1, priceCents: 2_000 }] });
  }
}

/** The event the instance publishes to partition `to`, through the wire: encoded, then decoded and checked as the processor decodes every event. */
function overTheWire(from: Engine, k: number, to: number): ShopEvent {
  const ev: ShopEvent = { type: "sync", id: `sync-test-p${k}-1.${to}`, ts: T0 + 3_600_000, from: k, ...syncPayload(from) };
  const decoded = decodeEvent(encodeEvent(ev), 1 << 20);
  if (!decoded.ok) throw new Error(`the sync event was refused: ${decoded.reason}: ${decoded.detail}`);
  return decoded.value;
}

describe("sync events", () => {
  it("carry a partition's whole share through the event schema, and move the other partition's model and evidence", () => {
    const a = createEngine(cfg());
    learn(a, 400);
    const share = syncPayload(a);
    // What issue 21 added to the share is there to be carried.
    expect(share.logistic?.centre?.w).toBeGreaterThan(0);
    expect(share.logistic?.evidence).toBeDefined();
    expect(share.safe?.sums.n).toBeGreaterThanOrEqual(0);

    const b = createEngine(cfg());
    const x = [1, ...Array.from({ length: b.logistic!.opts.dims - 1 }, () => 0.5)];
    const before = b.logistic!.meanConversion("control", x, T0 + 3_600_000);
    run(b, overTheWire(a, 0, 1));
    expect(b.remoteLogistic["0"]?.centre).toEqual(share.logistic!.centre);
    expect(b.remoteArms["0"]).toEqual(share.arms);
    // The same apprenticeship (both from the configuration): a's evidence counts in b's.
    expect(b.safe.remoteEvidence["0"]).toEqual(share.safe!.sums);
    // Half of a's 400 decisions converted: b's baseline now leans on a's learning.
    expect(b.logistic!.meanConversion("control", x, T0 + 3_600_000)).not.toBeCloseTo(before, 3);
  });

  it("go in parts when a share is larger than a message may be: each part within the limit, together the whole share", () => {
    const many = engineConfig({
      promotions: Array.from({ length: 40 }, (_, i) => promo(`p${i}`)),
      bandit: { model: "logistic", reward: "conversion" },
    });
    const a = createEngine(many);
    learn(a, 2_000);
    const share = syncPayload(a);
    expect(Object.keys(share.logistic!.arms).length).toBeGreaterThan(30);
    const whole = Buffer.byteLength(JSON.stringify(share));
    expect(syncParts(share, whole)).toEqual([share]);
    const limit = Math.ceil(whole / 4);
    const parts = syncParts(share, limit);
    expect(parts.length).toBeGreaterThanOrEqual(4);
    for (const p of parts) expect(Buffer.byteLength(JSON.stringify(p))).toBeLessThanOrEqual(limit);
    // Through the wire, one event per part, into a fresh partition: the same as the whole share at once.
    const byParts = createEngine(many);
    const atOnce = createEngine(many);
    parts.forEach((p, i) => run(byParts, { type: "sync", id: `sync-test-p0-${i + 1}.1`, ts: T0, from: 0, ...p }));
    run(atOnce, overTheWire(a, 0, 1));
    expect(byParts.remoteArms).toEqual(atOnce.remoteArms);
    expect(byParts.remoteLogistic).toEqual(atOnce.remoteLogistic);
    const x = [1, ...Array.from({ length: a.logistic!.opts.dims - 1 }, () => 0.5)];
    for (const id of ["p0", "p17", "control"]) expect(byParts.logistic!.meanConversion(id, x, T0 + 3_600_000)).toBe(atOnce.logistic!.meanConversion(id, x, T0 + 3_600_000));
  });
});
