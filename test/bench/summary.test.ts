// The bench summary's arithmetic (bench/summary.ts): what results.json and the summary table say.
import { constants } from "node:perf_hooks";
import { describe, expect, it } from "vitest";
import { pausesByKind, targets } from "../../bench/summary.ts";

describe("gcPauseMs.byKind", () => {
  it("names each pause by perf_hooks' own NODE_PERFORMANCE_GC_* constants", () => {
    const kinds = [constants.NODE_PERFORMANCE_GC_MINOR, constants.NODE_PERFORMANCE_GC_MAJOR, constants.NODE_PERFORMANCE_GC_INCREMENTAL, constants.NODE_PERFORMANCE_GC_WEAKCB];
    const by = pausesByKind([1, 20, 3, 0.5], kinds);
    expect(Object.keys(by).sort()).toEqual(["incremental", "major", "minor", "weakcb"]);
    expect(by.minor!.max).toBe(1);
    expect(by.major!.max).toBe(20);
    expect(by.incremental!.max).toBe(3);
    expect(by.weakcb!.max).toBe(0.5);
  });
});

describe("the summary's verdicts", () => {
  const results = { cpuMicrosPerEvent: 12, decideMicrosByArms: { "50": 18 } };
  const met = (rows: Record<string, unknown>[], figure: string) => rows.find((r) => r.figure === figure)!.met;

  it("judges a full run's figures against the targets", () => {
    const rows = targets(results, { measured: new Set(["cpuMicrosPerEvent", "decideMicrosByArms"]) });
    expect(met(rows, "cpuMicrosPerEvent")).toBe("yes");
    expect(met(rows, "decideMicrosByArms.50")).toBe("NO");
    expect(met(rows, "pipelineShareOfCeiling")).toBe("-");
  });

  it("does not judge a --quick run's figures (smoke sizes)", () => {
    const rows = targets(results, { quick: true, measured: new Set(["cpuMicrosPerEvent", "decideMicrosByArms"]) });
    expect(met(rows, "cpuMicrosPerEvent")).toBe("not judged (--quick)");
    expect(met(rows, "decideMicrosByArms.50")).toBe("not judged (--quick)");
  });

  it("marks a figure merged from an earlier run (after --only)", () => {
    const rows = targets(results, { measured: new Set(["decideMicrosByArms"]) });
    expect(met(rows, "cpuMicrosPerEvent")).toBe("yes (earlier run)");
    expect(met(rows, "decideMicrosByArms.50")).toBe("NO");
  });
});
