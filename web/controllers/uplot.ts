import type { ReactiveController, ReactiveControllerHost } from "lit";
import uPlot from "uplot";
import type { Mark } from "../../src/server/index.ts";
import type { ChartView } from "../model/chart-store.ts";
import { MARK_COLOR } from "../model/charts.ts";
import { countValues } from "../model/columns.ts";
import { axisWidth, formatClock, formatTicks, type YFormat } from "../model/format.ts";
import { placeMarkLabels } from "../model/mark-labels.ts";
import { cancelFrame, inFrame } from "./frames.ts";

/** Rows of mark labels at most, below the plot's top. */
const MARK_LABEL_ROWS = 3;

/** What a chart element offers the controller. */
export interface PlotHost extends ReactiveControllerHost, HTMLElement {
  readonly view: ChartView | null;
  readonly marks: readonly Mark[];
  readonly plotHeight: number;
  /** The y axis's unit when not the spec's (the safe-start chart's follows the objective, bandit.reward). */
  readonly yFormat?: YFormat | null | undefined;
  /** The element uPlot draws into, once rendered. */
  plotContainer(): HTMLElement | null;
}

/**
 * One uPlot instance, tied to its host's lifecycle (STYLE.md rule 10): built on the first frame with
 * data, fed with setData at most once per animation frame however many updates arrived (rule 9; the
 * frames come from a queue shared by all charts, ./frames.ts), rebuilt when the series change, resized
 * with its container, destroyed in hostDisconnected. It draws the operator's marks (scenario switches)
 * as labelled vertical lines, and leaves on the host what tests and people can check: `data-points`
 * (values plotted), `data-first-x`/`data-last-x` (time span), `data-marks` (marks drawn) and
 * `data-mark-labels` (those whose label found room).
 */
export class UPlotController implements ReactiveController {
  private plot: uPlot | undefined;
  private layout = -1;
  private version = -1;
  private format: YFormat | undefined;
  private marks: readonly Mark[] = [];
  private readonly job = () => this.flush();
  private observer: ResizeObserver | undefined;
  private width = 0;

  constructor(private readonly host: PlotHost) {
    host.addController(this);
  }

  hostConnected(): void {
    this.observer = new ResizeObserver(() => this.resize());
    this.observer.observe(this.host);
  }

  hostDisconnected(): void {
    this.observer?.disconnect();
    this.observer = undefined;
    cancelFrame(this.job);
    this.plot?.destroy();
    this.plot = undefined;
    this.layout = this.version = -1;
  }

  hostUpdated(): void {
    const v = this.host.view;
    if (!v) return;
    if (v.version !== this.version || v.layout !== this.layout || this.host.marks !== this.marks || this.formatOf(v) !== this.format) this.schedule();
  }

  private schedule(): void {
    inFrame(this.job);
  }

  private flush(): void {
    const v = this.host.view;
    const el = this.host.plotContainer();
    if (!v || !el) return;
    const marksChanged = this.host.marks !== this.marks;
    this.marks = this.host.marks;
    const format = this.formatOf(v);
    if (v.version !== this.version || v.layout !== this.layout || !this.plot || format !== this.format) {
      const cols = v.data();
      const data = cols as unknown as uPlot.AlignedData;
      if (!this.plot || v.layout !== this.layout || format !== this.format) {
        this.format = format;
        this.plot?.destroy();
        this.width = this.containerWidth(el);
        this.plot = new uPlot(this.options(v), data, el);
      } else {
        // batch(): draw now rather than in uPlot's microtask, so the frame queue's budget sees the cost.
        const plot = this.plot;
        plot.batch(() => plot.setData(data));
      }
      this.layout = v.layout;
      this.version = v.version;
      this.host.dataset.points = String(countValues(cols));
      const x = cols[0]!;
      this.host.dataset.firstX = x.length ? String(x[0]) : "";
      this.host.dataset.lastX = x.length ? String(x[x.length - 1]) : "";
    } else if (marksChanged) this.plot.redraw(false);
  }

  private containerWidth(el: HTMLElement): number {
    return Math.max(160, Math.floor(el.clientWidth));
  }

  private resize(): void {
    const el = this.host.plotContainer();
    if (!this.plot || !el) return;
    const w = this.containerWidth(el);
    if (w === this.width) return;
    this.width = w;
    this.plot.setSize({ width: w, height: this.host.plotHeight });
  }

  private formatOf(v: ChartView): YFormat {
    return this.host.yFormat ?? v.spec.yFormat;
  }

  private options(v: ChartView): uPlot.Options {
    const f = this.formatOf(v);
    return {
      width: this.width,
      height: this.host.plotHeight,
      ms: 1,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [
        { space: 70, values: (_u, splits) => splits.map((t) => formatClock(t)) },
        { space: 24, size: (_u, labels) => axisWidth(labels), values: (_u, splits) => formatTicks(splits, f) },
      ],
      series: [
        {},
        ...v.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: s.band ? 0.5 : 1.6,
          ...(s.dash ? { dash: s.dash } : {}),
          ...(s.points ? { paths: () => null, points: { show: true, size: 5, fill: s.color } } : { points: { show: false } }),
          spanGaps: false,
        })),
      ],
      bands: v.bands.map(([a, b, fill]) => ({ series: [a, b] as [number, number], fill })),
      hooks: { draw: [(u: uPlot) => this.drawMarks(u)] },
    };
  }

  private drawMarks(u: uPlot): void {
    const min = u.scales.x!.min;
    const max = u.scales.x!.max;
    const drawn: string[] = [];
    const labelled: string[] = [];
    if (min != null && max != null) {
      const { left, top, width, height } = u.bbox;
      const px = devicePixelRatio || 1;
      const ctx = u.ctx;
      ctx.save();
      ctx.strokeStyle = MARK_COLOR;
      ctx.fillStyle = MARK_COLOR;
      ctx.lineWidth = 1.5 * px;
      ctx.setLineDash([4 * px, 3 * px]);
      ctx.font = `${10 * px}px system-ui, sans-serif`;
      const shown: { m: Mark; x: number; width: number }[] = [];
      for (const m of this.marks) {
        if (m.t < min || m.t > max) continue;
        const x = Math.round(u.valToPos(m.t, "x", true));
        if (x < left || x > left + width) continue;
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x, top + height);
        ctx.stroke();
        shown.push({ m, x, width: ctx.measureText(m.label).width });
        drawn.push(m.label);
      }
      // Labels of marks close together are staggered down the plot, or left out (model/mark-labels.ts).
      const rowPx = 11 * px;
      const places = placeMarkLabels(shown, { left, width, rows: Math.max(1, Math.min(MARK_LABEL_ROWS, Math.floor(height / rowPx))), pad: 3 * px, gap: 4 * px });
      places.forEach((p, i) => {
        if (!p) return;
        ctx.textAlign = p.align;
        ctx.fillText(shown[i]!.m.label, p.textX, top + 10 * px + p.row * rowPx);
        labelled.push(shown[i]!.m.label);
      });
      ctx.restore();
    }
    this.host.dataset.marks = drawn.join(",");
    this.host.dataset.markLabels = labelled.join(",");
  }
}
