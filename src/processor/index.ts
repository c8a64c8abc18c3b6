export { Processor } from "./processor.ts";
export type { ProcessorSnapshot, ProcessorHealth, ProcessorState } from "./processor.ts";
