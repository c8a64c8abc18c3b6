import { describe, expect, it } from "vitest";
import { sliderFromSpeed, speedFromSlider } from "./speed.ts";

describe("speed slider", () => {
  it("maps its ends to 0.1×, 100× and max", () => {
    expect(speedFromSlider(0)).toBe(0.1);
    expect(speedFromSlider(100)).toBe(100);
    expect(speedFromSlider(101)).toBe("max");
    expect(speedFromSlider(-5)).toBe(0.1);
  });

  it("is logarithmic: 1× at a third, 10× at two thirds", () => {
    expect(speedFromSlider(sliderFromSpeed(1))).toBeCloseTo(1, 1);
    expect(speedFromSlider(33)).toBe(1);
    expect(speedFromSlider(67)).toBe(10);
    expect(sliderFromSpeed(1)).toBe(33);
    expect(sliderFromSpeed(10)).toBe(67);
  });

  it("rises with the position and round-trips every position", () => {
    let last = 0;
    for (let p = 0; p <= 100; p++) {
      const s = speedFromSlider(p) as number;
      expect(s).toBeGreaterThanOrEqual(last);
      last = s;
      expect(Math.abs(sliderFromSpeed(s) - p)).toBeLessThanOrEqual(1);
    }
    expect(sliderFromSpeed("max")).toBe(101);
  });

  it("hits every marked speed exactly, there and back", () => {
    for (const s of [0.1, 1, 10, 100]) expect(speedFromSlider(sliderFromSpeed(s))).toBe(s);
  });
});
