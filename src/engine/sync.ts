// Partitioned processors (issue #8) share what they learned: each partition publishes its own
// posterior counts, and its logistic model's learning beyond the prior, into the others' streams as
// `sync` events; a partition's posteriors are its own plus the sum of the others' latest.
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

/** What a partition shares with the others, as a sync event carries it (src/scale/instance.ts publishes one per other partition). */
export function syncPayload(e: Engine): Pick<Extract<ShopEvent, { type: "sync" }>, "arms" | "logistic" | "safe"> {
  const logistic = ownLogistic(e);
  // An apprentice's evidence (issue 23): the partitions graduate on what they saw together.
  const safe = ownSafe(e);
  return { arms: ownArms(e), ...(logistic ? { logistic } : {}), ...(safe ? { safe } : {}) };
}

/** Another partition's learning arrives: posteriors become own + the sum of the others' latest. */
export function applySync(e: Engine, from: number, arms: SyncArms, logistic?: LogisticShare, safe?: { since: string; sums: Sums }): void {
  e.remoteArms[String(from)] = arms;
  if (logistic) e.remoteLogistic[String(from)] = logistic;
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
