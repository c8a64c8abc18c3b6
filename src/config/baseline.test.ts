// The shop's rule as configuration (issue 23): built-ins, rules written out, and the errors start-up
// gives for a rule it cannot run, each naming the key and the fix.
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, resolveBaseline, SEED_RULE } from "./index.ts";

function issuesOf(overrides: unknown, env: Record<string, string> = {}): { key: string; env?: string; problem: string; fix: string }[] {
  try {
    loadConfig({ env, overrides });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).issues];
  }
  throw new Error("expected a ConfigError");
}

const promo = (id: string, channels: string[]) => ({ id, name: id, kind: "amount", amountOffCents: 100, channels, budgetCents: 1000, maxDiscountCents: 100 });

describe("policy.baseline", () => {
  it("defaults to the built-in seed-rule in learner mode: 3rd view, 20% off the featured product", () => {
    const c = loadConfig({ env: {} });
    expect(c.policy).toMatchObject({ mode: "learner", baseline: "seed-rule", apprenticeExplore: 0.05, conservativeAlpha: 0.05, graduateTo: "conservative" });
    expect(resolveBaseline(c)).toEqual(SEED_RULE);
    expect(SEED_RULE).toEqual({ name: "seed-rule", web: { offer: "pct20-sku-007", atView: 3 } });
  });

  it("POLICY_MODE sets policy.mode", () => {
    expect(loadConfig({ env: { POLICY_MODE: "apprentice" } }).policy.mode).toBe("apprentice");
    const [i] = issuesOf({}, { POLICY_MODE: "cautious" });
    expect(i).toMatchObject({ key: "policy.mode", env: "POLICY_MODE" });
    expect(i!.fix).toMatch(/learner .*apprentice .*conservative/);
  });

  it("expresses the seed rule, always a promotion, and never, per channel", () => {
    const rules = [
      { name: "third-view", web: { offer: "pct20-sku-007", atView: 3 } },
      { name: "always-shipping", web: { offer: "free-shipping" }, email: { offer: "free-shipping" }, sms: { offer: "free-shipping" }, push: { offer: "free-shipping" } },
      { name: "control", web: { offer: "control" } },
      "never",
    ];
    for (const baseline of rules) expect(loadConfig({ env: {}, overrides: { policy: { baseline } } }).policy.baseline).toEqual(baseline);
  });

  // Each bad rule: the key named, the problem, the fix.
  const bad: [string, unknown, unknown, string, RegExp, RegExp][] = [
    ["an unknown built-in", "seed", undefined, "policy.baseline", /not a built-in rule/, /seed-rule or never/],
    ["a promotion that is not configured", { name: "r", web: { offer: "pct50-all" } }, undefined, "policy.baseline.web.offer", /'pct50-all' .* not among promotions/, /pct10-electronics/],
    ["a promotion not offered on the channel", { name: "r", sms: { offer: "pct20-sku-007" } }, undefined, "policy.baseline.sms.offer", /not offered on \(web, push\)/, /add sms/],
    ["a view count on email", { name: "r", email: { offer: "free-shipping", atView: 2 } }, undefined, "policy.baseline.email.atView", /no product views/, /remove atView/],
    ["a view count of 0", { name: "r", web: { offer: "free-shipping", atView: 0 } }, undefined, "policy.baseline.web.atView", /greater or equal to 1, got 0/, /1…100/],
    ["an unknown channel", { name: "r", fax: { offer: "control" } }, undefined, "policy.baseline.fax", /unknown key/, /spelling/],
    ["a rule without a name", { web: { offer: "control" } }, undefined, "policy.baseline.name", /missing/, /lower-case/],
    ["the seed rule without its promotion", "seed-rule", [promo("other", ["web"])], "policy.baseline", /built-in 'seed-rule' offers 'pct20-sku-007' on web, which is not among promotions/, /other/],
    // policy.baseline is then a name: "use the id of a configured promotion" could not be done there (a
    // promotion id is no built-in rule); the fix says how to write the rule out, or to offer nothing.
    ["the seed rule without its promotion: the fix writes the rule out", "seed-rule", [promo("other", ["web"])], "policy.baseline", /not among promotions/, /write policy\.baseline as a rule of its own, e\.g\. \{"name": "my-rule", "web": \{"offer": "other", "atView": 3\}\}, or set it to never/],
    ["the seed rule with its promotion off the web", "seed-rule", [promo("pct20-sku-007", ["email"])], "policy.baseline", /not offered on \(email\)/, /add web to pct20-sku-007's channels, or write policy\.baseline as a rule of its own/],
  ];
  it.each(bad)("%s: fails naming the key and the fix (in apprentice mode)", (_name, baseline, promotions, key, problem, fix) => {
    const issues = issuesOf({ policy: { baseline, mode: "apprentice" }, ...(promotions ? { promotions } : {}) });
    const hit = issues.find((i) => i.key === key);
    expect(hit, JSON.stringify(issues)).toBeDefined();
    expect(hit!.problem).toMatch(problem);
    expect(hit!.fix).toMatch(fix);
  });

  it("in learner mode a shop's own promotions need not hold the rule's (it serves nothing); an unknown built-in is still refused", () => {
    expect(loadConfig({ env: {}, overrides: { promotions: [promo("other", ["web"])] } }).policy.baseline).toBe("seed-rule");
    expect(issuesOf({ policy: { baseline: "seed" } })[0]!.key).toBe("policy.baseline");
  });

  it("refuses an alpha of 0 and an exploration share above one half, with their ranges", () => {
    const issues = issuesOf({ policy: { conservativeAlpha: 0, apprenticeExplore: 0.6 } });
    expect(issues.find((i) => i.key === "policy.conservativeAlpha")!.fix).toMatch(/\(0, 0\.5\]/);
    expect(issues.find((i) => i.key === "policy.apprenticeExplore")!.fix).toMatch(/\(0, 0\.5\]/);
  });

  it("refuses an exploration share of 0: the log would hold no evidence on any arm but the rule's", () => {
    const hit = issuesOf({ policy: { apprenticeExplore: 0 } }).find((i) => i.key === "policy.apprenticeExplore");
    expect(hit).toBeDefined();
    expect(hit!.fix).toMatch(/\(0, 0\.5\].*no evidence on any arm but the rule's/);
  });
});
