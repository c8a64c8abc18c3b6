import { LitElement, css, html } from "lit";
import { customElement, property, state } from "lit/decorators.js";
import type { Decision } from "../../src/events/index.ts";
import { formatCandidate, formatTimeOfDay } from "../model/format.ts";

const SHOWN = 50;

/** Newest decisions first; click one for its explanation. */
@customElement("ps-feed")
export class PsFeed extends LitElement {
  static override styles = css`
    :host { display: block; background: #fff; border: 1px solid #e3e6eb; border-radius: 8px; padding: 6px 8px; min-width: 0; }
    h3 { margin: 0 0 4px; font-size: 13px; }
    .rows { max-height: 260px; overflow: auto; }
    table { width: 100%; border-collapse: collapse; font-size: 12px; font-variant-numeric: tabular-nums; }
    td, th { text-align: left; padding: 1px 6px; border-bottom: 1px solid #f0f1f3; white-space: nowrap; }
    thead th { position: sticky; top: 0; background: #fff; }
    tbody tr { cursor: pointer; }
    tr.sel { background: #eef3ff; }
    .why { font-size: 12px; margin-top: 6px; background: #fafbfc; border-radius: 6px; padding: 6px 8px; }
    .hold { color: #a60; }
  `;

  @property({ attribute: false }) decisions: Decision[] = [];
  @state() private selected: Decision | undefined;

  override render() {
    const d = this.selected;
    return html`<h3>Live decisions <small>(newest first; click one for its explanation)</small></h3>
      <div class="rows">
        <table>
          <thead><tr><th>time</th><th>customer</th><th>where</th><th>product</th><th>promotion</th><th>propensity</th><th>segment</th></tr></thead>
          <tbody>
            ${this.decisions.slice(0, SHOWN).map(
              (x) => html`<tr class=${d?.id === x.id ? "sel" : ""} @click=${() => (this.selected = x)}>
                <td>${formatTimeOfDay(x.ts)}</td><td>${x.customerId}</td><td>${x.point === "product-view" || x.point === "visit" ? x.point : `${x.point} (${x.channel})`}</td><td>${x.productId ?? "–"}</td>
                <td class=${x.holdout ? "hold" : ""}>${x.promotionId}${x.holdout ? " (holdout)" : ""}${x.reason ? ` (${x.reason})` : ""}</td>
                <td>${x.propensity.toFixed(3)}</td><td>${x.segment}</td></tr>`,
            )}
          </tbody>
        </table>
      </div>
      ${d
        ? html`<div class="why" id="explanation">
            <b>${d.id}</b>: ${d.promotionId} for ${d.customerId} on ${d.channel} at a ${d.point}${d.productId ? ` of ${d.productId}` : ""}, propensity ${d.propensity.toFixed(3)}<br />
            Scores (expected margin: margin if bought × sampled conversion): ${d.explanation.candidates.map(formatCandidate).join(", ") || "none"}<br />
            Excluded: ${d.explanation.excluded.map((e) => `${e.promotionId} (${e.reason})`).join(", ") || "none"}
          </div>`
        : null}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "ps-feed": PsFeed;
  }
}
