export { loadConfig, validateConfig, natsTlsRequired, ENV_KEYS, REPO_ROOT, DEFAULT_CONFIG_FILE } from "./load.ts";
export type { LoadOptions } from "./load.ts";
export { ConfigError, PS_ERR_CONFIG } from "./errors.ts";
export type { ConfigIssue, ConfigErrorCode } from "./errors.ts";
export { ConfigSchema, PromotionSchema, SegmentRuleSchema, BaselineRuleSchema, POLICY_MODES, BUILTIN_BASELINES } from "./schema.ts";
export { SEED_RULE, NEVER_RULE, builtinBaseline, resolveBaseline, baselineIssues, baselineNotes } from "./baseline.ts";
export type { Config, PromotionConfig, SegmentRule, ChannelName, BaselineRule, BaselineChannelRule, PolicyMode } from "./schema.ts";
