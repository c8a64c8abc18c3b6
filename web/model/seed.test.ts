import { describe, expect, it } from "vitest";
import { seedFromInput } from "./seed.ts";

describe("seedFromInput", () => {
  it("sends nothing for an emptied field (it sent seed 0)", () => {
    expect(seedFromInput("")).toBeNull();
    expect(seedFromInput("  ")).toBeNull();
  });
  it("sends any number, for the simulator to accept or refuse", () => {
    expect(seedFromInput("42")).toBe(42);
    expect(seedFromInput("0")).toBe(0);
    expect(seedFromInput("-5")).toBe(-5);
    expect(seedFromInput("abc")).toBeNull();
  });
});
