// Collects what the dashboard shows from the bus: KPI snapshots, decisions and their outcomes, the
// simulator's truth and status. Bounded everywhere: rings of decisions and outcomes, a thinned history,
// LRU joins for regret and for the outcomes of the feed's decisions.
import { errors as natsErrors, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { LRUCache } from "lru-cache";
import type { Config } from "../config/index.ts";
import { isValidDecision, isValidOutcome, Subjects, type Decision, type OutcomeRecord } from "../events/index.ts";
import { Kvm, type KV } from "@nats-io/kv";
import { History, mergeSnapshots, RegretTracker, toPoint, WHATIF_KEY, type HistoryPoint, type LiveSnapshot, type TruthLike, type WhatIfSummary } from "../kpi/index.ts";
import type { Logger } from "../log/index.ts";
import { marksBetween } from "./marks.ts";
import type { CatalogItemView, DashboardState, Freshness, Mark, OutcomeBrief, ServerFrame, SimAbsence, SimStatusView } from "./protocol.ts";

const MAX_MARKS = 50;
/** Decision ids remembered so a decision published again after a processor's crash shows once (README, "Reading decisions"). */
const SEEN_DECISIONS = 20_000;
/** Outcome ids remembered, for the same reason: the processor republishes outcomes with their decisions. */
const SEEN_OUTCOMES = 20_000;
/**
 * Outcomes remembered by decision id, to join to the feed's decisions: an outcome can reach the hub
 * before its decision does (another subscription's callback), and a web decision closes minutes after it
 * is made, by which time it may have left the feed. A few thousand briefs, about 100 bytes each.
 */
const OUTCOME_BRIEFS = 5_000;
/** Outcome briefs carried by one delta at most (the feed shows 50 rows). */
const MAX_NEW_OUTCOMES = 200;
const SIM_MISSES_BEFORE_GONE = 3;
/** How often the last what-if evaluation is looked for (it changes when someone runs one). */
const WHATIF_POLL_MS = 5_000;

/**
 * Why a status request failed: "no responders" means NATS is up and nobody subscribes to sim.control
 * (the simulator is not running); anything else (a timeout, a closed or reconnecting connection) means
 * no answer came at all, and whether a simulator runs cannot be told.
 */
export function simAbsence(err: unknown): SimAbsence {
  if (err instanceof natsErrors.NoRespondersError) return "not-running";
  if (err instanceof natsErrors.RequestError && err.isNoResponders()) return "not-running";
  return "no-answer";
}

export class Hub {
  kpi: LiveSnapshot | null = null;
  kpiAtMs = 0;
  sim: SimStatusView | null = null;
  /** Why `sim` is null, from the last failed status request. */
  simAbsent: SimAbsence | null = null;
  /** The last status seen, kept while the simulator is silent so that a change across the gap is marked. */
  private lastSim: SimStatusView | null = null;
  private simMisses = 0;
  readonly history: History;
  private feed: Decision[] = [];
  private readonly seenDecisions = new LRUCache<string, true>({ max: SEEN_DECISIONS });
  private newPoints: HistoryPoint[] = [];
  private newDecisions: Decision[] = [];
  /** The ids in `feed`, to tell at once whether an outcome belongs to a decision on show. */
  private readonly feedIds = new Set<string>();
  /** Newest first, bounded like the feed (GET /api/outcomes). */
  private outcomeRing: OutcomeRecord[] = [];
  private readonly seenOutcomes = new LRUCache<string, true>({ max: SEEN_OUTCOMES });
  private readonly briefs = new LRUCache<string, OutcomeBrief>({ max: OUTCOME_BRIEFS });
  private newOutcomes: OutcomeBrief[] = [];
  private marks: Mark[] = [];
  private newMarks: Mark[] = [];
  readonly regret = new RegretTracker();
  private truthSeen = false;
  private readonly subjects: Subjects;
  private readonly subs: Subscription[] = [];
  private simTimer: NodeJS.Timeout | undefined;
  private whatIfTimer: NodeJS.Timeout | undefined;
  /** The last what-if evaluation, and whether the next delta must carry it. */
  whatIf: WhatIfSummary | null = null;
  private whatIfRevision = 0;
  private whatIfChanged = false;
  private kv: KV | undefined;
  private readonly enc = new TextEncoder();

  constructor(
    private readonly nc: NatsConnection,
    private readonly cfg: Readonly<Config>,
    private readonly log: Logger,
  ) {
    this.subjects = new Subjects(cfg.nats.subjectPrefix);
    this.history = new History(600);
  }

  start(): void {
    this.subs.push(
      this.nc.subscribe(this.subjects.kpiSnapshot, {
        callback: (err, m) => {
          if (err) return;
          try {
            this.onKpi(m.json<LiveSnapshot>());
          } catch (e) {
            this.log.warn({ err: (e as Error).message }, "unreadable kpi snapshot");
          }
        },
      }),
      this.nc.subscribe(this.subjects.decisionsAll, {
        callback: (err, m) => {
          if (err) return;
          let d: unknown;
          try {
            d = m.json();
          } catch {
            return;
          }
          if (isValidDecision(d)) this.onDecision(d);
        },
      }),
      this.nc.subscribe(this.subjects.outcomesAll, {
        callback: (err, m) => {
          if (err) return;
          let o: unknown;
          try {
            o = m.json();
          } catch {
            return;
          }
          if (isValidOutcome(o)) this.onOutcome(o);
        },
      }),
      this.nc.subscribe(this.subjects.simTruth, {
        callback: (err, m) => {
          if (err) return;
          try {
            const t = m.json<TruthLike>();
            if (typeof t?.eventId === "string" && t.arms && typeof t.arms === "object") {
              this.truthSeen = true;
              this.regret.onTruth(t);
            }
          } catch {
            /* not ours to judge: the truth subject is informational */
          }
        },
      }),
    );
    this.simTimer = setInterval(() => void this.pollSim(), 1000);
    void this.pollSim();
    this.whatIfTimer = setInterval(() => void this.pollWhatIf(), WHATIF_POLL_MS);
    void this.pollWhatIf();
  }

  /** Reads the last what-if evaluation from the state bucket when it changed (its revision moved). */
  private async pollWhatIf(): Promise<void> {
    try {
      this.kv ??= await new Kvm(this.nc).open(this.cfg.kv.stateBucket);
      const e = await this.kv.get(WHATIF_KEY);
      if (!e || e.operation !== "PUT" || e.revision === this.whatIfRevision) return;
      this.whatIfRevision = e.revision;
      this.whatIf = e.json<WhatIfSummary>();
      this.whatIfChanged = true;
    } catch (err) {
      // The bucket appears with the processor; until then there is nothing to show.
      this.log.debug({ err: (err as Error).message }, "what-if summary not readable");
    }
  }

  /** Partitioned deployments: the newest snapshot of each instance, merged into one view. */
  private readonly bySource = new Map<string, { at: number; snap: LiveSnapshot }>();

  private onKpi(incoming: LiveSnapshot): void {
    const now = Date.now();
    let s = incoming;
    if (incoming.source !== undefined) {
      this.bySource.set(incoming.source, { at: now, snap: incoming });
      for (const [k, v] of this.bySource) if (now - v.at > 5_000) this.bySource.delete(k);
      const sources = [...this.bySource.keys()].sort();
      s = mergeSnapshots(sources.map((k) => this.bySource.get(k)!.snap));
      this.kpi = s;
      this.kpiAtMs = now;
      // One history point per round of snapshots, not one per instance.
      if (incoming.source !== sources[0]) return;
    }
    this.kpi = s;
    this.kpiAtMs = now;
    this.markModeChange(s, now);
    const p = toPoint(s, this.history.last, this.truthSeen ? this.regret.state : null);
    this.history.push(p);
    this.newPoints.push(p);
    if (this.newPoints.length > 100) this.newPoints.shift();
  }

  private onDecision(d: Decision): void {
    if (this.seenDecisions.has(d.id)) return;
    this.seenDecisions.set(d.id, true);
    this.regret.onDecision(d);
    this.feed.unshift(d);
    this.feedIds.add(d.id);
    for (const gone of this.feed.splice(this.cfg.server.feedSize)) this.feedIds.delete(gone.id);
    this.newDecisions.unshift(d);
    if (this.newDecisions.length > 50) this.newDecisions.length = 50;
    // Its outcome came first: send it along, or the row would wait for the next snapshot.
    const b = this.briefs.get(d.id);
    if (b) this.queueOutcome(b);
  }

  private onOutcome(o: OutcomeRecord): void {
    if (this.seenOutcomes.has(o.id)) return;
    this.seenOutcomes.set(o.id, true);
    this.outcomeRing.unshift(o);
    if (this.outcomeRing.length > this.cfg.server.feedSize) this.outcomeRing.length = this.cfg.server.feedSize;
    const b: OutcomeBrief = { decisionId: o.decisionId, closedBy: o.closedBy, closedAt: o.closedAt, revenueCents: o.revenueCents, discountCents: o.discountCents, marginCents: o.marginCents };
    this.briefs.set(o.decisionId, b);
    // Only outcomes of decisions on show travel to the pages: at 100× most close after their decision left the feed.
    if (this.feedIds.has(o.decisionId)) this.queueOutcome(b);
  }

  private queueOutcome(b: OutcomeBrief): void {
    this.newOutcomes.push(b);
    if (this.newOutcomes.length > MAX_NEW_OUTCOMES) this.newOutcomes.shift();
  }

  /** The newest outcomes, newest first (GET /api/outcomes). */
  outcomes(limit: number): OutcomeRecord[] {
    return this.outcomeRing.slice(0, Math.max(0, limit));
  }

  /** The outcomes known for the feed's decisions, newest decision first. */
  private feedOutcomes(): OutcomeBrief[] {
    const out: OutcomeBrief[] = [];
    for (const d of this.feed) {
      const b = this.briefs.get(d.id);
      if (b) out.push(b);
    }
    return out;
  }

  private async pollSim(): Promise<void> {
    try {
      const r = await this.nc.request(this.subjects.simControl, this.enc.encode('{"cmd":"status"}'), { timeout: 800 });
      this.onSim((r.json<{ status?: SimStatusView }>().status ?? null) as SimStatusView | null);
      this.simMisses = 0;
    } catch (err) {
      // One slow answer from a busy simulator should not make the controls flicker away.
      if (++this.simMisses >= SIM_MISSES_BEFORE_GONE) {
        this.sim = null;
        this.simAbsent = simAbsence(err);
      }
    }
  }

  /** The policy's mode changed since the last snapshot (issue 23: a graduation, a person's change): a mark on every chart. */
  private lastMode: string | undefined;
  private markModeChange(s: LiveSnapshot, now: number): void {
    const mode = s.safe?.mode;
    if (mode === undefined) return;
    if (this.lastMode !== undefined && mode !== this.lastMode) {
      const why = s.safe!.changes.at(-1)?.reason;
      const m: Mark = { t: now, kind: "mode", label: why === "graduated" ? `graduated: ${mode}` : `mode: ${mode}` };
      this.marks.push(m);
      this.newMarks.push(m);
      if (this.marks.length > MAX_MARKS) this.marks.splice(0, this.marks.length - MAX_MARKS);
    }
    this.lastMode = mode;
  }

  /** Asks promo.control to change the policy's mode (a `mode` event per partition in the log). */
  async modeRequest(mode: unknown): Promise<unknown> {
    const r = await this.nc.request(this.subjects.promoControl, this.enc.encode(JSON.stringify({ op: "mode", mode })), { timeout: 5000 });
    return r.json();
  }

  /** Relays a control command to the simulator and returns its reply. */
  async simRequest(cmd: unknown): Promise<unknown> {
    const r = await this.nc.request(this.subjects.simControl, this.enc.encode(JSON.stringify(cmd)), { timeout: 2000 });
    const reply = r.json<{ status?: SimStatusView }>();
    if (reply.status) this.onSim(reply.status);
    return reply;
  }

  /**
   * The simulator's catalog, for /shop (GET /api/catalog), or why there is none. The server never imports
   * the simulator: it asks on sim.control like the dashboard's controls do. A real shop has a catalog of its own.
   */
  async catalog(): Promise<{ ok: true; products: CatalogItemView[] } | { ok: false; error: string }> {
    let reply: unknown;
    try {
      reply = await this.simRequest({ cmd: "catalog" });
    } catch (err) {
      return { ok: false, error: `no catalog: no simulator answered on sim.control (${(err as Error).message}); /shop shows the simulator's catalog, a real shop serves its own` };
    }
    const r = reply as { ok?: unknown; error?: unknown; catalog?: unknown } | null;
    if (r?.ok !== true || !Array.isArray(r.catalog)) return { ok: false, error: `no catalog: the simulator did not send one (${typeof r?.error === "string" ? r.error : "it may be older than the catalog command"})` };
    return { ok: true, products: r.catalog.filter(isCatalogItem) };
  }

  /**
   * The shop's current time, which stamps decide requests and events sent without `ts`: in a simulated
   * shop, the simulator's clock from its last status (moved on at its speed while it runs), never
   * behind the newest event the processor has read. Else the wall clock, unless the shop's events run
   * on another clock (a replay of history, a load generator's own time): when the newest event the
   * processor read is further from the wall clock than features.allowedLatenessSec, that event's time,
   * so a stamped event is neither dead-lettered as late nor pushes the processor's clock ahead of
   * the shop's events (which would make them late).
   */
  shopNowMs(): number {
    const now = Date.now();
    // The simulated shop's clock, also while its simulator does not answer (NATS away, say): the wall
    // clock instead stamped events days ahead of the shop's, and three of them moved the engine's clock.
    const s = this.sim ?? this.lastSim;
    const eventTime = this.kpi && now - this.kpiAtMs < 10_000 ? this.kpi.eventTimeMs : undefined;
    if (s) {
      const elapsed = now - this.simAtMs;
      const sim = s.simTimeMs + (s.running && typeof s.speed === "number" ? elapsed * s.speed : 0);
      return Math.max(sim, eventTime ?? 0);
    }
    if (eventTime !== undefined && eventTime > 0 && Math.abs(now - eventTime) > this.cfg.features.allowedLatenessSec * 1000) return eventTime;
    return now;
  }
  private simAtMs = 0;

  private onSim(status: SimStatusView | null): void {
    if (status) this.simAtMs = Date.now();
    if (status) {
      for (const m of marksBetween(this.lastSim, status, Date.now())) {
        this.marks.push(m);
        this.newMarks.push(m);
      }
      if (this.marks.length > MAX_MARKS) this.marks.splice(0, this.marks.length - MAX_MARKS);
      if (this.newMarks.length > MAX_MARKS) this.newMarks.splice(0, this.newMarks.length - MAX_MARKS);
      this.lastSim = status;
    }
    this.sim = status;
    if (status) this.simAbsent = null;
  }

  /** How fresh the processor's figures are, and why there is no simulator status, as of now. */
  freshness(): Freshness {
    return { kpiAgeMs: this.kpi ? Math.max(0, Date.now() - this.kpiAtMs) : null, kpiEveryMs: this.cfg.processor.snapshotEveryMs, frameEveryMs: this.cfg.server.deltaEveryMs, simAbsent: this.sim ? null : this.simAbsent };
  }

  decisions(limit: number): Decision[] {
    return this.feed.slice(0, Math.max(0, limit));
  }

  state(): DashboardState {
    return {
      kpi: this.kpi,
      history: this.history.points,
      feed: this.feed,
      sim: this.sim,
      regret: this.truthSeen ? { ...this.regret.state } : null,
      marks: this.marks,
      whatIf: this.whatIf,
      outcomes: this.feedOutcomes(),
      ...this.freshness(),
      serverTimeMs: Date.now(),
    };
  }

  snapshotFrame(): string {
    return JSON.stringify({ type: "snapshot", state: this.state() } satisfies ServerFrame);
  }

  /** What changed since the last call. */
  deltaFrame(): string {
    const f: ServerFrame = {
      type: "delta",
      kpi: this.kpi,
      points: this.newPoints,
      decisions: this.newDecisions,
      sim: this.sim,
      regret: this.truthSeen ? { ...this.regret.state } : null,
      marks: this.newMarks,
      ...(this.whatIfChanged && this.whatIf ? { whatIf: this.whatIf } : {}),
      outcomes: this.newOutcomes,
      ...this.freshness(),
      serverTimeMs: Date.now(),
    };
    this.newOutcomes = [];
    this.whatIfChanged = false;
    this.newPoints = [];
    this.newDecisions = [];
    this.newMarks = [];
    return JSON.stringify(f);
  }

  stop(): void {
    if (this.simTimer) clearInterval(this.simTimer);
    if (this.whatIfTimer) clearInterval(this.whatIfTimer);
    for (const s of this.subs) s.unsubscribe();
  }
}

/** A catalog entry the shop can show: anything else in a reply is left out. */
function isCatalogItem(x: unknown): x is CatalogItemView {
  const p = x as Partial<CatalogItemView> | null;
  return (
    typeof p === "object" && p !== null && typeof p.id === "string" && typeof p.name === "string" && typeof p.category === "string" &&
    Number.isInteger(p.priceCents) && (p.priceCents as number) >= 0 && Number.isInteger(p.stock) && (p.stock as number) >= 0
  );
}
