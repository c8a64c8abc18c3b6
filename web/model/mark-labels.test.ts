import { describe, expect, it } from "vitest";
import { placeMarkLabels } from "./mark-labels.ts";

const area = { left: 0, width: 1000, rows: 3, pad: 3, gap: 4 };

describe("placeMarkLabels", () => {
  it("keeps labels far apart on the first row, reading rightwards, leftwards near the right edge", () => {
    expect(placeMarkLabels([{ x: 100, width: 60 }, { x: 400, width: 60 }, { x: 900, width: 60 }], area)).toEqual([
      { row: 0, align: "left", textX: 103 },
      { row: 0, align: "left", textX: 403 },
      { row: 0, align: "right", textX: 897 },
    ]);
  });

  it("staggers labels of changes close together (they printed as 'taste-shiftseed 42seed 0'), the newest on top", () => {
    const places = placeMarkLabels([{ x: 500, width: 55 }, { x: 510, width: 40 }, { x: 520, width: 35 }], area);
    expect(places.map((p) => p?.row)).toEqual([2, 1, 0]);
  });

  it("leaves out the oldest labels once every row is taken", () => {
    const burst = [0, 1, 2, 3, 4].map((k) => ({ x: 300 + 5 * k, width: 50 }));
    const places = placeMarkLabels(burst, area);
    expect(places.slice(0, 2)).toEqual([null, null]);
    expect(places.slice(2).map((p) => p?.row)).toEqual([2, 1, 0]);
  });

  it("puts a label back on the first row once it clears the others", () => {
    const places = placeMarkLabels([{ x: 100, width: 50 }, { x: 120, width: 50 }, { x: 200, width: 50 }], area);
    expect(places.map((p) => p?.row)).toEqual([1, 0, 0]);
  });
});
