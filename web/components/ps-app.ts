import { LitElement, css, html } from "lit";
import { customElement } from "lit/decorators.js";
import { GridColumnsController } from "../controllers/grid-columns.ts";
import { SocketController } from "../controllers/socket.ts";
import { armRows } from "../model/arms.ts";
import { CHARTS } from "../model/charts.ts";
import { formatValue } from "../model/format.ts";
import { lastItemSpan } from "../model/layout.ts";
import { totalDeadLetters } from "../model/state.ts";
import { connectionView, staleNote } from "../model/status.ts";
import { whatIfRows } from "../model/whatif.ts";
import type { SimCommandEvent } from "./ps-sim-controls.ts";
import "./ps-arms.ts";
import "./ps-chart.ts";
import "./ps-feed.ts";
import "./ps-sim-controls.ts";
import "./ps-whatif.ts";
import "./ps-safe-start.ts";

@customElement("ps-app")
export class PsApp extends LitElement {
  // Laid out for a 1366×768 laptop: three columns of charts, one line of header and of controls.
  static override styles = css`
    :host { display: block; padding: 6px 12px 16px; max-width: 1800px; margin: 0 auto; }
    header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 2px 16px; margin-bottom: 6px; }
    h1 { font-size: 17px; margin: 0; }
    .status { font-size: 12px; padding: 1px 8px; border-radius: 10px; background: #fde8e8; color: #a22; }
    .status.open { background: #e3f6e8; color: #17652f; }
    .problem { font-size: 12px; color: #a22; overflow-wrap: anywhere; }
    .counter { font-size: 12px; font-variant-numeric: tabular-nums; }
    .counter b { font-size: 14px; }
    /* The figures' group takes no box of its own: its counters stay items of the header's row. */
    .figures { display: contents; }
    .figures[data-stale] .counter { color: #889; font-style: italic; }
    .stale-tag { font-size: 11px; padding: 0 6px; border-radius: 8px; background: #fff4dc; color: #7a4b00; }
    .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 400px), 1fr)); gap: 8px; margin-top: 8px; }
    .bottom { display: grid; grid-template-columns: minmax(0, 1fr); gap: 8px; margin-top: 8px; align-items: start; }
    @media (min-width: 1200px) { .bottom { grid-template-columns: minmax(0, 7fr) minmax(0, 5fr); } }
  `;

  private readonly socket = new SocketController(this);
  private readonly grid = new GridColumnsController(this, ".grid");

  private onSim(e: SimCommandEvent): void {
    this.socket.send({ type: "sim", ...e.detail });
  }

  override render() {
    const s = this.socket.state;
    const k = s.kpi;
    const conn = connectionView(this.socket.status, s.fresh, this.socket.silentMs);
    const stale = staleNote(conn, k !== null);
    return html`
      <header>
        <h1>promo-stream</h1>
        <span class="status ${conn.ok ? "open" : ""}" id="conn" data-reconnects=${this.socket.reconnects}>${conn.text}</span>
        ${this.socket.status !== "open" && this.socket.problem ? html`<span class="problem" id="conn-problem">${this.socket.problem}</span>` : null}
        <span class="figures" id="figures" ?data-stale=${stale !== null}>
          ${stale ? html`<span class="stale-tag">${stale}</span>` : null}
          <span class="counter">decisions <b id="decision-count">${k?.decisions ?? 0}</b></span>
          <span class="counter">events <b id="event-count">${k?.eventsIn ?? 0}</b></span>
          <span class="counter">dead letters <b id="deadletter-count">${totalDeadLetters(k)}</b></span>
          <span class="counter">decide p50/p99 <b>${k ? `${formatValue(k.latencyMs.p50, "ms")} / ${formatValue(k.latencyMs.p99, "ms")}` : "–"}</b></span>
          <span class="counter">customers <b>${k?.cache.customers ?? 0}</b></span>
          <span class="counter">consumer lag <b id="consumer-lag">${k?.consumer.lag ?? 0}</b></span>
          ${k?.health.degraded.length ? html`<span class="status">${k.health.degraded.join("; ")}</span>` : null}
        </span>
      </header>
      <ps-sim-controls .sim=${s.sim} .connection=${this.socket.status} .absent=${s.fresh.simAbsent ?? null} .heard=${s.frames > 0} .error=${s.simError} .replies=${s.simReplies} @sim-command=${(e: SimCommandEvent) => this.onSim(e)}></ps-sim-controls>
      <div class="grid">
        ${CHARTS.map((c, i) => {
          const view = this.socket.charts.get(c.id)!;
          // The last chart fills the rest of its row: no empty cell whatever the number of columns.
          const span = i === CHARTS.length - 1 ? lastItemSpan(CHARTS.length, this.grid.columns) : 1;
          return html`<ps-chart id=${c.id} style=${span > 1 ? `grid-column: span ${span}` : ""} heading=${c.heading} hint=${c.hint} .view=${view} .version=${view.version} .marks=${s.marks}></ps-chart>`;
        })}
      </div>
      <div class="bottom">
        <ps-arms .rows=${armRows(k)} .stale=${stale}></ps-arms>
        <ps-feed .decisions=${s.feed} .follow=${s.follow} .followed=${s.followed} .outcomes=${s.outcomes} @follow-customer=${(e: CustomEvent<string>) => this.socket.follow(e.detail)}></ps-feed>
      </div>
      <ps-whatif style="margin-top: 8px" .rows=${whatIfRows(s.whatIf)} .at=${s.whatIf?.at ?? 0}></ps-whatif>
      <ps-safe-start style="margin-top: 8px" .safe=${k?.safe ?? null} .stale=${stale} .view=${this.socket.charts.get("chart-safe")!} .version=${this.socket.charts.get("chart-safe")!.version} .marks=${s.marks} .error=${s.modeError} .pending=${s.modePending} @mode-command=${(e: CustomEvent<{ mode: string }>) => this.socket.send({ type: "mode", mode: e.detail.mode })}></ps-safe-start>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "ps-app": PsApp;
  }
}
