export { Processor } from "./processor.ts";
export type { ProcessorSnapshot, ProcessorHealth } from "./processor.ts";
