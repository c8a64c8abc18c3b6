export { CheckpointStore } from "./checkpoint.ts";
export type { CheckpointHead, Loaded } from "./checkpoint.ts";
export { StateError, PS_ERR_STATE } from "./errors.ts";
export type { StateErrorCode } from "./errors.ts";
