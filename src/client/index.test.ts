// promo-stream/client against a fake fetch: what it does with the server's answers, with no server.
import { describe, expect, it } from "vitest";
import { PromoStreamClient } from "./index.ts";

/** A fetch that answers every call with `status` and `headers`, counting the calls. */
function answering(status: number, headers: Record<string, string>, body: unknown): { fetch: typeof fetch; calls: () => number } {
  let n = 0;
  const f = (async () => {
    n++;
    return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
  }) as typeof fetch;
  return { fetch: f, calls: () => n };
}

const view = { type: "view" as const, id: "v-1", customerId: "c-1", productId: "sku-001" };

describe("decide() and the server's Retry-After", () => {
  it("does not ask again within the deadline when the server said to wait past it", async () => {
    // The server sheds with 503 and Retry-After: 1 (decide.maxInFlight, admission). Asking again every
    // 25 ms until the 250 ms deadline multiplied the requests of a server already refusing them.
    const f = answering(503, { "retry-after": "1" }, { error: "too many decide requests" });
    const client = new PromoStreamClient({ baseUrl: "http://promo.invalid/", fetch: f.fetch });
    expect(await client.decide(view, { deadlineMs: 800 })).toEqual({ decision: null, reason: "timeout" });
    // Once: no offer now is the answer (a wall-clock bound on "at once" failed on a loaded host, 1.1 s).
    expect(f.calls()).toBe(1);
  });

  it("waits what Retry-After says when the deadline leaves room, then asks again", async () => {
    const f = answering(503, { "retry-after": "1" }, { error: "the event could not be stored" });
    const client = new PromoStreamClient({ baseUrl: "http://promo.invalid/", fetch: f.fetch });
    const t0 = Date.now();
    expect(await client.decide(view, { deadlineMs: 1_500 })).toEqual({ decision: null, reason: "timeout" });
    expect(f.calls()).toBe(2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(990);
  });

  it("still asks again soon after a 503 without Retry-After", async () => {
    const f = answering(503, {}, { error: "busy" });
    const client = new PromoStreamClient({ baseUrl: "http://promo.invalid/", fetch: f.fetch });
    await client.decide(view, { deadlineMs: 200 });
    expect(f.calls()).toBeGreaterThan(2);
  });
});

describe("send() and the server's Retry-After", () => {
  it("waits at least what Retry-After says between attempts", async () => {
    const f = answering(503, { "retry-after": "1" }, { accepted: 0, duplicate: 0, rejected: 1, results: [] });
    const client = new PromoStreamClient({ baseUrl: "http://promo.invalid/", fetch: f.fetch });
    await expect(client.send([{ type: "click", customerId: "c-1" }], { deadlineMs: 2_500 })).rejects.toMatchObject({ code: "PS_ERR_CLIENT_DEADLINE" });
    // Backing off 50, 100, 200, 400 ms it asked 5 times in 2.5 s; one second apart it asks 3 times at most.
    expect(f.calls()).toBeLessThanOrEqual(3);
  });
});


/** A fetch answering from a list of statuses (the last one repeats), counting calls and the ids it was sent. */
function scripted(statuses: number[]) {
  const calls: string[] = [];
  const fetch = (async (_url: URL, init: RequestInit) => {
    calls.push(String(init.body));
    const status = statuses[Math.min(calls.length - 1, statuses.length - 1)]!;
    const body = status === 200 ? { accepted: 1, duplicate: 0, rejected: 0, results: [{ id: "e-1", status: "accepted" }] } : { error: `HTTP ${status}` };
    return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  }) as unknown as typeof globalThis.fetch;
  return { fetch, calls };
}

describe("PromoStreamClient", () => {
  // decide() retries 408 and 429 (a proxy's timeout, a rate limit) as it does a 503; send() and track()
  // threw PS_ERR_CLIENT_REFUSED at once on them, as on a 400 no retry changes.
  it.each([[408], [429], [503]])("send() retries a %i under the same ids, as decide() does", async (status) => {
    const { fetch, calls } = scripted([status, 200]);
    const client = new PromoStreamClient({ baseUrl: "http://shop.invalid/", fetch });
    const answer = await client.send([{ type: "click", customerId: "c-1", productId: "sku-001" }], { deadlineMs: 2_000 });
    expect(answer.accepted).toBe(1);
    expect(calls).toHaveLength(2);
    expect(calls[1]).toBe(calls[0]);
  });

  // The server reads a Segment field sent as null or "" as not sent (README), so a call with messageId ""
  // was refused missing-message-id: the client gave an id only to a call without one, or with null.
  it("track() gives a call with messageId \"\" an id, as one without, and keeps it across retries", async () => {
    const { fetch, calls } = scripted([503, 200]);
    const client = new PromoStreamClient({ baseUrl: "http://shop.invalid/", fetch });
    await client.track({ type: "track", event: "Product Clicked", messageId: "", userId: "c-1", properties: { product_id: "sku-001" } }, { deadlineMs: 2_000 });
    expect(calls).toHaveLength(2);
    expect(calls[1]).toBe(calls[0]);
    const id = (JSON.parse(calls[0]!) as { batch: { messageId: string }[] }).batch[0]!.messageId;
    expect(id).toMatch(/^t-[0-9a-f-]{36}$/);
  });

  it("send() throws PS_ERR_CLIENT_REFUSED at once on a 400", async () => {
    const { fetch, calls } = scripted([400]);
    const client = new PromoStreamClient({ baseUrl: "http://shop.invalid/", fetch });
    await expect(client.send([{ type: "click", customerId: "c-1", productId: "sku-001" }])).rejects.toMatchObject({ code: "PS_ERR_CLIENT_REFUSED", status: 400 });
    expect(calls).toHaveLength(1);
  });

  it("send() throws PS_ERR_CLIENT_DEADLINE when no answer comes in time", async () => {
    const { fetch } = scripted([503]);
    const client = new PromoStreamClient({ baseUrl: "http://shop.invalid/", fetch });
    await expect(client.send([{ type: "click", customerId: "c-1", productId: "sku-001" }], { deadlineMs: 200 })).rejects.toMatchObject({ code: "PS_ERR_CLIENT_DEADLINE" });
  });
});

/** A fetch whose 200 has headers at once and a body that never ends (errored when the call's signal aborts, as fetch does). */
function stalling(): typeof fetch {
  return (async (_url: URL, init: RequestInit) => {
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('{"decision":'));
        init.signal?.addEventListener("abort", () => c.error(init.signal!.reason));
      },
    });
    return new Response(body, { status: 200, headers: { "content-type": "application/json" } });
  }) as unknown as typeof fetch;
}

describe("a 200 that is no answer of promo-stream's", () => {
  const page = () => answering(200, {}, "<html><body>Welcome to our shop</body></html>");
  const html = (): typeof fetch => (async () => new Response("<!doctype html><html><body>Welcome to our shop</body></html>", { status: 200, headers: { "content-type": "text/html" } })) as typeof fetch;

  it("decide() answers timeout when the body does not arrive by the deadline, never throws for that", async () => {
    // The headers came in time and the body did not: r.json() rejected with the deadline's TimeoutError,
    // and decide() threw it where it promises {decision: null, reason: "timeout"}.
    const client = new PromoStreamClient({ baseUrl: "http://promo.invalid/", fetch: stalling() });
    expect(await client.decide(view, { deadlineMs: 150 })).toEqual({ decision: null, reason: "timeout" });
  });

  it("send() throws PS_ERR_CLIENT_DEADLINE when the body does not arrive by the deadline", async () => {
    const client = new PromoStreamClient({ baseUrl: "http://promo.invalid/", fetch: stalling() });
    await expect(client.send([{ type: "click", customerId: "c-1" }], { deadlineMs: 150 })).rejects.toMatchObject({ code: "PS_ERR_CLIENT_DEADLINE" });
  });

  it("decide(), send() and track() throw PS_ERR_CLIENT_REFUSED on a page that is not JSON (a proxy's, a web server's at a wrong base URL), not a SyntaxError", async () => {
    // No retry changes it, as a wrong base URL's 404: an error to see, typed as the client's others.
    const client = new PromoStreamClient({ baseUrl: "http://promo.invalid/", fetch: html() });
    const refused = { name: "PromoStreamError", code: "PS_ERR_CLIENT_REFUSED", status: 200, message: expect.stringMatching(/no promo-stream answer[^]*text\/html/) };
    await expect(client.decide(view)).rejects.toMatchObject(refused);
    await expect(client.send([{ type: "click", customerId: "c-1" }])).rejects.toMatchObject(refused);
    await expect(client.track({ type: "track", event: "Product Viewed", userId: "c-1" })).rejects.toMatchObject(refused);
  });

  it("decide() throws PS_ERR_CLIENT_REFUSED on JSON that is no decide answer, rather than answer it", async () => {
    const client = new PromoStreamClient({ baseUrl: "http://promo.invalid/", fetch: page().fetch });
    await expect(client.decide(view)).rejects.toMatchObject({ code: "PS_ERR_CLIENT_REFUSED", status: 200 });
  });
});
