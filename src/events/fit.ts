// A decision as the DECISIONS stream takes it. Its explanation lists every candidate with its score and
// every promotion left out with why: about 80 bytes a promotion, so a shop with several hundred
// promotions makes decisions larger than the stream's message limit (streams.decisions.maxMsgBytes).
// The stream refuses such a message for good, and the processor, which acknowledges an event only once
// everything it decided is stored, would hold every acknowledgement behind it.
import type { Decision } from "./schema.ts";

const bytesOf = (json: string) => Buffer.byteLength(json, "utf8");

/**
 * The decision and its JSON, within `maxBytes`: as it is when it fits (nearly always, and then the
 * same object), else with the explanation shortened, the exclusions first, then the other candidates
 * (the chosen one stays), each list cut at its end and the number left out said
 * (`excludedOmitted`, `candidatesOmitted`). Everything a storefront acts on is kept.
 */
export function fitDecision(d: Decision, maxBytes: number): { decision: Decision; json: string } {
  const json = JSON.stringify(d);
  // ASCII JSON (nearly always) is as many bytes as characters; at most three bytes a character.
  if (json.length * 3 <= maxBytes || bytesOf(json) <= maxBytes) return { decision: d, json };
  const { candidates, excluded } = d.explanation;
  const chosen = candidates.find((c) => c.promotionId === d.promotionId);
  const others = candidates.filter((c) => c !== chosen);
  const build = (nExcluded: number, nOthers: number): Decision => {
    const kept = new Set(others.slice(0, nOthers));
    if (chosen) kept.add(chosen);
    // In their order (the chosen one where it was).
    const explanation: Decision["explanation"] = { candidates: candidates.filter((c) => kept.has(c)), excluded: excluded.slice(0, nExcluded) };
    if (nOthers < others.length) explanation.candidatesOmitted = others.length - nOthers;
    if (nExcluded < excluded.length) explanation.excludedOmitted = excluded.length - nExcluded;
    return { ...d, explanation };
  };
  const fits = (x: Decision) => bytesOf(JSON.stringify(x)) <= maxBytes;
  // The most of a list that fits, by bisection (each try serialises the decision: a few dozen at most).
  const most = (n: number, at: (k: number) => Decision): number => {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (fits(at(mid))) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  let decision: Decision;
  if (fits(build(0, others.length))) decision = build(most(excluded.length, (k) => build(k, others.length)), others.length);
  else decision = build(0, most(others.length, (k) => build(0, k)));
  return { decision, json: JSON.stringify(decision) };
}
