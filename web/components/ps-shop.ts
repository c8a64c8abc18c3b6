import { LitElement, css, html, nothing } from "lit";
import { customElement, state } from "lit/decorators.js";
import { ShopController, type OrderState } from "../controllers/shop.ts";
import { formatCents } from "../model/shop.ts";
import type { ShopActionEvent } from "./ps-shop-product.ts";
import "./ps-shop-product.ts";

const ORDER_TEXT: Record<OrderState["status"], string> = { sending: "sending…", accepted: "placed", duplicate: "placed (sent twice, counted once)", rejected: "refused", failed: "no answer: order it again, it counts once" };

/**
 * The shop a person can browse (/shop): the simulator's catalog, where the person is a shopper with an id
 * of their own. Views ask promo-stream for a decision through promo-stream/client; carts and purchases
 * are sent with it. Everything the page does is the ShopController's; this only renders.
 */
@customElement("ps-shop")
export class PsShop extends LitElement {
  static override styles = css`
    :host { display: block; max-width: 1100px; margin: 0 auto; padding: 10px 16px 30px; }
    header { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 18px; padding-bottom: 8px; border-bottom: 1px solid #e3e6eb; margin-bottom: 12px; }
    h1 { font-size: 20px; margin: 0; }
    h1 a { color: inherit; text-decoration: none; }
    .who { font-size: 13px; display: flex; flex-wrap: wrap; align-items: center; gap: 6px; }
    .who code { background: #eef3ff; padding: 1px 6px; border-radius: 6px; }
    input { font: inherit; font-size: 13px; padding: 2px 6px; width: 150px; }
    button { font: inherit; font-size: 13px; padding: 2px 10px; border-radius: 6px; border: 1px solid #c8ccd4; background: #f4f5f7; cursor: pointer; }
    button.primary { background: #1f5fd1; border-color: #1f5fd1; color: #fff; }
    .err { color: #a33; font-size: 13px; }
    .layout { display: grid; grid-template-columns: minmax(0, 1fr) 280px; gap: 14px; align-items: start; }
    @media (max-width: 800px) { .layout { grid-template-columns: minmax(0, 1fr); } }
    .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 10px; }
    .tile { display: block; background: #fff; border: 1px solid #e3e6eb; border-radius: 10px; padding: 10px 12px; color: inherit; text-decoration: none; }
    .tile:hover { border-color: #1f5fd1; }
    .tile .name { font-weight: 600; }
    .tile .cat { font-size: 12px; color: #667; }
    .tile .price { font-size: 16px; font-variant-numeric: tabular-nums; margin-top: 4px; }
    .tile .stock { font-size: 12px; color: #17652f; }
    .tile .stock.out { color: #a33; }
    aside { background: #fff; border: 1px solid #e3e6eb; border-radius: 10px; padding: 10px 12px; font-size: 13px; }
    aside h3 { font-size: 14px; margin: 0 0 6px; }
    aside ul { margin: 0; padding-left: 16px; }
    .small { font-size: 12px; color: #667; }
  `;

  private readonly shop = new ShopController(this);
  @state() private customerError = "";
  @state() private message = "";

  private setCustomer(id: string | null): void {
    this.customerError = this.shop.setCustomer(id) ?? "";
    if (!this.customerError) this.message = "";
  }

  private async onAction(e: ShopActionEvent): Promise<void> {
    const p = this.shop.product(this.shop.productId);
    if (!p) return;
    this.message = "";
    if (e.detail.action === "ask-again") return this.shop.askAgain();
    if (e.detail.action === "add") this.message = await this.shop.addToCart(p, e.detail.useOffer);
    else await this.shop.buyNow(p, e.detail.useOffer);
  }

  private header() {
    const s = this.shop;
    return html`<header>
      <h1><a href="#/">promo-stream shop</a></h1>
      <div class="who">
        You are <code id="customer-id">${s.customerId}</code>
        <input id="customer-input" placeholder="another customer id" @keydown=${(e: KeyboardEvent) => e.key === "Enter" && this.setCustomer((e.target as HTMLInputElement).value)} />
        <button id="customer-set" @click=${() => this.setCustomer(this.renderRoot.querySelector<HTMLInputElement>("#customer-input")!.value)}>Be this customer</button>
        <button id="customer-new" @click=${() => this.setCustomer(null)}>New customer</button>
        ${this.customerError ? html`<span class="err" id="customer-error">${this.customerError}</span>` : nothing}
      </div>
      <div class="who small">
        visit <code id="visit-id" title=${s.sessionId}>${s.sessionId.slice(6, 14)}</code>
        <button id="new-visit" @click=${() => s.newVisit()} title="promo-stream decides at the first product view of each visit">New visit</button>
        <a id="dashboard-link" href=${s.dashboardUrl()} target="_blank">your decisions on the dashboard</a>
      </div>
    </header>`;
  }

  private list() {
    const s = this.shop;
    if (s.catalogError && !s.catalog) return html`<div class="err" id="catalog-error">${s.catalogError}</div>`;
    if (!s.catalog) return html`<div class="small">Loading the catalog…</div>`;
    return html`<div class="grid" id="products">
      ${s.catalog.map(
        (p) => html`<a class="tile" href="#/p/${p.id}" data-product=${p.id}>
          <div class="name">${p.name}</div>
          <div class="cat">${p.category}</div>
          <div class="price">${formatCents(p.priceCents)}</div>
          <div class="stock ${p.stock > 0 ? "" : "out"}">${p.stock > 0 ? `${p.stock} in stock` : "out of stock"}</div>
        </a>`,
      )}
    </div>`;
  }

  private side() {
    const s = this.shop;
    const total = s.cart.reduce((a, l) => a + l.priceCents * l.quantity, 0);
    return html`<aside>
      <h3>Cart</h3>
      ${s.cart.length
        ? html`<ul id="cart">${s.cart.map((l) => html`<li>${l.quantity} × ${s.product(l.productId)?.name ?? l.productId} ${formatCents(l.priceCents * l.quantity)}${l.offer ? html` <span class="small">(offer: ${l.offer.name})</span>` : nothing}</li>`)}</ul>
            <p>${formatCents(total)} before offers <button class="primary" id="checkout" @click=${() => void s.checkout()}>Check out</button></p>
            <div class="small">One offer per order: the one that saves most.</div>`
        : html`<div class="small" id="cart">empty</div>`}
      <h3 style="margin-top: 12px">Your orders</h3>
      ${s.orders.length
        ? html`<ul id="orders">
            ${s.orders.map(
              (o) => html`<li data-status=${o.status} data-decision-id=${o.purchase.decisionId ?? ""}>
                ${formatCents(o.purchase.totalCents)} ${ORDER_TEXT[o.status]}${o.purchase.discountCents ? html`, saved ${formatCents(o.purchase.discountCents)} with ${s.promotions.get(o.purchase.promotionId!)?.name ?? o.purchase.promotionId}` : nothing}
                ${o.detail ? html`<div class="err">${o.detail}</div>` : nothing}
              </li>`,
            )}
          </ul>`
        : html`<div class="small">none yet</div>`}
      <p class="small">Views go to <code>POST /api/decide</code>, carts and purchases to <code>POST /api/events</code>: into the stream <code>EVENTS</code> with the simulated shoppers'.</p>
    </aside>`;
  }

  override render() {
    const s = this.shop;
    const names = new Map([...s.promotions.values()].map((p) => [p.id, p.name]));
    return html`${this.header()}
      <div class="layout">
        <main>
          ${s.productId
            ? html`<ps-shop-product
                .product=${s.product(s.productId)}
                .view=${s.view}
                .offer=${s.offer()}
                .used=${s.offerUsed()}
                .names=${names}
                .shopNowMs=${s.shopNowMs}
                .message=${this.message}
                @shop-action=${(e: ShopActionEvent) => void this.onAction(e)}
              ></ps-shop-product>`
            : this.list()}
        </main>
        ${this.side()}
      </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "ps-shop": PsShop;
  }
}
