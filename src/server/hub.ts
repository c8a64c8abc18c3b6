// Collects what the dashboard shows from the bus: KPI snapshots, decisions, the simulator's truth and
// status. Bounded everywhere: a ring of decisions, a thinned history, an LRU join for regret.
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { LRUCache } from "lru-cache";
import type { Config } from "../config/index.ts";
import { isValidDecision, Subjects, type Decision } from "../events/index.ts";
import { Kvm, type KV } from "@nats-io/kv";
import { History, mergeSnapshots, RegretTracker, toPoint, WHATIF_KEY, type HistoryPoint, type LiveSnapshot, type TruthLike, type WhatIfSummary } from "../kpi/index.ts";
import type { Logger } from "../log/index.ts";
import { marksBetween } from "./marks.ts";
import type { DashboardState, Mark, ServerFrame, SimStatusView } from "./protocol.ts";

const MAX_MARKS = 50;
/** Decision ids remembered so a decision published again after a processor's crash shows once (README, "Reading decisions"). */
const SEEN_DECISIONS = 20_000;
const SIM_MISSES_BEFORE_GONE = 3;
/** How often the last what-if evaluation is looked for (it changes when someone runs one). */
const WHATIF_POLL_MS = 5_000;

export class Hub {
  kpi: LiveSnapshot | null = null;
  kpiAtMs = 0;
  sim: SimStatusView | null = null;
  /** The last status seen, kept while the simulator is silent so that a change across the gap is marked. */
  private lastSim: SimStatusView | null = null;
  private simMisses = 0;
  readonly history: History;
  private feed: Decision[] = [];
  private readonly seenDecisions = new LRUCache<string, true>({ max: SEEN_DECISIONS });
  private newPoints: HistoryPoint[] = [];
  private newDecisions: Decision[] = [];
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
    if (this.feed.length > this.cfg.server.feedSize) this.feed.length = this.cfg.server.feedSize;
    this.newDecisions.unshift(d);
    if (this.newDecisions.length > 50) this.newDecisions.length = 50;
  }

  private async pollSim(): Promise<void> {
    try {
      const r = await this.nc.request(this.subjects.simControl, this.enc.encode('{"cmd":"status"}'), { timeout: 800 });
      this.onSim((r.json<{ status?: SimStatusView }>().status ?? null) as SimStatusView | null);
      this.simMisses = 0;
    } catch {
      // One slow answer from a busy simulator should not make the controls flicker away.
      if (++this.simMisses >= SIM_MISSES_BEFORE_GONE) this.sim = null;
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
   * The shop's current time: in a simulated shop, the simulator's clock from its last status (moved on
   * at its speed while it runs), never behind the newest event the processor has read; else the wall
   * clock. Stamps decide requests sent without `ts`.
   */
  shopNowMs(): number {
    const now = Date.now();
    const s = this.sim;
    if (!s) return now;
    const elapsed = now - this.simAtMs;
    const sim = s.simTimeMs + (s.running && typeof s.speed === "number" ? elapsed * s.speed : 0);
    return Math.max(sim, this.kpi?.eventTimeMs ?? 0);
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
  }

  decisions(limit: number): Decision[] {
    return this.feed.slice(0, Math.max(0, limit));
  }

  state(): DashboardState {
    return { kpi: this.kpi, history: this.history.points, feed: this.feed, sim: this.sim, regret: this.truthSeen ? { ...this.regret.state } : null, marks: this.marks, whatIf: this.whatIf, serverTimeMs: Date.now() };
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
      serverTimeMs: Date.now(),
    };
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
