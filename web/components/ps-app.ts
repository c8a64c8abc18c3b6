import { LitElement, css, html } from "lit";
import { customElement } from "lit/decorators.js";
import { SocketController } from "../controllers/socket.ts";
import { armIds, budgetBurn, lines, perArm, stockWithMarkers } from "../model/series.ts";
import type { SimCommandEvent } from "./ps-sim-controls.ts";
import "./ps-chart.ts";
import "./ps-feed.ts";
import "./ps-sim-controls.ts";

@customElement("ps-app")
export class PsApp extends LitElement {
  static override styles = css`
    :host { display: block; padding: 12px 16px 24px; max-width: 1500px; margin: 0 auto; }
    header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 8px 20px; margin-bottom: 10px; }
    h1 { font-size: 18px; margin: 0; }
    .status { font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #fde8e8; color: #a22; }
    .status.open { background: #e3f6e8; color: #17652f; }
    .counter { font-size: 13px; font-variant-numeric: tabular-nums; }
    .counter b { font-size: 16px; }
    .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 10px; margin-top: 10px; }
    ps-feed { margin-top: 10px; }
  `;

  private readonly socket = new SocketController(this);

  private onSim(e: SimCommandEvent): void {
    this.socket.send({ type: "sim", ...e.detail });
  }

  override render() {
    const s = this.socket.state;
    const h = s.history;
    const ids = armIds(h);
    const promos = ids.filter((id) => id !== "control");
    const k = s.kpi;
    const dl = k ? Object.values(k.deadLetters).reduce((a, b) => a + b, 0) : 0;
    return html`
      <header>
        <h1>promo-stream</h1>
        <span class="status ${this.socket.status === "open" ? "open" : ""}" id="conn">${this.socket.status === "open" ? "live" : this.socket.status}</span>
        <span class="counter">decisions <b id="decision-count">${k?.decisions ?? 0}</b></span>
        <span class="counter">events <b id="event-count">${k?.eventsIn ?? 0}</b></span>
        <span class="counter">dead letters <b id="deadletter-count">${dl}</b></span>
        <span class="counter">decide p50/p99 <b>${k ? `${k.latencyMs.p50.toFixed(3)} / ${k.latencyMs.p99.toFixed(3)} ms` : "–"}</b></span>
        <span class="counter">customers <b>${k?.cache.customers ?? 0}</b></span>
        ${k?.health.degraded.length ? html`<span class="status">${k.health.degraded.join("; ")}</span>` : null}
      </header>
      <ps-sim-controls .sim=${s.sim} @sim-command=${(e: SimCommandEvent) => this.onSim(e)}></ps-sim-controls>
      <div class="grid">
        <ps-chart id="chart-posterior" heading="Posterior mean of each arm (95% interval)" hint="What the policy believes each promotion earns (reward per decision), all segments together. Bands narrow as evidence accumulates." yFormat="percent"
          .chart=${perArm(h, ids, (a) => a.mean, (a) => [a.lo, a.hi])}></ps-chart>
        <ps-chart id="chart-uplift" heading="Uplift vs holdout control (conversion, 95% interval)" hint="Conversion of each promotion minus that of the random holdout. Above zero: it causes purchases; below: it puts shoppers off." yFormat="percent"
          .chart=${perArm(h, promos, (a) => a.uplift, (a) => [a.upLo, a.upHi])}></ps-chart>
        <ps-chart id="chart-share" heading="Share of decisions" hint="How often the policy picks each arm; the best arms should take over." yFormat="percent"
          .chart=${perArm(h, ids, (a) => a.share)}></ps-chart>
        <ps-chart id="chart-regret" heading="Regret and incremental margin vs the simulator's oracle" hint="Cumulative expected margin lost against the best eligible arm (regret), and incremental margin earned vs what the oracle would earn. Needs the simulator." yFormat="cents"
          .chart=${lines(h, [
            { label: "regret", pick: (p) => p.regret },
            { label: "incremental margin", pick: (p) => p.incMargin },
            { label: "oracle margin", pick: (p) => p.oracleMargin, dash: [4, 4] },
          ])}></ps-chart>
        <ps-chart id="chart-stock" heading="Available stock per product promotion (dots: excluded by a guard)" hint="Units in stock minus units promised to open offers."
          .chart=${stockWithMarkers(h, promos)}></ps-chart>
        <ps-chart id="chart-budget" heading="Budget burn (spent + reserved, share of budget)" hint="At 100% a promotion stops being offered." yFormat="percent"
          .chart=${budgetBurn(h, promos)}></ps-chart>
        <ps-chart id="chart-rate" heading="Decision rate (per second) and dead letters"
          .chart=${lines(h, [
            { label: "decisions/s", pick: (p) => p.decisionRate },
            { label: "dead letters (total)", pick: (p) => p.deadLetters },
          ])}></ps-chart>
        <ps-chart id="chart-latency" heading="Decide latency p50 / p99 (ms, in the processor)"
          .chart=${lines(h, [
            { label: "p50", pick: (p) => p.p50 },
            { label: "p99", pick: (p) => p.p99 },
          ])}></ps-chart>
      </div>
      <ps-feed .decisions=${s.feed}></ps-feed>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "ps-app": PsApp;
  }
}
