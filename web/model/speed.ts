// Pure: the speed slider's scale. Position 0…100 ↔ speed 0.1×…100× on a log scale; 101 means "max"
// (as fast as the bus takes it).
export type Speed = number | "max";

export const SLIDER_MAX = 101;

export function speedFromSlider(pos: number): Speed {
  if (pos > 100) return "max";
  const p = Math.min(100, Math.max(0, pos));
  // Two significant digits: fine steps at the slow end (0.11×, 0.12×) without 12.589×.
  return Number(Math.pow(10, -1 + (3 * p) / 100).toPrecision(2));
}

export function sliderFromSpeed(speed: Speed): number {
  if (speed === "max") return SLIDER_MAX;
  return Math.round(((Math.log10(Math.max(0.1, Math.min(100, speed))) + 1) * 100) / 3);
}
