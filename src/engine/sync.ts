// Partitioned processors (issue #8) share what they learned: each partition publishes its own
// posterior counts, and its logistic model's learning beyond the prior, into the others' streams as
// `sync` events; a partition's posteriors are its own plus the sum of the others' latest.
//
// A share grows with promotions × segments (about 1.4 KB a promotion with the default segments), and
// the stream refuses a message over streams.events.maxMsgBytes: past about 45 promotions one event
// could not carry it, and every partition learned alone. A share goes out in parts (syncParts), each
// with the share's small common part (the logistic baseline, its centre and evidence, the apprentice's
// evidence) and some promotions; a partition takes each part's promotions in over what it had from that
// partition, so the parts of one round add up to the whole share.
import { ArmTable, type LogisticShare, type Sums } from "../bandit/index.ts";
import { applyRemoteEvidence } from "./safe.ts";
import type { ShopEvent } from "../events/index.ts";
import type { Engine } from "./state.ts";
import type { SyncArms } from "./types.ts";

/** This engine's own counts in sync form (what a partition shares with the others). */
export function ownArms(e: Engine): SyncArms {
  const out: SyncArms = {};
  // Six significant digits: a count's rounding error stays far below one observation, and the event a
  // third of the size (sync events grow with promotions × cells).
  const r = (v: number) => Number(v.toPrecision(6));
  for (const [id, a] of Object.entries(e.arms.toJSON().arms)) {
    const segs: Record<string, [number, number, number]> = { "": [r(a.global.s), r(a.global.f), a.global.t] };
    for (const [k, c] of Object.entries(a.segments)) segs[k] = [r(c.s), r(c.f), c.t];
    out[id] = segs;
  }
  return out;
}

/** This engine's logistic model's own learning (undefined for the tabular model). */
export function ownLogistic(e: Engine): LogisticShare | undefined {
  return e.logistic?.ownShare();
}

/** This engine's own apprentice evidence (safe start), while it is an apprentice: what partitions add up to graduate together. */
export function ownSafe(e: Engine): { since: string; sums: Sums } | undefined {
  return e.safe.mode === "apprentice" ? { since: e.safe.since, sums: { ...e.safe.evidence } } : undefined;
}

/** What a sync event carries: a partition's share, or a part of it. */
export type SyncShare = Pick<Extract<ShopEvent, { type: "sync" }>, "arms" | "logistic" | "safe">;

/** What a partition shares with the others, whole (src/scale/instance.ts sends it in parts: syncParts). */
export function syncPayload(e: Engine): SyncShare {
  const logistic = ownLogistic(e);
  // An apprentice's evidence (issue 23): the partitions graduate on what they saw together.
  const safe = ownSafe(e);
  return { arms: ownArms(e), ...(logistic ? { logistic } : {}), ...(safe ? { safe } : {}) };
}

const utf8Length = (v: unknown) => Buffer.byteLength(JSON.stringify(v));

/**
 * The share in parts whose JSON is at most `maxBytes` each (leave room for the event's id, type, time
 * and sender): the common part in each, the promotions packed in order of their ids. One part when it
 * fits; a promotion too large alone goes in a part of its own (the stream refuses it: the instance
 * says so).
 */
export function syncParts(share: SyncShare, maxBytes: number): SyncShare[] {
  const { arms, logistic } = share;
  if (utf8Length(share) <= maxBytes) return [share];
  // The common part alone: every part starts as one.
  const emptyPart = (): SyncShare => ({ ...share, arms: {}, ...(logistic ? { logistic: { ...logistic, arms: {} } } : {}) });
  const room = maxBytes - utf8Length(emptyPart());
  const ids = [...new Set([...Object.keys(arms), ...Object.keys(logistic?.arms ?? {})])].sort();
  const parts: SyncShare[] = [];
  let part: SyncShare | undefined;
  let used = 0;
  for (const id of ids) {
    // The promotion's entries with their keys, quotes and commas.
    const size = (arms[id] ? utf8Length(id) + utf8Length(arms[id]) + 2 : 0) + (logistic?.arms[id] ? utf8Length(id) + utf8Length(logistic.arms[id]) + 2 : 0);
    if (!part || used + size > room) {
      part = emptyPart();
      parts.push(part);
      used = 0;
    }
    if (arms[id]) part.arms[id] = arms[id];
    if (logistic?.arms[id]) part.logistic!.arms[id] = logistic.arms[id];
    used += size;
  }
  return parts;
}

/**
 * Another partition's learning arrives, whole or a part of it: its promotions replace what this engine
 * had of them from that partition, its common part replaces the old; posteriors become own + the sum
 * of the others' latest.
 */
export function applySync(e: Engine, from: number, arms: SyncArms, logistic?: LogisticShare, safe?: { since: string; sums: Sums }): void {
  const key = String(from);
  e.remoteArms[key] = { ...e.remoteArms[key], ...arms };
  if (logistic) e.remoteLogistic[key] = { ...logistic, arms: { ...e.remoteLogistic[key]?.arms, ...logistic.arms } };
  if (safe) applyRemoteEvidence(e, from, safe);
  rebuildExternal(e);
}

export function rebuildExternal(e: Engine): void {
  const states = Object.values(e.remoteArms).map((arms) => ({
    arms: Object.fromEntries(
      Object.entries(arms).map(([id, segs]) => {
        const g = segs[""] ?? [0, 0, 0];
        const segments = Object.fromEntries(Object.entries(segs).filter(([k]) => k !== "").map(([k, c]) => [k, { s: c[0], f: c[1], t: c[2] }]));
        return [id, { global: { s: g[0], f: g[1], t: g[2] }, segments }];
      }),
    ),
  }));
  e.arms.external = states.length ? ArmTable.sum(e.arms.opts, states) : undefined;
  e.logistic?.setExternal(Object.values(e.remoteLogistic));
}
