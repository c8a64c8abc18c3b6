export { loadConfig, validateConfig, ENV_KEYS, REPO_ROOT, DEFAULT_CONFIG_FILE } from "./load.ts";
export type { LoadOptions } from "./load.ts";
export { ConfigError, PS_ERR_CONFIG } from "./errors.ts";
export type { ConfigIssue, ConfigErrorCode } from "./errors.ts";
export { ConfigSchema, PromotionSchema, SegmentRuleSchema } from "./schema.ts";
export type { Config, PromotionConfig, SegmentRule, ChannelName } from "./schema.ts";
