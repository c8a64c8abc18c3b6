// The shop's own rule (issue 23): what the engine starts from in apprentice mode and is held against in
// conservative mode. A rule says per channel what it offers; the built-in ones are spelled out here so
// that start-up can check them against the configured promotions like any rule a shop writes.
import { CHANNELS } from "../events/index.ts";
import type { ConfigIssue } from "./errors.ts";
import { BUILTIN_BASELINES, type BaselineRule, type Config } from "./schema.ts";

/**
 * The rule promo-stream grew out of: at the 3rd view of a product without a purchase in the visit, 20%
 * off (the featured product's 20% of config/default.json); no promotion anywhere else. Note that a
 * product-view decision point is the `decisionPoints.productView.minViews`-th view of its product: with
 * the default (the 1st view) this rule never reaches its 3rd view at a decision point and offers nothing.
 */
export const SEED_RULE: BaselineRule = { name: "seed-rule", web: { offer: "pct20-sku-007", atView: 3 } };
/** No promotion anywhere (control): the shop that offers nothing yet. */
export const NEVER_RULE: BaselineRule = { name: "never" };

const BUILTIN: Record<(typeof BUILTIN_BASELINES)[number], BaselineRule> = { "seed-rule": SEED_RULE, never: NEVER_RULE };

/** A built-in rule by name, or undefined. */
export function builtinBaseline(name: string): BaselineRule | undefined {
  return (BUILTIN as Record<string, BaselineRule>)[name];
}

/** The configured rule, built-ins spelled out (undefined only for an unknown name, which validation refuses). */
export function resolveBaseline(c: Pick<Config, "policy">): BaselineRule | undefined {
  const b = c.policy.baseline;
  return typeof b === "string" ? builtinBaseline(b) : b;
}

/**
 * What a person should know about the rule at these decision points, though it is valid: a web rule
 * at the n-th view of a product offers nothing when decisions are made at an earlier view (a product
 * view decision is the decisionPoints.productView.minViews-th view of its product, once per product).
 */
export function baselineNotes(rule: BaselineRule, c: Pick<Config, "decisionPoints">): string[] {
  const w = rule.web;
  const pv = c.decisionPoints.productView;
  if (!w?.atView || w.offer === "control" || (pv.enabled && pv.minViews >= w.atView)) return [];
  return [
    `${rule.name} offers ${w.offer} at the ${ordinal(w.atView)} view of a product, but product-view decisions are made at the ${ordinal(pv.minViews)} view (decisionPoints.productView.minViews${pv.enabled ? "" : ", disabled"}): at the engine's decision points it offers no promotion; set decisionPoints.productView.minViews to ${w.atView} to decide where the rule does`,
  ];
}

function ordinal(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? "th" : (["th", "st", "nd", "rd"][n % 10] ?? "th");
  return `${n}${s}`;
}

/**
 * What is wrong with the rule against the rest of the configuration: an unknown built-in, a promotion
 * that is not configured or not offered on the channel, a view count on a channel without views.
 */
export function baselineIssues(c: Pick<Config, "policy" | "promotions">): ConfigIssue[] {
  const key = "policy.baseline";
  const raw = c.policy.baseline;
  const rule = resolveBaseline(c);
  if (!rule) return [{ key, problem: `'${String(raw)}' is not a built-in rule`, fix: `use ${BUILTIN_BASELINES.join(" or ")}, or write the rule: {"name": "…", "web": {"offer": "<promotion id>", "atView": 3}}` }];
  // In learner mode the rule serves nothing: a shop's own promotions need not hold the built-in
  // seed-rule's (a mode changed at runtime meets its rule at each decision: an offer not eligible there,
  // or not configured, is no promotion).
  if (c.policy.mode === "learner") return [];
  // A built-in's issues are reported at policy.baseline (its parts are not in the file).
  const at = (ch: string, field: string) => (typeof raw === "string" ? key : `${key}.${ch}.${field}`);
  const what = typeof raw === "string" ? `the built-in '${raw}' ` : "";
  const issues: ConfigIssue[] = [];
  // A built-in's offer cannot be changed where the key is (policy.baseline is its name): its fix is to
  // write the rule out, with a promotion the configuration offers on the channel, or to offer nothing.
  const writeOut = (ch: (typeof CHANNELS)[number], atView: number | undefined) => {
    const offer = c.promotions.find((x) => x.channels.includes(ch))?.id ?? "control";
    return `write policy.baseline as a rule of its own, e.g. {"name": "my-rule", "${ch}": {"offer": "${offer}"${atView !== undefined ? `, "atView": ${atView}` : ""}}}, or set it to never (no promotion)`;
  };
  for (const ch of CHANNELS) {
    const r = rule[ch];
    if (!r) continue;
    if (r.offer !== "control") {
      const p = c.promotions.find((x) => x.id === r.offer);
      const builtin = typeof raw === "string";
      if (!p)
        issues.push({
          key: at(ch, "offer"),
          problem: `${what}offers '${r.offer}' on ${ch}, which is not among promotions`,
          fix: builtin ? `add a promotion '${r.offer}' offered on ${ch}, or ${writeOut(ch, r.atView)}` : `use the id of a configured promotion (${c.promotions.map((x) => x.id).join(", ") || "none configured"}) or control`,
        });
      else if (!p.channels.includes(ch))
        issues.push({
          key: at(ch, "offer"),
          problem: `${what}offers '${r.offer}' on ${ch}, a channel it is not offered on (${p.channels.join(", ")})`,
          fix: builtin ? `add ${ch} to ${r.offer}'s channels, or ${writeOut(ch, r.atView)}` : `add ${ch} to that promotion's channels, or offer another on ${ch}`,
        });
    }
    if (r.atView !== undefined && ch !== "web") issues.push({ key: at(ch, "atView"), problem: `${ch} decisions have no product views`, fix: "remove atView (the rule then offers at every decision on the channel)" });
  }
  return issues;
}
