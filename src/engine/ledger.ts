// Stock and budget as the engine sees them: what the shop reports (inventory events) minus what
// outstanding offers have promised. A promotion is offered only when its promise can be kept.

export interface ProductInfo {
  stock: number;
  /** Event time of the inventory event the stock came from (older ones are stale and ignored). */
  asOfMs: number;
  /** Units promised to outstanding offers of product promotions. */
  reserved: number;
  priceCents: number;
  costCents: number;
  category: string;
}

export interface BudgetInfo {
  budgetCents: number;
  reservedCents: number;
  spentCents: number;
}

/** Units of a product this partition may promise, granted through KV (partitioned mode, issue #8). */
export interface UnitGrant {
  /** Cumulative units granted to this partition. */
  granted: number;
  /** Cumulative units its offers consumed (redeemed). */
  consumed: number;
}

/**
 * What offers whose decisions left the open table early (overflow, attribution.ts) still reserve: the
 * shop honours such an offer until it expires, so its reservation stays until then or is spent by its
 * redemption. Offers are summed per promotion, product and expiry rounded up to HELD_BUCKET_MS, so what
 * is kept grows with time and promotions, not with how many decisions overflowed.
 */
export interface HeldReservation {
  promotionId: string;
  /** Every offer held here has expired before this time. */
  untilMs: number;
  cents: number;
  productId?: string | undefined;
  /** Units of productId each offer holds, and how many offers hold them still. */
  unitsPerOffer: number;
  offers: number;
}

/** The expiry rounding of held reservations: they are kept up to this much longer than their offers. */
export const HELD_BUCKET_MS = 5 * 60_000;

export interface LedgerState {
  products: [string, ProductInfo][];
  budgets: [string, BudgetInfo][];
  unitGrants?: [string, UnitGrant][];
  /** Absent in checkpoints before it was kept (overflow then released reservations). */
  held?: HeldReservation[];
}

/** A category of the catalog: its products and their summed price and cost (for expected margins). */
export interface CategoryStats {
  products: number;
  priceCents: number;
  costCents: number;
}

export class Ledger {
  readonly products = new Map<string, ProductInfo>();
  /** Per category: products, summed price and cost (derived from `products`, not stored). */
  readonly catalog = new Map<string, CategoryStats>();
  /** Units in stock per category (sum of its products' stock minus reservations). */
  private readonly categoryAvailable = new Map<string, number>();
  readonly budgets = new Map<string, BudgetInfo>();
  readonly unitGrants = new Map<string, UnitGrant>();
  readonly held = new Map<string, HeldReservation>();
  /** No held reservation expires before this (a lower bound: releaseHeld looks only once it passes). */
  private heldDueMs = Infinity;

  /**
   * A grant arrives (as an event in this partition's stream): `total` is the cumulative amount granted
   * to the partition, so a repeated or replayed grant changes nothing. For a budget, the partition's
   * budget is what it was granted; for units, how many it may have promised at once beyond consumption.
   */
  grant(resource: "budget" | "units", key: string, total: number): void {
    if (resource === "budget") {
      const b = this.budgets.get(key) ?? this.ensureBudget(key, 0);
      if (total > b.budgetCents) b.budgetCents = total;
    } else {
      let g = this.unitGrants.get(key);
      if (!g) this.unitGrants.set(key, (g = { granted: 0, consumed: 0 }));
      if (total > g.granted) g.granted = total;
    }
  }

  /** Granted units of a product not yet consumed nor promised to an open offer. */
  unitsGrantedLeft(productId: string): number {
    const g = this.unitGrants.get(productId);
    if (!g) return 0;
    return g.granted - g.consumed - (this.products.get(productId)?.reserved ?? 0);
  }

  /** An offer's units were redeemed: they count against the partition's grant for good. */
  consumeUnit(productId: string, units = 1): void {
    const g = this.unitGrants.get(productId);
    if (g) g.consumed += units;
  }

  /** Rebuilds a ledger from a checkpoint (category availability is derived, not stored). */
  static fromJSON(j: LedgerState): Ledger {
    const l = new Ledger();
    for (const [id, p] of j.products) {
      l.products.set(id, { ...p });
      l.bumpCategory(p.category, p.stock - p.reserved);
      l.bumpCatalog(p.category, 1, p.priceCents, p.costCents);
    }
    for (const [id, b] of j.budgets) l.budgets.set(id, { ...b });
    for (const [id, g] of j.unitGrants ?? []) l.unitGrants.set(id, { ...g });
    for (const h of j.held ?? []) l.addHeld({ ...h });
    return l;
  }

  toJSON(): LedgerState {
    return {
      products: [...this.products].map(([k, v]) => [k, { ...v }]),
      budgets: [...this.budgets].map(([k, v]) => [k, { ...v }]),
      unitGrants: [...this.unitGrants].map(([k, v]) => [k, { ...v }]),
      held: [...this.held.values()].map((h) => ({ ...h })),
    };
  }

  /**
   * The shop's word on a product's stock at event time tsMs. An inventory event older than the one
   * already applied is stale (events arrive out of order) and changes nothing; returns whether it
   * applied.
   */
  setInventory(productId: string, category: string, stock: number, priceCents: number, costCents: number, tsMs = 0): boolean {
    const p = this.products.get(productId);
    if (p) {
      if (tsMs < p.asOfMs) return false;
      this.bumpCategory(p.category, -(p.stock - p.reserved));
      this.bumpCatalog(p.category, -1, -p.priceCents, -p.costCents);
      p.stock = stock;
      p.priceCents = priceCents;
      p.costCents = costCents;
      p.category = category;
      p.asOfMs = tsMs;
      this.bumpCategory(category, p.stock - p.reserved);
    } else {
      this.products.set(productId, { stock, asOfMs: tsMs, reserved: 0, priceCents, costCents, category });
      this.bumpCategory(category, stock);
    }
    this.bumpCatalog(category, 1, priceCents, costCents);
    return true;
  }

  private bumpCatalog(category: string, products: number, priceCents: number, costCents: number): void {
    let c = this.catalog.get(category);
    if (!c) this.catalog.set(category, (c = { products: 0, priceCents: 0, costCents: 0 }));
    c.products += products;
    c.priceCents += priceCents;
    c.costCents += costCents;
    if (c.products <= 0) this.catalog.delete(category);
  }

  private bumpCategory(category: string, delta: number): void {
    this.categoryAvailable.set(category, (this.categoryAvailable.get(category) ?? 0) + delta);
  }

  available(productId: string): number {
    const p = this.products.get(productId);
    return p ? p.stock - p.reserved : 0;
  }
  categoryAvailableUnits(category: string): number {
    return this.categoryAvailable.get(category) ?? 0;
  }

  reserveUnit(productId: string, units = 1): void {
    const p = this.products.get(productId);
    if (!p) return;
    p.reserved += units;
    this.bumpCategory(p.category, -units);
  }
  releaseUnit(productId: string, units = 1): void {
    const p = this.products.get(productId);
    if (!p) return;
    const n = Math.min(units, p.reserved);
    if (n <= 0) return;
    p.reserved -= n;
    this.bumpCategory(p.category, n);
  }
  /**
   * A purchase takes units out of stock until the shop's next inventory event says otherwise. One
   * older than the stock figure is already counted in it.
   */
  sold(productId: string, quantity: number, tsMs = Infinity): void {
    const p = this.products.get(productId);
    if (!p || tsMs < p.asOfMs) return;
    const take = Math.min(quantity, p.stock);
    p.stock -= take;
    this.bumpCategory(p.category, -take);
  }

  ensureBudget(promotionId: string, budgetCents: number): BudgetInfo {
    let b = this.budgets.get(promotionId);
    if (!b) {
      b = { budgetCents, reservedCents: 0, spentCents: 0 };
      this.budgets.set(promotionId, b);
    } else b.budgetCents = budgetCents;
    return b;
  }
  /** Cents spent and reserved by open offers. */
  budgetUsed(promotionId: string): number {
    const b = this.budgets.get(promotionId);
    return b ? b.reservedCents + b.spentCents : 0;
  }
  budgetLeft(promotionId: string): number {
    const b = this.budgets.get(promotionId);
    return b ? b.budgetCents - b.reservedCents - b.spentCents : 0;
  }
  reserveBudget(promotionId: string, cents: number): void {
    const b = this.budgets.get(promotionId);
    if (b) b.reservedCents += cents;
  }
  /**
   * An open offer's decision left the table early (overflow): what it reserved (`cents`, and `units` of
   * productId) stays reserved until the offer expires at expiresAtMs, or is spent by its redemption.
   */
  hold(promotionId: string, cents: number, productId: string | undefined, units: number, expiresAtMs: number): void {
    const untilMs = Math.ceil(expiresAtMs / HELD_BUCKET_MS) * HELD_BUCKET_MS;
    const unitsPerOffer = productId === undefined ? 0 : units;
    const h = this.held.get(heldKey(promotionId, productId, unitsPerOffer, untilMs));
    if (h) {
      h.cents += cents;
      h.offers++;
    } else this.addHeld({ promotionId, untilMs, cents, productId, unitsPerOffer, offers: 1 });
  }

  private addHeld(h: HeldReservation): void {
    this.held.set(heldKey(h.promotionId, h.productId, h.unitsPerOffer, h.untilMs), h);
    if (h.untilMs < this.heldDueMs) this.heldDueMs = h.untilMs;
  }

  /**
   * A redemption of the promotion no open decision took (its decision overflowed): it spends up to
   * `discountCents` of what an offer of the promotion valid at atMs holds, and takes that offer's units.
   */
  spendHeld(promotionId: string, discountCents: number, atMs: number): void {
    let h: HeldReservation | undefined;
    for (const x of this.held.values()) if (x.promotionId === promotionId && x.offers > 0 && x.untilMs >= atMs && (!h || x.untilMs < h.untilMs)) h = x;
    if (!h) return;
    const spend = Math.max(0, Math.min(discountCents, h.cents));
    this.settle(promotionId, spend, h.productId, h.unitsPerOffer, spend, true);
    h.cents -= spend;
    if (--h.offers === 0) this.releaseHeldEntry(h);
  }

  /** Releases what offers held past their expiry reserved (every one that expired before `beforeMs`). */
  releaseHeld(beforeMs: number): void {
    if (beforeMs <= this.heldDueMs) return;
    let due = Infinity;
    for (const h of this.held.values()) {
      if (h.untilMs < beforeMs) this.releaseHeldEntry(h);
      else if (h.untilMs < due) due = h.untilMs;
    }
    this.heldDueMs = due;
  }

  private releaseHeldEntry(h: HeldReservation): void {
    this.held.delete(heldKey(h.promotionId, h.productId, h.unitsPerOffer, h.untilMs));
    this.settle(h.promotionId, h.cents, h.productId, h.unitsPerOffer * h.offers, 0, false);
  }

  /**
   * Settles an offer's reservation: its budget (committing `spendCents` of it) and its `units` of
   * productId, released, and taken from stock when the offer was redeemed. Returns what was spent.
   */
  settle(promotionId: string, reservedCents: number, productId: string | undefined, units: number, spendCents: number, redeemed: boolean): number {
    const spent = this.settleBudget(promotionId, reservedCents, spendCents);
    if (productId !== undefined && units > 0) {
      this.releaseUnit(productId, units);
      if (redeemed) this.consumeUnit(productId, units);
    }
    return spent;
  }

  /** Releases a reservation, committing `spend` (≤ the reservation) of it. */
  settleBudget(promotionId: string, reservedCents: number, spendCents: number): number {
    const b = this.budgets.get(promotionId);
    if (!b) return 0;
    const spend = Math.max(0, Math.min(spendCents, reservedCents));
    b.reservedCents -= reservedCents;
    b.spentCents += spend;
    return spend;
  }
}

function heldKey(promotionId: string, productId: string | undefined, unitsPerOffer: number, untilMs: number): string {
  return `${promotionId}\u0000${productId ?? ""}\u0000${unitsPerOffer}\u0000${untilMs}`;
}
