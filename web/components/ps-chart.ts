import { LitElement, css, html, unsafeCSS, type PropertyValues } from "lit";
import uplotCss from "uplot/dist/uPlot.min.css";
import { customElement, property } from "lit/decorators.js";
import uPlot from "uplot";
import { pointCount, type ChartData } from "../model/series.ts";

/**
 * One uPlot chart. The uPlot instance lives with the element: created on first render, resized by a
 * ResizeObserver, fed with setData when `chart` changes, destroyed on disconnect. When the set of
 * series changes (a promotion appears) the plot is rebuilt.
 */
@customElement("ps-chart")
export class PsChart extends LitElement {
  static override styles = [unsafeCSS(uplotCss), css`
    :host { display: block; background: #fff; border: 1px solid #e3e6eb; border-radius: 8px; padding: 8px 10px; min-width: 0; }
    h3 { margin: 0 0 4px; font-size: 13px; font-weight: 600; color: #334; }
    .hint { font-size: 11px; color: #667; margin: 0 0 6px; }
    .plot { width: 100%; min-height: 180px; }
    .legend { display: flex; flex-wrap: wrap; gap: 2px 10px; font-size: 11px; color: #334; margin-top: 2px; }
    .legend i { display: inline-block; width: 10px; height: 3px; vertical-align: middle; margin-right: 4px; }
    .legend i.dot { width: 7px; height: 7px; border-radius: 50%; }
  `];

  @property() heading = "";
  @property() hint = "";
  @property({ attribute: false }) chart: ChartData | null = null;
  @property({ type: Number }) height = 180;
  @property() yFormat: "number" | "percent" | "cents" = "number";

  private plot: uPlot | undefined;
  private signature = "";
  private observer: ResizeObserver | undefined;

  override render() {
    const legend = (this.chart?.series ?? []).filter((s) => !s.band);
    return html`<h3>${this.heading}</h3>${this.hint ? html`<p class="hint">${this.hint}</p>` : null}<div class="plot"></div>
      <div class="legend">${legend.map((s) => html`<span><i class=${s.points ? "dot" : ""} style="background:${s.color}"></i>${s.label}</span>`)}</div>`;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.observer = new ResizeObserver(() => this.plot?.setSize({ width: this.plotWidth(), height: this.height }));
    this.observer.observe(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.observer?.disconnect();
    this.plot?.destroy();
    this.plot = undefined;
    this.signature = "";
  }

  private plotWidth(): number {
    return Math.max(200, (this.renderRoot.querySelector(".plot") as HTMLElement | null)?.clientWidth ?? this.clientWidth - 20);
  }

  private fmt(v: number): string {
    if (this.yFormat === "percent") return `${(v * 100).toFixed(Math.abs(v) >= 0.1 ? 0 : 1)}%`;
    if (this.yFormat === "cents") return `$${(v / 100).toFixed(0)}`;
    return Math.abs(v) >= 1000 ? `${(v / 1000).toFixed(1)}k` : String(Math.round(v * 1000) / 1000);
  }

  protected override updated(changed: PropertyValues): void {
    if (!changed.has("chart") || !this.chart) return;
    const c = this.chart;
    const sig = c.series.map((s) => s.label).join("|");
    const data = c.data as uPlot.AlignedData;
    this.dataset.points = String(pointCount(c));
    if (this.plot && sig === this.signature) {
      this.plot.setData(data);
      return;
    }
    this.plot?.destroy();
    this.signature = sig;
    const host = this.renderRoot.querySelector(".plot") as HTMLElement;
    const opts: uPlot.Options = {
      width: this.plotWidth(),
      height: this.height,
      ms: 1,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [{}, { size: 56, values: (_u, vals) => vals.map((v) => (v == null ? "" : this.fmt(v))) }],
      series: [
        {},
        ...c.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: s.band ? 0.5 : 1.6,
          ...(s.dash ? { dash: s.dash } : {}),
          ...(s.scale ? { scale: s.scale } : {}),
          ...(s.points ? { paths: () => null, points: { show: true, size: 7, fill: s.color } } : { points: { show: false } }),
          spanGaps: false,
        })),
      ],
      bands: c.bands.map(([a, b, fill]) => ({ series: [a, b] as [number, number], fill })),
    };
    this.plot = new uPlot(opts, data, host);
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "ps-chart": PsChart;
  }
}
