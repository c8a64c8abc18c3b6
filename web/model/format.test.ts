import { describe, expect, it } from "vitest";
import { axisWidth, formatClock, formatInterval, formatSimTime, formatSpeed, formatTimeOfDay, formatValue, formatCandidate, formatTicks } from "./format.ts";

describe("formatValue", () => {
  it.each([
    [0.5, "percent", "50%"],
    [0.054, "percent", "5.4%"],
    [-0.021, "percent", "-2.1%"],
    [0, "percent", "0%"],
    [123456, "cents", "$1.2k"],
    [1999, "cents", "$20"],
    [250, "cents", "$2.50"],
    [0.42, "ms", "0.42 ms"],
    [0, "ms", "0 ms"],
    [4.25, "ms", "4.3 ms"],
    [1500, "number", "1.5k"],
    [0.12345, "number", "0.123"],
    [NaN, "number", "–"],
  ] as const)("%s as %s reads %s", (v, f, want) => {
    expect(formatValue(v, f)).toBe(want);
  });
});

describe("formatTicks", () => {
  it("keeps formatValue's labels when they already differ", () => {
    expect(formatTicks([0, 0.25, 0.5, 0.75], "percent")).toEqual(["0%", "25%", "50%", "75%"]);
    expect(formatTicks([0, 500, 1000], "cents")).toEqual(["$0", "$5.00", "$10"]);
  });
  it("gives every tick the decimals that tell them apart (budget burn near zero read 0.1%, 0.1%, 0.1%, 0%)", () => {
    expect(formatTicks([0, 0.0005, 0.001, 0.0015], "percent")).toEqual(["0.00%", "0.05%", "0.10%", "0.15%"]);
    expect(formatTicks([12, 12.5, 13, 13.5], "ms")).toEqual(["12.0 ms", "12.5 ms", "13.0 ms", "13.5 ms"]);
    expect(formatTicks([1000, 1020, 1040], "number")).toEqual(["1.00k", "1.02k", "1.04k"]);
    expect(formatTicks([100_000, 102_000, 104_000], "cents")).toEqual(["$1.00k", "$1.02k", "$1.04k"]);
  });
  it("never labels a tick with a value it is not (budget burn at 0.25% steps read 0%, 0.3%, 0.5%, 0.8%)", () => {
    expect(formatTicks([0, 0.0025, 0.005, 0.0075], "percent")).toEqual(["0.00%", "0.25%", "0.50%", "0.75%"]);
    expect(formatTicks([0.075, 0.1, 0.125], "percent")).toEqual(["7.5%", "10.0%", "12.5%"]);
    expect(formatTicks([5, 7.5, 10, 12.5], "ms")).toEqual(["5.0 ms", "7.5 ms", "10.0 ms", "12.5 ms"]);
    expect(formatTicks([0, 125_000, 250_000], "cents")).toEqual(["$0.0", "$1.25k", "$2.50k"]);
    expect(formatTicks([0, 1250, 2500], "number")).toEqual(["0.0", "1.25k", "2.50k"]);
  });
  it("leaves uPlot's missing ticks blank", () => {
    expect(formatTicks([null, 0.001, 0.0015], "percent")).toEqual(["", "0.10%", "0.15%"]);
  });
});

describe("times and speeds", () => {
  it("shows wall-clock time of day in the local zone", () => {
    const d = new Date(2026, 2, 2, 9, 5, 7);
    expect(formatClock(d.getTime())).toBe("09:05:07");
  });
  it("shows the simulator's clock and decision times in UTC", () => {
    const t = Date.UTC(2026, 2, 2, 8, 3, 9);
    expect(formatSimTime(t)).toBe("2026-03-02 08:03");
    expect(formatTimeOfDay(t)).toBe("08:03:09");
  });
  it("shows a speed as a multiple or max", () => {
    expect(formatSpeed(2.5)).toBe("2.5×");
    expect(formatSpeed("max")).toBe("max");
  });
  it("shows an interval after its estimate", () => {
    expect(formatInterval(0.12, [0.1, 0.146], "percent")).toBe("12% [10, 15]");
    expect(formatInterval(-0.16, [-0.2, -0.11], "percent")).toBe("-16% [-20, -11]");
  });
  it("sizes a y axis to its longest label", () => {
    expect(axisWidth(null)).toBe(40);
    expect(axisWidth(["0%", "50%"])).toBe(40);
    expect(axisWidth(["0.25 ms", "1.50 ms", null])).toBeGreaterThan(axisWidth(["0%", "100%"]));
  });
});

describe("formatCandidate", () => {
  it("shows a candidate's score as expected margin, margin if bought × sampled conversion", () => {
    expect(formatCandidate({ promotionId: "free-shipping", score: 421.3, marginCents: 2301 })).toBe("free-shipping $4.21 ($23.01 × 0.183)");
    // The objective is conversion alone: the score is the conversion.
    expect(formatCandidate({ promotionId: "control", score: 0.1234 })).toBe("control 0.123");
  });
});
