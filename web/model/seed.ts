// Pure: what the simulator panel's Seed field sends. An emptied field is no seed: Number("") is 0, and
// clearing the field used to reseed the simulator with 0.

/** The seed to send for the field's text, or null to send nothing (empty, or not a number). */
export function seedFromInput(text: string): number | null {
  const t = text.trim();
  if (t === "") return null;
  const n = Number(t);
  // Anything numeric goes to the simulator, which alone decides what a valid seed is (and says why not).
  return Number.isFinite(n) ? n : null;
}
