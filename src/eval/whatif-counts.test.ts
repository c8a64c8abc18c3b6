// The what-if report accounts for every decision of the log: evaluated, or left out and why (still
// open, closed early by attribution.maxPending's overflow, ...). report.html said "N evaluated; M still
// open are left out" and did not mention the overflowed ones, so its counts did not add up to the
// log's decisions; report.json and report.html now give the same breakdown, which does.
import { describe, expect, it } from "vitest";
import { loadConfig } from "../config/index.ts";
import { loadScenario } from "../../simulator/world/index.ts";
import { whatIfHtml } from "./html.ts";
import { simLog } from "./sim.ts";
import { evaluateCandidates } from "./whatif.ts";

describe("what-if: the counts of decisions add up", () => {
  // A pending table of 1,400 (overflow closes the oldest early), 5-minute web windows plus 1 minute of
  // lateness, and a log cut 8 minutes after its 800th decision: the newest decisions are still open.
  const base = loadConfig({ env: {}, overrides: { attribution: { maxPending: 1400, windowSecByChannel: { web: 300 } }, features: { allowedLatenessSec: 60 } } });
  const log = simLog(base, loadScenario("steady"), 7, 800, 8 * 60_000);
  const report = evaluateCandidates(log, base, [{ name: "same", overlay: {}, cfg: base }]);
  const l = report.logged;

  it("has decisions of each kind here: evaluated, still open, overflowed", () => {
    expect(l.rows).toBeGreaterThan(0);
    expect(l.openDecisions).toBeGreaterThan(0);
    expect(l.overflowed).toBeGreaterThan(0);
  });

  it("report.json: evaluated + every reason left out = the log's decisions", () => {
    // Measured (seed 7): 2,742 decisions = 225 evaluated + 1,430 open + 1,087 overflowed.
    expect(l.rows + l.openDecisions + l.overflowed + l.noOutcome + l.notReplayed).toBe(report.settings.decisions);
  });

  it("report.html says the same, overflowed included", () => {
    const text = whatIfHtml(report).replace(/<[^>]+>/g, "");
    const n = (x: number) => x.toLocaleString("en-US");
    expect(text).toContain(`${n(report.settings.decisions)} decisions`);
    expect(text).toContain(`${n(l.rows)} evaluated`);
    expect(text).toContain(`${n(l.openDecisions)} still open`);
    expect(text).toMatch(new RegExp(`${n(l.overflowed)} closed early by overflow`));
  });
});
