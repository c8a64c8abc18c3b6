export { ArmTable } from "./posterior.ts";
export type { PosteriorOptions, BetaParams, Counts, ArmTableState } from "./posterior.ts";
export { thompsonChoose, thompsonPropensity } from "./thompson.ts";
export { thompsonPropensityQuad, PROPENSITY_FLOOR, betaCdfApprox, betaQuantileApprox, normalCdf } from "./propensity.ts";
export { epsilonGreedyChoose, uniformChoose } from "./baselines.ts";
export { betaInterval95, wilson, newcombeDiff } from "./stats.ts";
