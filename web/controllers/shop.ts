import type { ReactiveController, ReactiveControllerHost } from "lit";
import { PromoStreamClient, type DecideAnswer, type Decision, type ShopEventInput } from "promo-stream/client";
import type { CatalogItemView } from "../../src/server/index.ts";
import {
  addToCart,
  customerIdProblem,
  eventTimeMs,
  newCustomerId,
  offerFor,
  purchaseOf,
  readVisitMemory,
  writeVisitMemory,
  type CartLine,
  type OfferView,
  type PromotionInfo,
  type PurchaseFields,
} from "../model/shop.ts";

const CUSTOMER_KEY = "promo-stream.shop.customerId";
const VISIT_KEY = "promo-stream.shop.sessionId";
/** The visit's decisions and the offers used, kept with the visit (sessionStorage): a reload is the same visit. */
const VISIT_MEMORY_KEY = "promo-stream.shop.visit";
/**
 * decide()'s deadline on this page. A storefront rendering server-side keeps the client's 250 ms; a person
 * clicking can wait a little longer, and a page on a busy laptop (the browser test shares two cores with
 * the whole system) should not lose its offer to a hiccup. On a timeout the page can ask again under the
 * same event id.
 */
const DECIDE_DEADLINE_MS = 1_000;

/** The view sent for the product on show, and what promo-stream answered. */
export interface ViewState {
  productId: string;
  /** The view event's id: asking again sends the same event, and gets the same decision. */
  eventId: string;
  asking: boolean;
  answer: DecideAnswer | null;
  /** Why the call failed (the server refused it, or no token). */
  error: string | null;
  /** The decision shown was made at an earlier view of the product in this visit (this view was no decision point). */
  earlier?: boolean;
}

export interface OrderState {
  id: string;
  purchase: PurchaseFields;
  status: "sending" | "accepted" | "duplicate" | "rejected" | "failed";
  detail?: string;
}

/**
 * The shop page's resources: the promo-stream client (decide for views, send for carts and purchases),
 * the catalog, the promotions' names and the shop's clock from the server, the person's customer id
 * (localStorage: the same shopper next time) and visit (sessionStorage: a tab is a visit, until the
 * person starts a new one), and the route in the URL's hash. Pricing and the events' fields are
 * web/model/shop.ts's.
 */
export class ShopController implements ReactiveController {
  customerId = "";
  sessionId = "";
  catalog: CatalogItemView[] | null = null;
  catalogError: string | null = null;
  promotions = new Map<string, PromotionInfo>();
  /** The product on show (from `#/p/<id>`), or null for the list. */
  productId: string | null = null;
  view: ViewState | null = null;
  cart: CartLine[] = [];
  orders: OrderState[] = [];
  /** The decisions made in this visit, by product: back on a product, its offer is still there. */
  private readonly visitDecisions = new Map<string, Decision>();
  /** The last order that got no answer (status failed), by its lines: ordered again, it keeps its id. */
  private unanswered: { key: string; id: string } | null = null;
  /** Decisions whose offer an order has used: the page offers them no more. */
  readonly redeemed = new Set<string>();
  /** The shop's time as the server last said (ms), for whether an offer is still valid. */
  shopNowMs = 0;
  readonly token: string | null;
  private readonly client: PromoStreamClient;

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
    // The page's own ?token= (API_TOKEN) goes to every call: the client's, and the page's GETs.
    this.token = new URLSearchParams(location.search).get("token");
    this.client = new PromoStreamClient({ baseUrl: `${location.origin}/`, ...(this.token ? { token: this.token } : {}) });
  }

  hostConnected(): void {
    const stored = localStorage.getItem(CUSTOMER_KEY);
    this.customerId = stored !== null && customerIdProblem(stored) === null ? stored : this.freshCustomer();
    this.sessionId = sessionStorage.getItem(VISIT_KEY) ?? this.freshVisit();
    // A reload is the same visit: the engine will not decide again on its products, so the offers it
    // made (and which of them an order used) come back from the visit's memory.
    const memory = readVisitMemory(sessionStorage.getItem(VISIT_MEMORY_KEY), this.sessionId);
    for (const [productId, d] of memory.decisions) this.visitDecisions.set(productId, d);
    for (const id of memory.redeemed) this.redeemed.add(id);
    addEventListener("hashchange", this.onRoute);
    addEventListener("storage", this.onStorage);
    void this.loadCatalog();
    void this.loadPromotions();
    // The clock is read again before each event sent; a failure here (no token) shows with the catalog's.
    void this.tick().catch(() => undefined);
    this.onRoute();
  }

  hostDisconnected(): void {
    removeEventListener("hashchange", this.onRoute);
    removeEventListener("storage", this.onStorage);
  }

  private freshCustomer(): string {
    const id = newCustomerId(crypto.getRandomValues(new Uint8Array(8)));
    localStorage.setItem(CUSTOMER_KEY, id);
    return id;
  }

  private saveVisit(): void {
    sessionStorage.setItem(VISIT_MEMORY_KEY, writeVisitMemory(this.sessionId, this.visitDecisions, this.redeemed));
  }

  private freshVisit(): string {
    const id = `visit-${crypto.randomUUID()}`;
    sessionStorage.setItem(VISIT_KEY, id);
    return id;
  }

  /**
   * Another tab became another customer (localStorage is shared by the shop's tabs): this one follows,
   * with a visit of its own, rather than go on sending events as the customer the browser left.
   */
  private readonly onStorage = (e: StorageEvent) => {
    if (e.key !== CUSTOMER_KEY || e.newValue === null || e.newValue === this.customerId || customerIdProblem(e.newValue) !== null) return;
    this.customerId = e.newValue;
    this.cart = [];
    this.orders = [];
    this.newVisit();
  };

  private readonly onRoute = () => {
    const m = /^#\/p\/([A-Za-z0-9._-]+)$/.exec(location.hash);
    const next = m ? m[1]! : null;
    if (next === this.productId) return;
    this.productId = next;
    this.view = null;
    this.host.requestUpdate();
    if (next) void this.viewProduct(next);
    else void this.loadCatalog();
  };

  product(id: string | null): CatalogItemView | undefined {
    return id === null ? undefined : this.catalog?.find((p) => p.id === id);
  }

  /** The offer on show, if the decision made one for this product. */
  offer(): OfferView | null {
    const v = this.view;
    const p = this.product(this.productId);
    if (!v || !p || !v.answer?.decision) return null;
    return offerFor(v.answer.decision, p, this.promotions.get(v.answer.decision.promotionId));
  }

  /** Whether an order has used the offer on show: it is not offered again (the engine has closed its decision). */
  offerUsed(): boolean {
    const o = this.offer();
    return o !== null && this.redeemed.has(o.decisionId);
  }

  /** The offer on show, when the person may still take it. */
  private takeable(): OfferView | null {
    return this.offerUsed() ? null : this.offer();
  }

  /** Another shopper: a new id (given, or made up), a new visit, an empty cart. Returns why not, if not. */
  setCustomer(id: string | null): string | null {
    const next = id ?? newCustomerId(crypto.getRandomValues(new Uint8Array(8)));
    const problem = customerIdProblem(next);
    if (problem) return problem;
    this.customerId = next;
    localStorage.setItem(CUSTOMER_KEY, next);
    this.cart = [];
    this.orders = [];
    this.newVisit();
    return null;
  }

  /** A new visit: the engine's decision points count per visit (the first product view of each, by default). */
  newVisit(): void {
    this.sessionId = this.freshVisit();
    this.visitDecisions.clear();
    this.saveVisit();
    this.view = null;
    if (this.productId) void this.viewProduct(this.productId);
    this.host.requestUpdate();
  }

  private async get<T>(path: string): Promise<T> {
    const r = await fetch(new URL(path, location.origin), { headers: this.token ? { authorization: `Bearer ${this.token}` } : {} });
    const body = (await r.json().catch(() => ({}))) as T & { error?: string };
    if (r.status === 401) throw new Error(`${body.error ?? "HTTP 401"}: this server has an API_TOKEN; open the shop as /shop?token=<API_TOKEN>`);
    if (!r.ok) throw new Error(body.error ?? `HTTP ${r.status}`);
    return body;
  }

  async loadCatalog(): Promise<void> {
    try {
      this.catalog = (await this.get<{ products: CatalogItemView[] }>("/api/catalog")).products;
      this.catalogError = null;
    } catch (err) {
      this.catalogError = (err as Error).message;
    }
    this.host.requestUpdate();
    // Opened straight on a product's address: its view waited for the catalog (category and price).
    if (this.productId && !this.view) void this.viewProduct(this.productId);
  }

  private async loadPromotions(): Promise<void> {
    try {
      const r = await this.get<{ configured: PromotionInfo[] }>("/api/promotions");
      this.promotions = new Map(r.configured.map((p) => [p.id, { id: p.id, name: p.name, bundleQuantity: p.bundleQuantity }]));
      this.host.requestUpdate();
    } catch {
      // Names are a nicety: without them the page shows promotion ids.
    }
  }

  /** The shop's time now (GET /api/clock), kept for the page. */
  private async tick(): Promise<number> {
    this.shopNowMs = (await this.get<{ nowMs: number }>("/api/clock")).nowMs;
    return this.shopNowMs;
  }

  /** A view of the product through decide(): its decision point, if it is one, answers with a decision. */
  private async viewProduct(productId: string): Promise<void> {
    const p = this.product(productId);
    if (!p) return; // the catalog is not there yet: loadCatalog views it when it is
    await this.decide({ productId, eventId: `shop-${crypto.randomUUID()}`, asking: true, answer: null, error: null }, p);
  }

  /** Asks again for the view on show, under the same event id (after a timeout: the decision may be there now). */
  async askAgain(): Promise<void> {
    const v = this.view;
    const p = this.product(v?.productId ?? null);
    if (v && p) await this.decide({ ...v, asking: true, error: null }, p);
  }

  private async decide(v: ViewState, p: CatalogItemView): Promise<void> {
    this.view = v;
    this.host.requestUpdate();
    // No ts: the server stamps the shop's time (in a simulated shop, the simulator's clock).
    const event = { type: "view" as const, id: v.eventId, customerId: this.customerId, sessionId: this.sessionId, productId: p.id, category: p.category, priceCents: p.priceCents };
    let next: ViewState;
    try {
      const answer = await this.client.decide(event, { deadlineMs: DECIDE_DEADLINE_MS });
      const before = this.visitDecisions.get(p.id);
      if (answer.decision) {
        this.visitDecisions.set(p.id, answer.decision);
        this.saveVisit();
      }
      // The view is sent (it is the shopper's behaviour either way), but the visit's decision for this
      // product stands: the engine decides once per product in a visit, and its offer is still valid.
      next = !answer.decision && answer.reason === "not-a-decision-point" && before ? { ...v, asking: false, answer: { decision: before }, earlier: true } : { ...v, asking: false, answer };
    } catch (err) {
      next = { ...v, asking: false, error: (err as Error).message };
    }
    if (this.view?.eventId !== v.eventId) return; // the person has moved on
    this.view = next;
    void this.tick().then(() => this.host.requestUpdate(), () => undefined);
    this.host.requestUpdate();
  }

  /** Sends the shop's own events, stamped with the shop's clock (never before `notBeforeMs`). */
  private async send(events: ShopEventInput[], notBeforeMs = 0): Promise<{ status: OrderState["status"]; detail?: string }> {
    try {
      const ts = eventTimeMs(await this.tick(), notBeforeMs);
      const r = await this.client.send(events.map((e) => ({ ...e, ts })));
      const bad = r.results.find((x) => x.status === "rejected");
      return bad ? { status: "rejected", detail: [bad.reason, bad.detail].filter(Boolean).join(": ") } : { status: r.results[0]?.status ?? "accepted" };
    } catch (err) {
      return { status: "failed", detail: (err as Error).message };
    }
  }

  /** Puts units in the cart (a cart event); with the offer, the offer's units (a bundle's two). */
  async addToCart(p: CatalogItemView, useOffer: boolean): Promise<string> {
    const offer = useOffer ? this.takeable() : null;
    const quantity = offer?.quantity ?? 1;
    const r = await this.send([{ type: "cart", customerId: this.customerId, sessionId: this.sessionId, productId: p.id, category: p.category, quantity, priceCents: p.priceCents }]);
    if (r.status === "accepted" || r.status === "duplicate") this.cart = addToCart(this.cart, { productId: p.id, category: p.category, priceCents: p.priceCents, quantity, offer: offer ?? undefined });
    this.host.requestUpdate();
    return r.status === "accepted" || r.status === "duplicate" ? `Added ${quantity} to the cart${offer ? `, with ${offer.name}` : ""}.` : `Not added: ${r.detail ?? r.status}`;
  }

  /** Buys this product now (not the cart): the offer's units with the offer, else one. */
  async buyNow(p: CatalogItemView, useOffer: boolean): Promise<void> {
    const offer = useOffer ? this.takeable() : null;
    await this.order([{ productId: p.id, category: p.category, priceCents: p.priceCents, quantity: offer?.quantity ?? 1, offer: offer ?? undefined }], false);
  }

  async checkout(): Promise<void> {
    if (this.cart.length) await this.order(this.cart, true);
  }

  private async order(lines: CartLine[], fromCart: boolean): Promise<void> {
    const now = await this.tick().catch(() => this.shopNowMs);
    const purchase = purchaseOf(lines, now);
    // The same order sent again after no answer goes under the id it had: it may have been stored all the
    // same (the answer lost, the deadline passed), and a new id would make it a second purchase.
    const key = JSON.stringify([this.customerId, lines]);
    const id = this.unanswered?.key === key ? this.unanswered.id : `shop-${crypto.randomUUID()}`;
    const o: OrderState = { id, purchase, status: "sending" };
    this.orders = [o, ...this.orders.filter((x) => x.id !== id)].slice(0, 5);
    this.host.requestUpdate();
    // A purchase follows the decision it redeems: never stamped before it.
    const notBefore = lines.find((l) => l.offer && l.offer.decisionId === purchase.decisionId)?.offer?.decidedAt ?? 0;
    const r = await this.send([{ type: "purchase", id: o.id, customerId: this.customerId, sessionId: this.sessionId, ...purchase }], notBefore);
    const done: OrderState = { ...o, status: r.status, ...(r.detail ? { detail: r.detail } : {}) };
    this.orders = this.orders.map((x) => (x.id === o.id ? done : x));
    this.unanswered = r.status === "failed" ? { key, id } : null;
    if (r.status === "accepted" || r.status === "duplicate") {
      if (purchase.decisionId) {
        this.redeemed.add(purchase.decisionId);
        this.saveVisit();
      }
      if (fromCart) this.cart = [];
      void this.loadCatalog();
    }
    this.host.requestUpdate();
  }

  /** Where the dashboard is, showing this shopper's decisions (and the token, when the page has one). */
  dashboardUrl(): string {
    const q = new URLSearchParams({ customer: this.customerId });
    if (this.token) q.set("token", this.token);
    return `/?${q.toString()}`;
  }
}
