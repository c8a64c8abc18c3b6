import { LitElement, css, html } from "lit";
import { customElement, property } from "lit/decorators.js";
import type { ArmRow } from "../model/arms.ts";

/** Each arm now: what the policy believes, what it converts, its uplift and verdict, stock and budget. */
@customElement("ps-arms")
export class PsArms extends LitElement {
  static override styles = css`
    :host { display: block; background: #fff; border: 1px solid #e3e6eb; border-radius: 8px; padding: 6px 8px; min-width: 0; overflow-x: auto; }
    h3 { margin: 0 0 4px; font-size: 13px; }
    table { width: 100%; border-collapse: collapse; font-size: 11.5px; font-variant-numeric: tabular-nums; }
    td, th { text-align: left; padding: 1px 4px; border-bottom: 1px solid #f0f1f3; white-space: nowrap; }
    tr.leader td:first-child { font-weight: 600; }
    .helps { color: #17652f; }
    .hurts { color: #a22; }
    .unproven, .no-data, .baseline { color: #667; }
    .over { color: #a22; cursor: help; }
    :host([data-stale]) table { color: #889; font-style: italic; }
    .stale-tag { font-size: 11px; font-weight: normal; padding: 0 6px; border-radius: 8px; background: #fff4dc; color: #7a4b00; }
  `;

  @property({ attribute: false }) rows: ArmRow[] = [];
  /** Why the rows are not current (the last report's), or null while they are: marked on the host and in the heading. */
  @property({ attribute: "data-stale", reflect: true }) stale: string | null = null;

  override render() {
    return html`<h3>Arms now <small>(95% intervals; bold: highest posterior mean among arms with closed decisions)</small>${this.stale ? html` <span class="stale-tag">${this.stale}</span>` : null}</h3>
      <table>
        <thead><tr><th>arm</th><th>posterior</th><th>conversion</th><th>uplift vs holdout</th><th></th><th>share</th><th title="decisions closed with an outcome">closed</th><th>stock</th><th>budget</th><th title="decision points where a guard excluded it">excl.</th></tr></thead>
        <tbody>
          ${this.rows.map(
            (r) => html`<tr class=${r.leader ? "leader" : ""} title=${r.name}>
              <td>${r.id}</td><td>${r.posterior}</td><td>${r.conversion}</td><td>${r.uplift}</td>
              <td class=${r.verdict.replace(" ", "-")} title=${r.verdictNote}>${r.verdict}</td><td>${r.share}</td><td>${r.trials}</td>
              <td class=${r.stockNote ? "over" : ""} title=${r.stockNote || "units in stock not promised to open offers"}>${r.stock}</td><td>${r.budget}</td><td>${r.excluded}</td></tr>`,
          )}
        </tbody>
      </table>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "ps-arms": PsArms;
  }
}
