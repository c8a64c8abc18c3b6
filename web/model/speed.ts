// Pure: the speed slider's scale. Position 0…100 ↔ speed 0.1×…100× on a log scale; 101 means "max"
// (as fast as the bus takes it).
export type Speed = number | "max";

export const SLIDER_MAX = 101;

/**
 * The positions of 0.1×, 1×, 10× and 100×. Each decade spans its own stretch of the slider, so the
 * marked speeds are hit exactly: with one log scale over 0…100 a decade is 33⅓ positions, and the
 * position nearest 1× (33) gave 0.98×, leaving no way back to 1×.
 */
const DECADES = [0, 33, 67, 100] as const;

export function speedFromSlider(pos: number): Speed {
  if (pos > 100) return "max";
  const p = Math.min(100, Math.max(0, pos));
  let d = 0;
  while (d < DECADES.length - 2 && p >= DECADES[d + 1]!) d++;
  const from = DECADES[d]!;
  const to = DECADES[d + 1]!;
  // Two significant digits: fine steps at the slow end (0.11×, 0.12×) without 12.589×.
  return Number(Math.pow(10, d - 1 + (p - from) / (to - from)).toPrecision(2));
}

export function sliderFromSpeed(speed: Speed): number {
  if (speed === "max") return SLIDER_MAX;
  const e = Math.log10(Math.max(0.1, Math.min(100, speed))) + 1;
  const d = Math.min(DECADES.length - 2, Math.floor(e));
  const from = DECADES[d]!;
  const to = DECADES[d + 1]!;
  return Math.round(from + (e - d) * (to - from));
}
