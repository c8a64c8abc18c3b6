import { LitElement, css, html } from "lit";
import { customElement, property } from "lit/decorators.js";
import type { LiveSnapshot } from "../../src/kpi/index.ts";
import type { Mark } from "../../src/server/index.ts";
import type { ChartView } from "../model/chart-store.ts";
import { safeView, SAFE_CHART } from "../model/safe.ts";
import "./ps-chart.ts";

export type ModeCommandEvent = CustomEvent<{ mode: string }>;

/**
 * Safe start (issue 23): the policy's mode, who serves, the learner against the shop's rule over time
 * with its interval and the graduation marked, and the button that asks promo.control for a mode
 * change (sent up as a `mode-command` event; the change goes into the log like a graduation).
 */
@customElement("ps-safe-start")
export class PsSafeStart extends LitElement {
  static override styles = css`
    :host { display: grid; grid-template-columns: minmax(0, 5fr) minmax(0, 7fr); gap: 8px; background: #fff; border: 1px solid #e3e6eb; border-radius: 8px; padding: 6px 8px; min-width: 0; }
    @media (max-width: 900px) { :host { grid-template-columns: minmax(0, 1fr); } }
    h3 { margin: 0 0 4px; font-size: 13px; }
    .mode { font-size: 12px; padding: 1px 8px; border-radius: 10px; background: #eef; color: #335; margin-left: 6px; }
    .mode.apprentice { background: #fff4dc; color: #7a4b00; }
    .mode.conservative { background: #e3f6e8; color: #17652f; }
    table { border-collapse: collapse; font-size: 12px; font-variant-numeric: tabular-nums; width: 100%; }
    td { padding: 1px 6px 1px 0; border-bottom: 1px solid #f0f1f3; vertical-align: top; }
    td:first-child { color: #556; white-space: nowrap; }
    /* On a phone the labels wrap too: kept on one line, the longest pushed the table past a 320–375 px window. */
    @media (max-width: 600px) { td:first-child { white-space: normal; } td { overflow-wrap: anywhere; } }
    p { font-size: 11px; color: #556; margin: 4px 0; }
    button { font: inherit; font-size: 12px; padding: 2px 10px; border-radius: 6px; border: 1px solid #c8ccd4; background: #f4f5f7; cursor: pointer; margin-top: 4px; }
    button:disabled { opacity: 0.6; cursor: progress; }
    .err { color: #a33; font-size: 12px; }
    ps-chart { border: none; padding: 0; }
    .empty { align-self: center; justify-self: center; max-width: 36em; font-size: 12px; text-align: center; }
    :host([data-stale]) table { color: #889; font-style: italic; }
    .stale-tag { font-size: 11px; font-weight: normal; padding: 0 6px; border-radius: 8px; background: #fff4dc; color: #7a4b00; margin-left: 6px; }
  `;

  @property({ attribute: false }) safe: LiveSnapshot["safe"] | null = null;
  @property({ attribute: false }) view: ChartView | null = null;
  @property({ type: Number }) version = 0;
  @property({ attribute: false }) marks: readonly Mark[] = [];
  /** promo.control's refusal of the last change asked, if it refused. */
  @property({ attribute: false }) error: string | null = null;
  /** Why the panel's figures are not current (the last report's), or null while they are. */
  @property({ attribute: "data-stale", reflect: true }) stale: string | null = null;
  /** A change asked and not answered yet: the buttons wait for the answer. */
  @property({ type: Boolean }) pending = false;

  private ask(mode: string): void {
    this.dispatchEvent(new CustomEvent("mode-command", { detail: { mode }, bubbles: true, composed: true }));
  }

  override render() {
    const v = safeView(this.safe);
    const tag = this.stale ? html`<span class="stale-tag">${this.stale}</span>` : null;
    if (!v) return html`<h3>Safe start${tag}</h3><p>No policy mode reported yet.</p>`;
    return html`
      <div>
        <h3>Safe start <span class="mode ${v.mode}" id="safe-mode">${v.mode}</span>${tag}</h3>
        <table id="safe-facts">
          ${v.facts.map(([k, x]) => html`<tr><td>${k}</td><td>${x}</td></tr>`)}
        </table>
        ${v.graduated ? html`<p id="safe-graduated">${v.graduated}</p>` : null}
        ${v.actions.map((a) => html`<button id="safe-${a.mode}" ?disabled=${this.pending} @click=${() => this.ask(a.mode)}>${a.label}</button> `)}
        ${this.error ? html`<span class="err" id="safe-error">${this.error}</span>` : null}
      </div>
      ${v.chart
        ? html`<ps-chart id=${SAFE_CHART.id} heading=${v.chartHeading} hint=${v.chartNote} .yFormat=${v.yFormat} .view=${this.view} .version=${this.version} .marks=${this.marks.filter((m) => m.kind === "mode")} .plotHeight=${130}></ps-chart>`
        : html`<p class="empty" id="safe-empty">${v.chartNote}</p>`}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "ps-safe-start": PsSafeStart;
  }
}
