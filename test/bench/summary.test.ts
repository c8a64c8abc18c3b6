// The bench summary's arithmetic (bench/summary.ts): what results.json and the summary table say.
import { constants } from "node:perf_hooks";
import { describe, expect, it } from "vitest";
import { pausesByKind } from "../../bench/summary.ts";

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
