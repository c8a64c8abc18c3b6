export { CheckpointStore, PartWriter } from "./checkpoint.ts";
export { AckFloorStore } from "./ackfloor.ts";
export type { CheckpointHead, ChainHead, PartRef, Loaded } from "./checkpoint.ts";
export { StateError, PS_ERR_STATE } from "./errors.ts";
export type { StateErrorCode } from "./errors.ts";
