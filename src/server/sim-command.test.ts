import { describe, expect, it } from "vitest";
import { simCommand } from "./sim-command.ts";

/** An array nested n levels deep (as JSON.parse reads it: it does not overflow, JSON.stringify did). */
const deep = (n: number): unknown => JSON.parse("[".repeat(n) + "]".repeat(n));

// (Rows are labelled: vitest's %j of a 5,000-level value overflows the stack itself.)
describe("simCommand", () => {
  it.each([
    ["a command alone", { cmd: "status" }, { cmd: "status" }],
    ["a number value", { cmd: "speed", value: 10 }, { cmd: "speed", value: 10 }],
    ["a string value", { cmd: "speed", value: "max" }, { cmd: "speed", value: "max" }],
    // Only the name and the value go on: nothing else of the body reaches the simulator.
    ["a deeply nested extra field", { cmd: "pause", extra: deep(5000) }, { cmd: "pause" }],
  ])("relays %s", (_what, raw, relayed) => {
    expect(simCommand(raw)).toEqual(relayed);
  });

  it.each([
    ["an array nested 5,000 levels", deep(5000), /body must be a JSON object/],
    ["null", null, /body must be a JSON object/],
    ["a string", "status", /body must be a JSON object/],
    ["an object without cmd", {}, /cmd must be a string/],
    ["a nested cmd", { cmd: deep(5000) }, /cmd must be a string/],
    ["a nested value", { cmd: "speed", value: deep(5000) }, /value must be a number or a string, .*not an array/],
    ["an object value", { cmd: "speed", value: { n: 10 } }, /value must be a number or a string, .*not an object/],
  ])("refuses %s, naming the problem", (_what, raw, says) => {
    const r = simCommand(raw);
    expect(typeof r).toBe("string");
    expect(r).toMatch(says);
  });
});
