export { SimulatorRunner, parseCommand } from "./runner.ts";
export type { SimStatus, SimCommand, SimReply, Speed } from "./runner.ts";
export { World, worldFromConfig, loadScenario, listScenarios } from "./world/index.ts";
export type { Truth, WorldOutput, Scenario } from "./world/index.ts";
export { replayCli, replayFile, FORMATS, formatNamed } from "./replay/index.ts";
export type { ReplayFormat, ReplayReport, ReplayOptions, CsvRow, RowResult } from "./replay/index.ts";
