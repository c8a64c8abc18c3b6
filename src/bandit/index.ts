export { ArmTable } from "./posterior.ts";
export type { PosteriorOptions, BetaParams, Counts, ArmTableState } from "./posterior.ts";
export { thompsonChoose, thompsonPropensity } from "./thompson.ts";
export { betaInterval95, wilson, newcombeDiff } from "./stats.ts";
