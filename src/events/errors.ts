/** Why a message was dead-lettered. Stable codes: metrics, logs and the DEADLETTER stream use them. */
export const PS_ERR_EVENT = {
  Oversized: "oversized",
  NotJson: "not-json",
  UnknownType: "unknown-type",
  Invalid: "invalid",
  SubjectMismatch: "subject-mismatch",
  Late: "late",
  FarFuture: "far-future",
  Duplicate: "duplicate",
} as const;
export type DeadLetterReason = (typeof PS_ERR_EVENT)[keyof typeof PS_ERR_EVENT];
