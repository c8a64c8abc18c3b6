import { describe, expect, it } from "vitest";
import { EvalError, PS_ERR_EVAL } from "./errors.ts";
import { parseHillstrom } from "./hillstrom.ts";

const ARMS = ["Mens E-Mail", "Womens E-Mail", "No E-Mail"];
const HEAD = "recency,history_segment,history,mens,womens,zip_code,newbie,channel,segment,visit,conversion,spend";

describe("parseHillstrom", () => {
  it("reads quoted values with commas, numbers as numbers, and the chosen metric as the outcome", () => {
    const csv = `${HEAD}\n2,"7) $1,000 +",1200.5,1,1,Urban,0,Web,Mens E-Mail,1,1,88.5\n10,1) $0 - $100,29.99,0,1,Rural,1,Phone,No E-Mail,0,0,0\n`;
    const log = parseHillstrom(csv, "spend", ARMS);
    expect(log.rows).toHaveLength(2);
    expect(log.rows[0]).toEqual({
      ctx: { recency: 2, history_segment: "7) $1,000 +", history: 1200.5, mens: 1, womens: 1, zip_code: "Urban", newbie: 0, channel: "Web" },
      arm: "Mens E-Mail",
      outcome: 88.5,
    });
    expect(parseHillstrom(csv, "visit", ARMS).rows.map((r) => r.outcome)).toEqual([1, 0]);
    expect(log.arms).toEqual(["Mens E-Mail", "No E-Mail"]);
  });

  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return e instanceof EvalError ? e.code : "other";
    }
    return "none";
  };

  it("rejects a missing column, an unknown arm and a non-binary visit with a stable code", () => {
    expect(code(() => parseHillstrom("recency,visit\n1,0\n", "visit", ARMS))).toBe(PS_ERR_EVAL.DataInvalid);
    expect(code(() => parseHillstrom(`${HEAD}\n2,a,1,1,0,Urban,0,Web,Kids E-Mail,1,0,0\n`, "visit", ARMS))).toBe(PS_ERR_EVAL.DataInvalid);
    expect(code(() => parseHillstrom(`${HEAD}\n2,a,1,1,0,Urban,0,Web,No E-Mail,2,0,0\n`, "visit", ARMS))).toBe(PS_ERR_EVAL.DataInvalid);
    expect(code(() => parseHillstrom(`${HEAD}\n`, "visit", ARMS))).toBe(PS_ERR_EVAL.DataInvalid);
  });
});
