// The storefront example (examples/storefront.ts, on promo-stream/client) against a running system with
// the simulated shop: it gets a decision for a product view in one call and reports the purchase.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../src/config/index.ts";
import type { Running } from "../../src/system.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { startParts, testConfig, waitFor } from "../support/system.ts";

let nats: NatsServerHandle;
let sys: Running;

beforeAll(async () => {
  nats = await jetstreamServer();
  sys = await startParts("all", testConfig(nats.url, { simulator: { speed: 1 }, server: { token: "ex-token" } }));
  await waitFor("the catalog", async () => (await fetch(new URL("/api/catalog?token=ex-token", sys.url!))).status === 200, 20_000, 200);
});

afterAll(async () => {
  await sys?.stop();
  await nats?.stop();
});

describe("examples/storefront.ts", { timeout: 60_000 }, () => {
  it("decides at a product view in one call and reports the purchase, with the offer when there is one", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "examples/storefront.ts"), "sku-003", "ex-shopper-1"], {
      cwd: REPO_ROOT,
      env: { ...process.env, PROMO_STREAM_URL: sys.url!, API_TOKEN: "ex-token" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    const code = await new Promise<number | null>((r) => child.on("exit", r));
    expect(code, err).toBe(0);
    const [decided, purchased] = out.trim().split("\n").map((l) => JSON.parse(l) as Record<string, any>);
    expect(decided!.step).toBe("decided");
    // (The client named the view `d-<uuid>`; its decision is `d-` and the view's id.)
    expect(decided!.decisionId).toMatch(/^d-d-[0-9a-f-]{36}$/);
    expect(purchased).toMatchObject({ step: "purchased", result: { status: "accepted" } });
    // The decision is the processor's, and the purchase closed it.
    const decisions = (await (await fetch(new URL(`/api/decisions?limit=200&token=ex-token`, sys.url!))).json()) as { decisions: { id: string; customerId: string }[] };
    expect(decisions.decisions.some((d) => d.id === decided!.decisionId && d.customerId === "ex-shopper-1")).toBe(true);
    const outcome = await waitFor("the decision's outcome", async () => {
      const o = (await (await fetch(new URL(`/api/outcomes?limit=200&token=ex-token`, sys.url!))).json()) as { outcomes: { decisionId: string; closedBy: string }[] };
      return o.outcomes.find((x) => x.decisionId === decided!.decisionId);
    }, 20_000, 200);
    expect(["redeemed", "purchased"]).toContain(outcome.closedBy);
    expect(outcome.closedBy === "redeemed").toBe(decided!.promotionId !== "control");
  });
});
