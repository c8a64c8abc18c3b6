import { TypeCompiler } from "@sinclair/typebox/compiler";
import { EventSchema, EVENT_TYPES, DecisionSchema, OutcomeSchema, type ShopEvent, type Decision, type OutcomeRecord } from "./schema.ts";
import { PS_ERR_EVENT, type DeadLetterReason } from "./errors.ts";
import { describeIssues, promotionIssues } from "./promotion.ts";

const eventCheck = TypeCompiler.Compile(EventSchema);
/** Each type's own schema, to say where an invalid event of a known type goes wrong (a union's first
 *  error is only "/: Expected union value"). Compiled on first use: only failures need them. */
const checkOfType = new Map<string, ReturnType<typeof TypeCompiler.Compile>>();
function typeCheck(type: string): ReturnType<typeof TypeCompiler.Compile> {
  let c = checkOfType.get(type);
  if (!c) {
    const schema = EventSchema.anyOf.find((s) => (s.properties.type as { const?: unknown }).const === type);
    c = schema ? TypeCompiler.Compile(schema) : eventCheck;
    checkOfType.set(type, c);
  }
  return c;
}
const EVENT_TYPE_SET: ReadonlySet<string> = new Set(EVENT_TYPES);
const decisionCheck = TypeCompiler.Compile(DecisionSchema);
const outcomeCheck = TypeCompiler.Compile(OutcomeSchema);
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: DeadLetterReason; detail: string };

function firstError(check: { Errors(v: unknown): { First(): { path: string; message: string } | undefined } }, value: unknown): string {
  const e = check.Errors(value).First();
  return e ? `${e.path || "/"}: ${e.message}` : "does not match the schema";
}

/** Bytes (those of `data` from `start` to `end`) → a valid event, or the reason it is not one. Never throws. */
export function decodeEvent(data: Uint8Array, maxBytes: number, start = 0, end = data.byteLength): Decoded<ShopEvent> {
  const bytes = end - start;
  if (bytes > maxBytes) return { ok: false, reason: PS_ERR_EVENT.Oversized, detail: `${bytes} bytes > ${maxBytes}` };
  let value: unknown;
  try {
    value = JSON.parse(textOf(data, start, end));
  } catch (err) {
    return { ok: false, reason: PS_ERR_EVENT.NotJson, detail: (err as Error).message.slice(0, 200) };
  }
  return checkEvent(value);
}

const latin1Slice = Buffer.prototype.latin1Slice;

/**
 * The UTF-8 text of data[start, end), as the fatal decoder gives it (it throws on bytes that are not
 * UTF-8). ASCII, as events nearly always are, is the same text in Latin-1: read as such, straight from
 * the bytes, with no view of them to make (issue 24).
 */
function textOf(data: Uint8Array, start: number, end: number): string {
  for (let i = start; i < end; i++) if (data[i]! > 127) return decoder.decode(start === 0 && end === data.byteLength ? data : data.subarray(start, end));
  return latin1Slice.call(data, start, end);
}

/** A parsed JSON value → a valid event, or the reason it is not one (the detail names the field). Never throws. */
export function checkEvent(value: unknown): Decoded<ShopEvent> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return { ok: false, reason: PS_ERR_EVENT.Invalid, detail: "not a JSON object" };
  const type = (value as { type?: unknown }).type;
  if (typeof type !== "string" || !EVENT_TYPE_SET.has(type)) return { ok: false, reason: PS_ERR_EVENT.UnknownType, detail: `type ${JSON.stringify(type)?.slice(0, 64)}` };
  // The type's own schema: the union's other members all require another `type`, so a value passes
  // the union exactly when it passes this one, and the union's check tried them in turn.
  const check = typeCheck(type);
  if (!check.Check(value)) return { ok: false, reason: PS_ERR_EVENT.Invalid, detail: firstError(check, value).slice(0, 300) };
  const ev = value as ShopEvent;
  if (ev.type === "promotion") {
    // The configuration's own rules for a promotion (percent needs percentOff, end after start, …).
    const issues = promotionIssues(ev.promotion);
    if (issues.length) return { ok: false, reason: PS_ERR_EVENT.Invalid, detail: describeIssues(issues).slice(0, 300) };
  }
  return { ok: true, value: ev };
}

export function encodeEvent(e: ShopEvent): Uint8Array {
  return encoder.encode(JSON.stringify(e));
}

// Buffer.from rather than TextEncoder.encode for what the processor publishes: it takes small
// buffers from Node's pooled slab (0.41 against 0.60–1.1 µs for a 770-byte decision, issue #16);
// the bytes are the same (JSON.stringify leaves no lone surrogate to replace).
export function encodeDecision(d: Decision): Uint8Array {
  return Buffer.from(JSON.stringify(d));
}

export function decodeDecision(data: Uint8Array): Decoded<Decision> {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch (err) {
    return { ok: false, reason: PS_ERR_EVENT.NotJson, detail: (err as Error).message };
  }
  if (!decisionCheck.Check(value)) return { ok: false, reason: PS_ERR_EVENT.Invalid, detail: firstError(decisionCheck, value) };
  return { ok: true, value: value as Decision };
}

export function isValidDecision(d: unknown): d is Decision {
  return decisionCheck.Check(d);
}

export function encodeOutcome(o: OutcomeRecord): Uint8Array {
  return Buffer.from(JSON.stringify(o));
}

export function isValidOutcome(o: unknown): o is OutcomeRecord {
  return outcomeCheck.Check(o);
}
