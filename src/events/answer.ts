// What a decide request is answered with (issue 22), and where the processor stores it: one KV entry
// per event sent to be decided (bucket PS_ANSWERS, key = the event id in base64url), written through the
// same publish-and-ack queue as the decision, so a retry under the same event id, on any server, finds
// the same answer, also after the first one timed out, and a replay writes the same one again.
import type { Decision } from "./schema.ts";

/** Why a decide request has no decision. */
export const NO_DECISION = {
  /** The event was stored and read, and is not a decision point (a second view in the visit, …). */
  NotADecisionPoint: "not-a-decision-point",
  /** No answer within decide.timeoutMs; a retry under the same id answers once it is there. */
  Timeout: "timeout",
} as const;

export interface DecideAnswer {
  /** The decision made for the event (`d-<event id>`, as on decisions.<channel>), or null. */
  decision: Decision | null;
  /** Why there is none: not-a-decision-point, timeout, or the reason the event was dead-lettered (late, duplicate, …). */
  reason?: string;
}

/**
 * The KV key of an event's answer. Event ids may hold ':' and '@', which KV keys may not, and a key
 * may not start or end with '.': base64url (letters, digits, '-', '_') holds any id.
 */
export function answerKey(eventId: string): string {
  return Buffer.from(eventId, "utf8").toString("base64url");
}

/** The event id of an answer's key (inverse of answerKey). */
export function eventIdOfAnswerKey(key: string): string {
  return Buffer.from(key, "base64url").toString("utf8");
}

/** The subject a KV put of the answer is published on (`$KV.<bucket>.<key>`), and its msg id. */
export function answerPublish(bucket: string, eventId: string): { subject: string; msgID: string } {
  return { subject: `$KV.${bucket}.${answerKey(eventId)}`, msgID: `a-${eventId}` };
}
