import { describe, expect, it } from "vitest";
import { parseCents, parseLogTime, rowEventId, MIN_TS, MAX_TS, type CsvRow } from "./format.ts";

const row = (raw: string, index = 3): CsvRow => ({ line: index + 1, index, fields: raw.split(","), raw });

describe("parseLogTime", () => {
  it.each([
    ["2024-07-07 18:00:26.959902", Date.UTC(2024, 6, 7, 18, 0, 26, 959)],
    ["2024-07-07 18:00:26", Date.UTC(2024, 6, 7, 18, 0, 26)],
    ["2024-07-07T18:00", Date.UTC(2024, 6, 7, 18, 0)],
    ["2024-07-07T18:00:26.5Z", Date.UTC(2024, 6, 7, 18, 0, 26, 500)],
    ["2024-07-07T18:00:26+02:00", Date.UTC(2024, 6, 7, 16, 0, 26)],
    ["2024-07-07T18:00:26-0130", Date.UTC(2024, 6, 7, 19, 30, 26)],
    [" 2000-01-01 00:00:00 ", MIN_TS],
  ])("reads %j as UTC unless an offset says otherwise", (s, want) => {
    expect(parseLogTime(s)).toBe(want);
  });

  it.each(["", "yesterday", "2024-02-30 10:00:00", "2024-13-01 00:00:00", "2024-01-01 24:00:00", "1999-12-31 23:59:59", "2100-01-01 00:00:00", "2024/01/01 10:00:00", "2024-01-01"])(
    "rejects %j (no time, impossible date, or outside 2000–2100)",
    (s) => {
      expect(parseLogTime(s)).toBeUndefined();
    },
  );

  // An offset no zone has is a typo or garbage, not a time: read as given it moved the event by days.
  it.each(["2024-07-07T18:00:26+99:00", "2024-07-07T18:00:26+05:75", "2024-07-07 18:00:26-2400", "2024-07-07T18:00:26+24:00"])("rejects %j (an offset out of range)", (s) => {
    expect(parseLogTime(s)).toBeUndefined();
  });

  it("keeps every accepted time inside the contract's range", () => {
    expect(parseLogTime("2099-12-31 23:59:59.999")).toBeLessThan(MAX_TS);
  });
});

describe("parseCents", () => {
  it.each([
    ["72.91361870063564", 7291],
    ["0", 0],
    ["10", 1000],
    [" 5.005 ", 501],
  ])("%j → %i cents", (s, want) => expect(parseCents(s)).toBe(want));
  it.each(["", "-1", "1e3", "abc", "1,5", "99999999999"])("rejects %j", (s) => expect(parseCents(s)).toBeUndefined());
});

describe("rowEventId", () => {
  it("is the same for the same row and differs for another text on the same row or another row", () => {
    const a = rowEventId("sc", row("1,1,2024-01-01 00:00:00,login,,,"));
    expect(rowEventId("sc", row("1,1,2024-01-01 00:00:00,login,,,"))).toBe(a);
    expect(rowEventId("sc", row("1,1,2024-01-01 00:00:01,login,,,"))).not.toBe(a);
    expect(rowEventId("sc", row("1,1,2024-01-01 00:00:00,login,,,", 4))).not.toBe(a);
    expect(rowEventId("hs", row("x"), "send")).toMatch(/^hs-3-[0-9a-z]+-send$/);
  });
});
