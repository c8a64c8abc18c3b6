// Reads a log in the format of Kevin Hillstrom's MineThatData e-mail experiment (../shared/datasets/
// hillstrom): one row per customer, the randomly assigned arm in `segment`, outcomes visit/conversion/spend.
import { readFileSync } from "node:fs";
import { parse } from "csv-parse/sync";
import { EvalError, PS_ERR_EVAL } from "./errors.ts";
import type { LogFeatures } from "./policies.ts";
import type { LoggedRow, Metric } from "./replay.ts";

export const HILLSTROM_COLUMNS = ["recency", "history_segment", "history", "mens", "womens", "zip_code", "newbie", "channel", "segment", "visit", "conversion", "spend"] as const;
const NUMERIC = new Set(["recency", "history", "mens", "womens", "newbie", "visit", "conversion", "spend"]);
/** Columns a policy may see: everything but the arm and the outcomes. */
export const HILLSTROM_CONTEXT = ["recency", "history_segment", "history", "mens", "womens", "zip_code", "newbie", "channel"] as const;

export interface HillstromLog {
  rows: LoggedRow[];
  /** Every arm seen, in first-seen order. */
  arms: string[];
}

/** Parses CSV text; `arms` lists the arm names the file may use (anything else is an error naming the row). */
export function parseHillstrom(text: string, metric: Metric, arms: readonly string[], source = "<text>"): HillstromLog {
  let records: Record<string, string>[];
  try {
    records = parse(text, { bom: true, columns: true, skip_empty_lines: true, trim: true }) as Record<string, string>[];
  } catch (err) {
    throw new EvalError(PS_ERR_EVAL.DataInvalid, `${source}: not readable as CSV: ${(err as Error).message}`, { cause: err });
  }
  if (records.length === 0) throw new EvalError(PS_ERR_EVAL.DataInvalid, `${source}: no data rows`);
  const missing = HILLSTROM_COLUMNS.filter((c) => !(c in records[0]!));
  if (missing.length) throw new EvalError(PS_ERR_EVAL.DataInvalid, `${source}: missing column(s) ${missing.join(", ")}; expected ${HILLSTROM_COLUMNS.join(",")}`);
  const known = new Set(arms);
  const seen: string[] = [];
  const rows: LoggedRow[] = records.map((r, i) => {
    const line = i + 2; // header is line 1
    const ctx: Record<string, number | string> = {};
    for (const c of HILLSTROM_CONTEXT) {
      const v = r[c]!;
      if (NUMERIC.has(c)) {
        const x = Number(v);
        if (v === "" || !Number.isFinite(x)) throw new EvalError(PS_ERR_EVAL.DataInvalid, `${source} line ${line}: ${c} must be a number, got '${v}'`);
        ctx[c] = x;
      } else ctx[c] = v;
    }
    const arm = r.segment!;
    if (!known.has(arm)) throw new EvalError(PS_ERR_EVAL.DataInvalid, `${source} line ${line}: arm (column segment) '${arm}' is not one of ${arms.join(", ")}`);
    if (!seen.includes(arm)) seen.push(arm);
    const raw = r[metric]!;
    const outcome = Number(raw);
    const ok = metric === "spend" ? Number.isFinite(outcome) && outcome >= 0 : outcome === 0 || outcome === 1;
    if (raw === "" || !ok) throw new EvalError(PS_ERR_EVAL.DataInvalid, `${source} line ${line}: ${metric} must be ${metric === "spend" ? "a number ≥ 0" : "0 or 1"}, got '${raw}'`);
    return { ctx, arm, outcome };
  });
  return { rows, arms: seen };
}

export function readHillstrom(file: string, metric: Metric, arms: readonly string[]): HillstromLog {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new EvalError(PS_ERR_EVAL.DataUnreadable, `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  return parseHillstrom(text, metric, arms, file);
}

/**
 * The logistic model's features on a Hillstrom row, each about [0, 1]: bias, months since the last
 * purchase / 12, log(1 + last year's spend) / 7, bought men's and women's merchandise, new customer,
 * channel (web, phone; multichannel is the base) and area (urban, rural; suburban is the base).
 */
export const HILLSTROM_FEATURES: LogFeatures & { names: readonly string[] } = {
  names: ["bias", "recency", "history", "mens", "womens", "newbie", "web", "phone", "urban", "rural"],
  dims: 10,
  write(ctx, out) {
    const num = (k: string) => (typeof ctx[k] === "number" ? (ctx[k] as number) : Number(ctx[k]) || 0);
    out[0] = 1;
    out[1] = num("recency") / 12;
    out[2] = Math.log1p(Math.max(0, num("history"))) / 7;
    out[3] = num("mens");
    out[4] = num("womens");
    out[5] = num("newbie");
    out[6] = ctx.channel === "Web" ? 1 : 0;
    out[7] = ctx.channel === "Phone" ? 1 : 0;
    out[8] = ctx.zip_code === "Urban" ? 1 : 0;
    out[9] = ctx.zip_code === "Rural" ? 1 : 0;
  },
};
