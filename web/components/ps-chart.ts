import { LitElement, css, html, unsafeCSS } from "lit";
import { customElement, property } from "lit/decorators.js";
import uplotCss from "uplot/dist/uPlot.min.css";
import type { Mark } from "../../src/server/index.ts";
import { UPlotController, type PlotHost } from "../controllers/uplot.ts";
import type { ChartView } from "../model/chart-store.ts";
import type { YFormat } from "../model/format.ts";
import { MARK_COLOR } from "../model/charts.ts";

/** One chart panel: heading, hint, the plot (owned by UPlotController) and a legend. */
@customElement("ps-chart")
export class PsChart extends LitElement implements PlotHost {
  static override styles = [
    unsafeCSS(uplotCss),
    css`
      :host { display: block; background: #fff; border: 1px solid #e3e6eb; border-radius: 8px; padding: 6px 8px 4px; min-width: 0; }
      h3 { margin: 0; font-size: 13px; font-weight: 600; color: #334; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
      .hint { font-size: 11px; color: #667; margin: 0 0 2px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
      .plot { width: 100%; min-height: var(--plot-height, 150px); overflow: hidden; }
      /* At most three lines, then it scrolls: with 150 arms the legend made each panel 806 px tall
         (test/browser/dashboard-many-promotions.test.ts). */
      .legend { display: flex; flex-wrap: wrap; gap: 0 10px; font-size: 11px; color: #334; line-height: 16px; max-height: 48px; overflow-y: auto; }
      .legend i { display: inline-block; width: 10px; height: 3px; vertical-align: middle; margin-right: 4px; }
      .legend i.dot { width: 7px; height: 7px; border-radius: 50%; }
      .legend i.mark { width: 0; height: 9px; border-left: 2px dashed ${unsafeCSS(MARK_COLOR)}; }
    `,
  ];

  @property() heading = "";
  @property() hint = "";
  /** The chart's columns; its `version` says when they changed. */
  @property({ attribute: false }) view: ChartView | null = null;
  @property({ type: Number }) version = 0;
  @property({ attribute: false }) marks: readonly Mark[] = [];
  @property({ type: Number }) plotHeight = 150;
  /** The y axis's unit, when not the chart spec's. */
  @property({ attribute: false }) yFormat: YFormat | null = null;

  private readonly plot = new UPlotController(this);

  plotContainer(): HTMLElement | null {
    return this.renderRoot.querySelector(".plot");
  }

  override render() {
    const series = this.view?.series ?? [];
    const lines = series.filter((s) => !s.band && !s.points);
    const hasDots = series.some((s) => s.points);
    return html`<h3 title=${this.heading}>${this.heading}</h3>
      <p class="hint" title=${this.hint}>${this.hint}</p>
      <div class="plot" style="--plot-height:${this.plotHeight}px"></div>
      <div class="legend">
        ${lines.map((s) => html`<span><i style="background:${s.color}"></i>${s.label}</span>`)}
        ${hasDots ? html`<span><i class="dot" style="background:#889"></i>excluded by a guard</span>` : null}
        ${this.marks.length ? html`<span><i class="mark"></i>operator change</span>` : null}
      </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "ps-chart": PsChart;
  }
}
