import { LitElement, css, html } from "lit";
import { customElement, property } from "lit/decorators.js";
import type { SimStatusView } from "../../src/server/index.ts";

/** Slider position 0…100 ↔ speed 0.1…100 on a log scale; 101 means "max". */
export function speedFromSlider(pos: number): number | "max" {
  if (pos > 100) return "max";
  return Math.round(Math.pow(10, -1 + (3 * pos) / 100) * 10) / 10;
}
export function sliderFromSpeed(speed: number | "max"): number {
  if (speed === "max") return 101;
  return Math.round(((Math.log10(Math.max(0.1, speed)) + 1) * 100) / 3);
}

export type SimCommandEvent = CustomEvent<{ cmd: string; value?: unknown }>;

@customElement("ps-sim-controls")
export class PsSimControls extends LitElement {
  static override styles = css`
    :host { display: flex; flex-wrap: wrap; align-items: center; gap: 10px 16px; background: #fff; border: 1px solid #e3e6eb; border-radius: 8px; padding: 8px 12px; }
    label { font-size: 12px; color: #445; display: flex; align-items: center; gap: 6px; }
    input[type="range"] { width: 180px; }
    input[type="number"] { width: 90px; }
    button { font: inherit; padding: 3px 10px; border-radius: 6px; border: 1px solid #c8ccd4; background: #f4f5f7; cursor: pointer; }
    .off { color: #a33; font-size: 12px; }
    .stat { font-size: 12px; color: #334; font-variant-numeric: tabular-nums; }
  `;

  @property({ attribute: false }) sim: SimStatusView | null = null;

  private send(cmd: string, value?: unknown): void {
    this.dispatchEvent(new CustomEvent("sim-command", { detail: { cmd, ...(value !== undefined ? { value } : {}) }, bubbles: true, composed: true }));
  }

  override render() {
    const s = this.sim;
    if (!s) return html`<span class="off">Simulator not running (start it with <code>npm run simulator</code>, or <code>npm start</code>).</span>`;
    return html`
      <button id="play" @click=${() => this.send(s.running ? "pause" : "resume")}>${s.running ? "Pause" : "Play"}</button>
      <label>Speed
        <input id="speed" type="range" min="0" max="101" step="1" .value=${String(sliderFromSpeed(s.speed))}
          @change=${(e: Event) => this.send("speed", speedFromSlider(Number((e.target as HTMLInputElement).value)))} />
        <span class="stat" id="speed-value">${s.speed === "max" ? "max" : `${s.speed}×`}</span>
      </label>
      <label>Scenario
        <select id="scenario" @change=${(e: Event) => this.send("scenario", (e.target as HTMLSelectElement).value)}>
          ${s.scenarios.map((n) => html`<option value=${n} ?selected=${n === s.scenario}>${n}</option>`)}
        </select>
      </label>
      <label>Seed
        <input id="seed" type="number" min="0" .value=${String(s.seed)}
          @change=${(e: Event) => this.send("seed", Number((e.target as HTMLInputElement).value))} />
      </label>
      <span class="stat" id="sim-rate">${s.ratePerSec.toFixed(0)} events/s</span>
      <span class="stat">sim time ${new Date(s.simTimeMs).toISOString().slice(0, 16).replace("T", " ")}</span>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "ps-sim-controls": PsSimControls;
  }
}
