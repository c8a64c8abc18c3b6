// The evaluation's own settings (config/eval.json): how a log is replayed and how long the simulator
// runs. The engine's settings stay in the main config; `hillstrom.bandit` only overrides them for replay.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Type, type Static } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { REPO_ROOT } from "../config/index.ts";
import { EvalError, PS_ERR_EVAL } from "./errors.ts";

export const DEFAULT_EVAL_CONFIG_FILE = resolve(REPO_ROOT, "config/eval.json");

/** A segment rule over a log's columns (the engine's `Rule`, with == and != for text columns). */
const LogRule = Type.Object(
  {
    name: Type.String({ minLength: 1, description: "the rule's dimension name" }),
    feature: Type.String({ minLength: 1, description: "a column of the log, e.g. mens or zip_code" }),
    op: Type.Union(["==", "!=", ">=", ">", "<=", "<"].map((o) => Type.Literal(o)), { description: "one of ==, !=, >=, >, <=, <" }),
    value: Type.Union([Type.Number(), Type.String()], { description: "a number, or a text for == and !=" }),
    then: Type.String({ pattern: "^[a-z0-9-]+$", description: "label when the comparison holds" }),
    else: Type.String({ pattern: "^[a-z0-9-]+$", description: "label otherwise" }),
  },
  { additionalProperties: false },
);

export const EvalConfigSchema = Type.Object(
  {
    seeds: Type.Integer({ minimum: 1, maximum: 1000, description: "replay runs per learning policy, 1…1000" }),
    curvePoints: Type.Integer({ minimum: 2, maximum: 2000, description: "points per cumulative-value curve, 2…2000" }),
    hillstrom: Type.Object(
      {
        control: Type.String({ minLength: 1, description: "the logged arm that means no promotion" }),
        promotions: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: "the logged arms that are promotions" }),
        msPerRow: Type.Integer({ minimum: 1, description: "event time between rows in ms (the file has no timestamps)" }),
        epsilon: Type.Number({ minimum: 0, maximum: 1, description: "the exploration share of the ε-greedy baseline" }),
        segments: Type.Array(LogRule, { maxItems: 8, description: "at most 8 segment rules over the log's columns" }),
        bandit: Type.Record(Type.String(), Type.Unknown(), { description: "keys of the main config's bandit to override for replay" }),
      },
      { additionalProperties: false },
    ),
    sim: Type.Object(
      {
        decisions: Type.Integer({ minimum: 1, description: "decision points per simulator run" }),
        sliceMs: Type.Integer({ minimum: 1, maximum: 60_000, description: "simulated ms advanced per step, ≤ 60000 (shorter than any shopper's reaction)" }),
        windowDecisions: Type.Integer({ minimum: 10, description: "decisions per window of the rolling oracle share" }),
        recoveryShare: Type.Number({ minimum: 0, maximum: 1, description: "the oracle share that counts as recovered after a change" }),
        recoveryWithinDecisions: Type.Integer({ minimum: 1, description: "decisions after a change within which recovery is expected" }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type EvalConfig = Static<typeof EvalConfigSchema>;
export type LogRule = Static<typeof LogRule>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
function merge(base: unknown, over: unknown): unknown {
  if (!isObject(base) || !isObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = merge(base[k], v);
  return out;
}

/** Reads config/eval.json (or `file`), merges `overrides`, validates; every error names its key. */
export function loadEvalConfig(opts: { file?: string; overrides?: unknown } = {}): Readonly<EvalConfig> {
  const file = opts.file ?? DEFAULT_EVAL_CONFIG_FILE;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new EvalError(PS_ERR_EVAL.ConfigInvalid, `cannot read the evaluation config ${file}: ${(err as Error).message}`, { cause: err });
  }
  raw = merge(raw, opts.overrides);
  const problems: string[] = [];
  for (const e of Value.Errors(EvalConfigSchema, raw)) {
    const key = e.path.replace(/^\//, "").replace(/\/(\d+)(?=\/|$)/g, "[$1]").replace(/\//g, ".") || "(root)";
    const desc = (e.schema as { description?: string }).description;
    const line = `  - ${key}: ${e.message.toLowerCase()}${desc ? `; fix: set it to ${desc}` : ""}`;
    if (!problems.some((p) => p.startsWith(`  - ${key}:`))) problems.push(line);
  }
  if (problems.length) throw new EvalError(PS_ERR_EVAL.ConfigInvalid, `invalid evaluation config (${file}):\n${problems.join("\n")}`);
  return Object.freeze(structuredClone(raw as EvalConfig));
}
