import { describe, expect, it } from "vitest";
import { columnCount, lastItemSpan } from "./layout.ts";

describe("grid layout", () => {
  it("counts the columns of a computed template", () => {
    expect(columnCount("440px 440px 440px")).toBe(3);
    expect(columnCount(" 600px 600px ")).toBe(2);
    expect(columnCount("none")).toBe(1);
    expect(columnCount("")).toBe(1);
  });

  it.each([
    [8, 3, 2],
    [8, 2, 1],
    [8, 4, 1],
    [7, 3, 3],
    [9, 4, 4],
    [8, 1, 1],
    [1, 3, 3],
  ])("%i charts in %i columns: the last spans %i", (count, columns, span) => {
    expect(lastItemSpan(count, columns)).toBe(span);
    // The last row is full: the other items of the row plus the span make the columns.
    if (columns > 1) expect(((count - 1) % columns) + span).toBe(columns);
  });
});
