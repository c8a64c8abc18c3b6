import { LitElement, css, html, nothing } from "lit";
import { customElement, property, state } from "lit/decorators.js";
import type { CatalogItemView } from "../../src/server/index.ts";
import type { ViewState } from "../controllers/shop.ts";
import { formatSimTime } from "../model/format.ts";
import { formatCents, noDecisionText, offerUsable, whyOf, type OfferView } from "../model/shop.ts";

export type ShopActionEvent = CustomEvent<{ action: "add" | "buy" | "ask-again"; useOffer: boolean }>;

/** A product's page: what it is, the decision its view brought (the offer and its why), add to cart and buy. */
@customElement("ps-shop-product")
export class PsShopProduct extends LitElement {
  static override styles = css`
    :host { display: block; }
    .card { background: #fff; border: 1px solid #e3e6eb; border-radius: 10px; padding: 14px 18px; }
    h2 { margin: 0 0 2px; font-size: 20px; }
    .meta { color: #556; font-size: 13px; }
    .price { font-size: 22px; font-weight: 600; margin: 8px 0; font-variant-numeric: tabular-nums; }
    .price s { color: #889; font-weight: 400; font-size: 16px; margin-right: 8px; }
    .offer { border: 2px solid #2a7a3f; background: #f0faf2; border-radius: 10px; padding: 10px 14px; margin: 10px 0; }
    .offer h3 { margin: 0 0 4px; font-size: 15px; color: #17652f; }
    .offer.used { border-color: #99a; background: #f6f7f9; }
    .offer.used h3 { color: #556; }
    .none { background: #f6f7f9; border-radius: 8px; padding: 8px 12px; margin: 10px 0; color: #445; font-size: 13px; }
    .actions { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; margin-top: 10px; }
    button { font: inherit; padding: 6px 16px; border-radius: 8px; border: 1px solid #c8ccd4; background: #f4f5f7; cursor: pointer; }
    button.primary { background: #1f5fd1; border-color: #1f5fd1; color: #fff; }
    button:disabled { opacity: 0.5; cursor: default; }
    .why { margin-top: 14px; font-size: 13px; }
    .why h3 { font-size: 14px; margin: 0 0 4px; }
    /* Four columns do not fit a phone: the table scrolls inside the card, not the page. */
    .scroll { overflow-x: auto; }
    table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
    td, th { text-align: left; padding: 2px 10px 2px 0; border-bottom: 1px solid #f0f1f3; }
    th { font-weight: 600; color: #445; }
    tr.chosen td { font-weight: 600; }
    .small { font-size: 12px; color: #667; }
    .msg { font-size: 13px; color: #17652f; }
    .err { color: #a33; }
  `;

  @property({ attribute: false }) product: CatalogItemView | undefined;
  @property({ attribute: false }) view: ViewState | null = null;
  @property({ attribute: false }) offer: OfferView | null = null;
  /** An order has used the offer already. */
  @property({ type: Boolean }) used = false;
  @property({ attribute: false }) names: ReadonlyMap<string, string> = new Map();
  @property({ type: Number }) shopNowMs = 0;
  @property() message = "";
  @state() private useOffer = true;

  private act(action: ShopActionEvent["detail"]["action"]): void {
    this.dispatchEvent(new CustomEvent("shop-action", { detail: { action, useOffer: this.useOffer && this.offer !== null && !this.used }, bubbles: true, composed: true }));
  }

  private decisionPart() {
    const v = this.view;
    if (!v || v.asking) return html`<div class="none" id="decision-status" data-state="asking">Asking promo-stream for an offer…</div>`;
    if (v.error) return html`<div class="none err" id="decision-status" data-state="error">The decide call failed: ${v.error}</div>`;
    const d = v.answer?.decision;
    if (!d)
      return html`<div class="none" id="decision-status" data-state="no-decision" data-reason=${v.answer?.reason ?? ""}>
        ${noDecisionText(v.answer?.reason)}
        ${v.answer?.reason === "timeout" ? html`<button id="ask-again" @click=${() => this.act("ask-again")}>Ask again</button>` : nothing}
      </div>`;
    const o = this.offer;
    const usable = o !== null && !this.used && offerUsable(o, this.shopNowMs);
    const head = o
      ? html`<div class="offer ${this.used ? "used" : ""}" id="offer" data-promotion=${o.promotionId} data-decision-id=${d.id} data-used=${this.used} data-earlier=${v.earlier === true}>
          <h3>${this.used ? "Used" : "Just for you"}: <span id="offer-name">${o.name}</span></h3>
          <div><span id="offer-terms">${o.terms}</span>${o.quantity > 1 ? ` (${o.quantity} units at ${formatCents(this.product?.priceCents ?? 0)})` : ""}:
            <s>${formatCents(o.listCents)}</s> <b id="offer-price">${formatCents(o.totalCents)}</b>, you save <b id="offer-discount">${formatCents(o.discountCents)}</b>.</div>
          <div class="small">Decision <code>${d.id}</code>${v.earlier ? " (at your first view of it in this visit)" : ""}; ${this.used ? "used in your order: the engine has closed this decision" : usable ? `valid until ${formatSimTime(o.expiresAt)} (shop time, UTC)` : "expired: an order now is at full price"}.</div>
          ${usable
            ? html`<label class="small"><input type="checkbox" id="use-offer" .checked=${this.useOffer} @change=${(e: Event) => (this.useOffer = (e.target as HTMLInputElement).checked)} /> use this offer</label>`
            : nothing}
        </div>`
      : html`<div class="none" id="decision-status" data-state="no-offer" data-decision-id=${d.id}>
          No offer this time: promo-stream chose ${d.promotionId === "control" ? html`no promotion (<b>control</b>${d.holdout ? ", the random holdout that measures uplift" : ""}${d.reason ? `, ${d.reason}` : ""})` : html`<b>${d.promotionId}</b>, which gives nothing on this product`}.
          Decision <code>${d.id}</code>.
        </div>`;
    const why = whyOf(d, this.names);
    return html`${head}
      <div class="why" id="why">
        <h3>Why: ${d.explanation.candidates.length} candidates, scored by margin if bought × sampled conversion</h3>
        <div class="scroll"><table id="why-candidates">
          <thead><tr><th>promotion</th><th>margin if bought</th><th>conversion (sampled)</th><th>score (expected margin)</th></tr></thead>
          <tbody>
            ${why.candidates.map(
              (c) => html`<tr class=${c.chosen ? "chosen" : ""} data-promotion=${c.promotionId}>
                <td>${c.name}${c.chosen ? " ← chosen" : ""}</td>
                <td>${c.marginCents === undefined ? "–" : formatCents(c.marginCents)}</td>
                <td>${c.conversion === undefined ? "–" : c.conversion.toFixed(3)}</td>
                <td>${c.marginCents === undefined ? c.score.toFixed(3) : formatCents(c.score)}</td>
              </tr>`,
            )}
          </tbody>
        </table></div>
        <h3 style="margin-top: 8px">Not offered</h3>
        ${why.excluded.length
          ? html`<ul id="why-excluded">${why.excluded.map((e) => html`<li data-promotion=${e.promotionId} data-reason=${e.reason}>${e.name}: ${e.because} (<code>${e.reason}</code>)</li>`)}</ul>`
          : html`<div class="small" id="why-excluded">none: every promotion was a candidate</div>`}
      </div>`;
  }

  override render() {
    const p = this.product;
    if (!p) return html`<div class="card">This product is not in the catalog. <a href="#/">Back to the shop</a></div>`;
    const o = this.offer;
    const withOffer = o !== null && !this.used && this.useOffer && offerUsable(o, this.shopNowMs);
    const busy = !this.view || this.view.asking;
    return html`<div class="card" id="product" data-product=${p.id}>
      <div class="small"><a href="#/">← all products</a></div>
      <h2 id="product-name">${p.name}</h2>
      <div class="meta">${p.category} · <code>${p.id}</code> · <span id="product-stock">${p.stock > 0 ? `${p.stock} in stock` : "out of stock"}</span></div>
      <div class="price">${withOffer ? html`<s>${formatCents(o.listCents)}</s>${formatCents(o.totalCents)}${o.quantity > 1 ? html` <span class="small">for ${o.quantity}</span>` : nothing}` : formatCents(p.priceCents)}</div>
      ${this.decisionPart()}
      <div class="actions">
        <button id="add-to-cart" ?disabled=${busy || p.stock <= 0} @click=${() => this.act("add")}>Add to cart</button>
        <button id="buy" class="primary" ?disabled=${busy || p.stock <= 0} @click=${() => this.act("buy")}>Buy now${withOffer ? ` with ${o.name}` : ""}</button>
        <span class="msg" id="product-message">${this.message}</span>
      </div>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "ps-shop-product": PsShopProduct;
  }
}
