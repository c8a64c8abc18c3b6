export { World, CONTROL, worldFromConfig } from "./world.ts";
export type { WorldOptions, WorldOutput, Truth, Shopper, OfferSeen, WorldCounts } from "./world.ts";
export { buildCatalog } from "./catalog.ts";
export type { Product } from "./catalog.ts";
export { loadScenario, listScenarios, ScenarioSchema, SHOPPER_TYPES, SCENARIO_DIR } from "./scenario.ts";
export type { Scenario, ScenarioChange, ShopperType, PerType } from "./scenario.ts";
