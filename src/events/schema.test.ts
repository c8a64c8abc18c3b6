// The contract's JSON Schemas, as served at /api/schema/*.json, say which draft they are written in.
// TypeBox writes a tuple as draft-07 does (`items` as an array, `additionalItems`); without `$schema` a
// validator takes its own default, today 2020-12 (Python's jsonschema, Ajv2020), under which such an
// `items` is no schema at all: `jsonschema.validate(event, <event.json>)` raised SchemaError on the
// sync event's `arms` tuples before looking at the event.
import { describe, expect, it } from "vitest";
import { DecisionSchema, EventSchema, OutcomeSchema } from "./schema.ts";

const DRAFT_07 = "http://json-schema.org/draft-07/schema#";

/** Every subschema's `items` written as an array (draft-07's tuple form; 2020-12 has prefixItems). */
function tupleItems(node: unknown, path = "#"): string[] {
  if (Array.isArray(node)) return node.flatMap((x, i) => tupleItems(x, `${path}/${i}`));
  if (!node || typeof node !== "object") return [];
  const here = Array.isArray((node as { items?: unknown }).items) ? [path] : [];
  return [...here, ...Object.entries(node).flatMap(([k, v]) => tupleItems(v, `${path}/${k}`))];
}

describe("the contract's JSON Schemas", () => {
  for (const [name, schema] of [
    ["decision", DecisionSchema],
    ["event", EventSchema],
    ["outcome", OutcomeSchema],
  ] as const)
    it(`${name}.json names its draft, draft-07, the one its keywords are written in`, () => {
      const served = JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
      expect(served.$schema).toBe(DRAFT_07);
      expect(JSON.stringify(served)).not.toContain("prefixItems");
    });

  it("the event schema does hold draft-07 tuples (the reason it must say so)", () => {
    expect(tupleItems(JSON.parse(JSON.stringify(EventSchema))).length).toBeGreaterThan(0);
  });
});
