// A storefront's side of promo-stream, through the package's client (`promo-stream/client`): a shopper
// looks at a product, the shop asks for the offer in the same call, shows it (or not), and reports the
// purchase, with the offer when it was used. Prints one JSON line per step.
//
//   PROMO_STREAM_URL=http://127.0.0.1:8080/ [API_TOKEN=…] node --import tsx examples/storefront.ts [sku] [customer]
//
// With `npm start` running, the product comes from the simulated shop's catalog (GET /api/catalog).
import { PromoStreamClient } from "promo-stream/client";

const baseUrl = process.env.PROMO_STREAM_URL ?? "http://127.0.0.1:8080/";
const token = process.env.API_TOKEN || undefined;
const sku = process.argv[2] ?? "sku-001";
const customerId = process.argv[3] ?? `example-${Date.now().toString(36)}`;
const ps = new PromoStreamClient({ baseUrl, ...(token ? { token } : {}) });
const say = (step: string, what: unknown) => console.log(JSON.stringify({ step, ...(what as object) }));

// The product as the shop knows it (here: the simulated shop's catalog).
const headers = token ? { authorization: `Bearer ${token}` } : undefined;
const catalog = (await (await fetch(new URL("api/catalog", baseUrl), { headers })).json()) as { products?: { id: string; category: string; priceCents: number }[]; error?: string };
const product = catalog.products?.find((p) => p.id === sku);
if (!product) {
  console.error(`no product ${sku} in ${baseUrl}api/catalog: ${catalog.error ?? "not in the catalog"}`);
  process.exit(1);
}

// 1. The shopper views the product: a decision point. The answer comes within the deadline, or none.
const sessionId = `visit-${customerId}`;
const { decision, reason } = await ps.decide({ type: "view", customerId, sessionId, productId: product.id, category: product.category, priceCents: product.priceCents }, { deadlineMs: 1_000 });
say("decided", decision ? { decisionId: decision.id, promotionId: decision.promotionId, offer: decision.offer ?? null } : { decision: null, reason });

// 2. The shopper buys it, with the offer when there is one (a real shop applies the offer's terms;
//    here the discount is what the offer reserved, capped by the price).
const offered = decision && decision.promotionId !== "control" ? decision : undefined;
const discountCents = offered?.offer ? Math.min(offered.offer.maxDiscountCents, product.priceCents) : 0;
const clock = (await (await fetch(new URL("api/clock", baseUrl), { headers })).json()) as { nowMs: number };
const sent = await ps.send([
  {
    type: "purchase",
    customerId,
    sessionId,
    ts: Math.max(clock.nowMs, (decision?.ts ?? 0) + 1),
    totalCents: product.priceCents - discountCents,
    items: [{ productId: product.id, category: product.category, quantity: 1, priceCents: product.priceCents }],
    ...(offered ? { promotionId: offered.promotionId, decisionId: offered.id, discountCents } : {}),
  },
]);
say("purchased", { totalCents: product.priceCents - discountCents, discountCents, result: sent.results[0] });
