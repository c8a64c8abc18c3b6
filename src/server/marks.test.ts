import { describe, expect, it } from "vitest";
import { marksBetween } from "./marks.ts";

describe("marksBetween", () => {
  const s = { scenario: "steady", seed: 7 };
  it("marks nothing for the first status or an unchanged one", () => {
    expect(marksBetween(null, s, 1)).toEqual([]);
    expect(marksBetween(s, { ...s }, 1)).toEqual([]);
  });
  it("marks a scenario switch and a reseed at the given time", () => {
    expect(marksBetween(s, { ...s, scenario: "taste-shift" }, 5)).toEqual([{ t: 5, kind: "scenario", label: "taste-shift" }]);
    expect(marksBetween(s, { scenario: "holiday", seed: 8 }, 9)).toEqual([
      { t: 9, kind: "scenario", label: "holiday" },
      { t: 9, kind: "seed", label: "seed 8" },
    ]);
  });
});
