// Pure: history points → one ColumnRing per chart (STYLE.md rule 9). No DOM; the page's controllers
// feed it frames and hand its views to uPlot.
import type { HistoryPoint } from "../../src/kpi/index.ts";
import { colorOf, fade, type ChartSpec, type SeriesDef } from "./charts.ts";
import { ColumnRing, type Column } from "./columns.ts";

/** 10 minutes at the processor's default two snapshots a second. */
export const CHART_CAPACITY = 1200;

export interface ChartView {
  readonly spec: ChartSpec;
  readonly series: readonly SeriesDef[];
  /** uPlot bands: 1-based series indexes (upper, lower) and a fill. */
  readonly bands: readonly [number, number, string][];
  /** Bumped when the series change: the plot must be rebuilt. */
  readonly layout: number;
  /** Bumped on every change: the plot must be fed again. */
  readonly version: number;
  /** [x, ...series]; valid until the next change. */
  data(): Column[];
}

class Chart implements ChartView {
  series: SeriesDef[] = [];
  bands: [number, number, string][] = [];
  layout = 0;
  version = 0;
  readonly arms: string[] = [];
  readonly seen = new Set<string>();
  readonly ring: ColumnRing;

  constructor(
    readonly spec: ChartSpec,
    capacity: number,
  ) {
    this.ring = new ColumnRing(capacity);
    for (const l of spec.lines ?? []) {
      this.series.push({ label: l.label, color: colorOf(l.label, this.series.length), ...(l.dash ? { dash: l.dash } : {}), gaps: l.gaps });
      this.ring.addColumn(l.gaps);
    }
  }

  data(): Column[] {
    return this.ring.view();
  }

  addArm(id: string, color: string): void {
    const part = this.spec.arms!;
    const base = this.series.length;
    const defs = part.series(id, color);
    this.series.push(...defs);
    for (const d of defs) this.ring.addColumn(d.gaps || this.ring.length > 0);
    if (part.band) this.bands.push([base + 1 + part.band[0], base + 1 + part.band[1], fade(color, 0.08)]);
    this.arms.push(id);
    this.layout++;
  }

  push(p: HistoryPoint, prev: HistoryPoint | undefined): void {
    const row: (number | null)[] = (this.spec.lines ?? []).map((l) => l.pick(p));
    for (const id of this.arms) row.push(...this.spec.arms!.values(p.arms[id], prev?.arms[id]));
    this.ring.push(p.t, row);
  }
}

/**
 * Every chart's columns. Points are taken in time order; a point at or before the newest held is a
 * duplicate (a snapshot and the next delta can overlap) and is ignored. Arms get stable colours in
 * order of appearance, the same on every chart.
 */
export class ChartStore {
  private readonly charts = new Map<string, Chart>();
  private readonly colors = new Map<string, string>();
  private prev: HistoryPoint | undefined;
  private lastT = -Infinity;

  constructor(
    specs: readonly ChartSpec[],
    readonly capacity = CHART_CAPACITY,
  ) {
    for (const s of specs) this.charts.set(s.id, new Chart(s, capacity));
  }

  get(id: string): ChartView | undefined {
    return this.charts.get(id);
  }

  get ids(): string[] {
    return [...this.charts.keys()];
  }

  /** Newest point held, or undefined. */
  get lastPoint(): HistoryPoint | undefined {
    return this.prev;
  }

  /**
   * A snapshot's history. When it reaches back as far as what is held, it replaces it (a resync with
   * the same server); when it starts later (a restarted server remembers less), what is held before
   * its first point is kept and the rest replaced, so a reconnect does not blank the charts.
   */
  load(points: readonly HistoryPoint[]): void {
    const first = points[0];
    if (!first) return;
    for (const c of this.charts.values()) {
      const held = c.ring.firstX;
      if (held === undefined || first.t <= held) c.ring.clear();
      else c.ring.truncateFrom(first.t);
      c.version++;
    }
    const anyChart = this.charts.values().next().value as Chart | undefined;
    this.lastT = anyChart?.ring.lastX ?? -Infinity;
    // The point before `first` is gone or was another server's: no exclusion marker for `first`.
    this.prev = undefined;
    this.append(points);
  }

  append(points: readonly HistoryPoint[]): void {
    for (const p of points) {
      if (!(p.t > this.lastT)) continue;
      for (const id of Object.keys(p.arms)) {
        if (!this.colors.has(id)) this.colors.set(id, colorOf(id, [...this.colors.keys()].filter((k) => k !== "control").length));
        for (const c of this.charts.values()) {
          if (!c.spec.arms || c.seen.has(id)) continue;
          c.seen.add(id);
          if (c.spec.arms.include(id, p.arms[id]!)) c.addArm(id, this.colors.get(id)!);
        }
      }
      for (const c of this.charts.values()) {
        c.push(p, this.prev);
        c.version++;
      }
      this.prev = p;
      this.lastT = p.t;
    }
  }
}
