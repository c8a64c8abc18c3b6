import { describe, expect, it } from "vitest";
import { startBanner } from "./main.ts";

describe("startBanner", () => {
  it("prints the dashboard's address as a person can open it", () => {
    expect(startBanner("all", "http://127.0.0.1:8080/", "nats://127.0.0.1:4222", false)).toContain("promo-stream dashboard: http://127.0.0.1:8080/\n");
  });

  it("with API_TOKEN set, shows where the token goes without printing it", () => {
    const b = startBanner("all", "http://127.0.0.1:8080/", "nats://127.0.0.1:4222", true);
    expect(b).toContain("promo-stream dashboard: http://127.0.0.1:8080/?token=<API_TOKEN>");
    expect(b).toMatch(/API_TOKEN is set/);
  });

  it("names the part when there is no dashboard", () => {
    expect(startBanner("processor", undefined, "nats://n:4222", true)).toBe("\n  promo-stream processor running; NATS: nats://n:4222\n");
  });
});
