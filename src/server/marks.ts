// Operator changes worth a line on the charts, found by comparing two simulator statuses. The
// simulator does not announce them, so the server notices them from the status it polls and from the
// replies to the commands it relays.
import type { Mark, SimStatusView } from "./protocol.ts";

/**
 * The marks for going from `prev` to `next`. None for the first status seen: a restarted server knows
 * nothing earlier, so the page, which does, marks a first status that differs (web/model/state.ts).
 */
export function marksBetween(prev: Pick<SimStatusView, "scenario" | "seed"> | null, next: Pick<SimStatusView, "scenario" | "seed">, nowMs: number): Mark[] {
  if (!prev) return [];
  const out: Mark[] = [];
  if (next.scenario !== prev.scenario) out.push({ t: nowMs, kind: "scenario", label: next.scenario });
  if (next.seed !== prev.seed) out.push({ t: nowMs, kind: "seed", label: `seed ${next.seed}` });
  return out;
}
