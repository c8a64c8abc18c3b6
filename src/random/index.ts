export { rngFromSeed, rngFromKey } from "./rng.ts";
export type { Rng } from "./rng.ts";
export { sampleBeta, sampleGamma, sampleNormal, sampleExponential } from "./distributions.ts";
