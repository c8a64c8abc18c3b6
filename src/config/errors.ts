export const PS_ERR_CONFIG = {
  Invalid: "PS_ERR_CONFIG_INVALID",
  Unreadable: "PS_ERR_CONFIG_UNREADABLE",
} as const;
export type ConfigErrorCode = (typeof PS_ERR_CONFIG)[keyof typeof PS_ERR_CONFIG];

/** One thing wrong with the configuration: the key, what is wrong, and how to fix it. */
export interface ConfigIssue {
  key: string;
  env?: string;
  problem: string;
  fix: string;
}

export class ConfigError extends Error {
  readonly code: ConfigErrorCode;
  readonly issues: readonly ConfigIssue[];
  constructor(code: ConfigErrorCode, issues: ConfigIssue[], options?: { cause?: unknown }) {
    super(
      "invalid configuration:\n" +
        issues
          .map((i) => `  - ${i.key}${i.env ? ` (env ${i.env})` : ""}: ${i.problem}; fix: ${i.fix}`)
          .join("\n"),
      options,
    );
    this.name = "ConfigError";
    this.code = code;
    this.issues = issues;
  }
}
