// Scenario files (config/scenarios/<name>.json): the hidden truth of the simulated shop and how it
// changes over simulated time. Validated with TypeBox like the rest of the config.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Type, type Static } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { PromotionSchema, REPO_ROOT } from "../../src/config/index.ts";

export const SHOPPER_TYPES = ["sure-thing", "persuadable", "sleeping-dog", "lost-cause"] as const;
export type ShopperType = (typeof SHOPPER_TYPES)[number];

const PerType = Type.Object(
  { "sure-thing": Type.Number(), persuadable: Type.Number(), "sleeping-dog": Type.Number(), "lost-cause": Type.Number() },
  { additionalProperties: false },
);
export type PerType = Static<typeof PerType>;

const Change = Type.Object(
  {
    /** Simulated seconds after the scenario starts. */
    atSec: Type.Number({ minimum: 0 }),
    note: Type.Optional(Type.String()),
    /** Replaces the effects of the promotions it names. */
    effects: Type.Optional(Type.Record(Type.String(), PerType)),
    trafficMultiplier: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    /** A share of visits that all go for one product (a flash sale). */
    flashSale: Type.Optional(Type.Object({ productId: Type.String(), share: Type.Number({ minimum: 0, maximum: 1 }) })),
    /** Restocking stops (true) or resumes (false). */
    restockPaused: Type.Optional(Type.Boolean()),
    /** Every product is restocked (to restockTo) at this moment, e.g. the delivery that ends a stock-out. */
    restockNow: Type.Optional(Type.Boolean()),
    /** Promotions launched (or changed) at this time: announced to the processor over promo.control. */
    promotions: Type.Optional(Type.Array(PromotionSchema)),
  },
  { additionalProperties: false },
);
export type ScenarioChange = Static<typeof Change>;

export const ScenarioSchema = Type.Object(
  {
    name: Type.String(),
    description: Type.String(),
    trafficMultiplier: Type.Number({ exclusiveMinimum: 0 }),
    shopperMix: PerType,
    /** Probability of buying in a visit with no promotion. */
    basePurchase: PerType,
    /** Probability of buying after a message (email/sms/push) with no promotion. */
    baseReturn: PerType,
    /** Added to the purchase probability when a promotion that applies is offered, per promotion. */
    effects: Type.Record(Type.String(), PerType),
    /** For promotions the file does not name. */
    defaultEffect: PerType,
    restockEverySec: Type.Number({ exclusiveMinimum: 0 }),
    restockTo: Type.Integer({ minimum: 1 }),
    initialStock: Type.Integer({ minimum: 0 }),
    timeline: Type.Array(Change),
  },
  { additionalProperties: false },
);
export type Scenario = Static<typeof ScenarioSchema>;

export const SCENARIO_DIR = join(REPO_ROOT, "config/scenarios");

export function listScenarios(): string[] {
  return readdirSync(SCENARIO_DIR)
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.slice(0, -5))
    .sort();
}

export function loadScenario(name: string): Scenario {
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`scenario '${name}': use a name of lower-case letters, digits and -`);
  const file = join(SCENARIO_DIR, `${name}.json`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`scenario '${name}' cannot be read from ${file}: ${(err as Error).message}; available: ${listScenarios().join(", ")}`);
  }
  const e = Value.Errors(ScenarioSchema, raw).First();
  if (e) throw new Error(`scenario '${name}' (${file}) is invalid at ${e.path || "/"}: ${e.message}`);
  return raw as Scenario;
}
