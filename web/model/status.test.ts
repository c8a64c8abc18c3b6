import { describe, expect, it } from "vitest";
import { connectProblem, connectionView, silenceLimits, simAbsentText, simRateText, staleNote } from "./status.ts";

describe("connectionView", () => {
  it("is not live on an open socket that has heard no frame for max(5 s, 20 of the server's frame intervals)", () => {
    const fresh = { kpiAgeMs: 400, kpiEveryMs: 500, frameEveryMs: 100 };
    expect(connectionView("open", fresh, 4_900)).toEqual({ text: "live", ok: true });
    expect(connectionView("open", fresh, 6_300)).toEqual({ text: "no update from the server for 6 s", ok: false });
    expect(silenceLimits(100)).toEqual({ staleMs: 5_000, deadMs: 15_000 });
    expect(silenceLimits(1_000)).toEqual({ staleMs: 20_000, deadMs: 60_000 });
    expect(connectionView("open", { ...fresh, frameEveryMs: 1_000 }, 6_300)).toEqual({ text: "live", ok: true });
  });

  it("is live while snapshots arrive, and says how long the processor has been silent once a few are missed", () => {
    expect(connectionView("open", { kpiAgeMs: 400, kpiEveryMs: 500 })).toEqual({ text: "live", ok: true });
    expect(connectionView("open", { kpiAgeMs: 2_400, kpiEveryMs: 500 })).toEqual({ text: "live", ok: true });
    expect(connectionView("open", { kpiAgeMs: 12_700, kpiEveryMs: 500 })).toEqual({ text: "processor has not reported for 12 s", ok: false });
    // Slow snapshots are judged by their own interval.
    expect(connectionView("open", { kpiAgeMs: 8_000, kpiEveryMs: 2_000 })).toEqual({ text: "live", ok: true });
  });

  it("says when no snapshot came yet, and trusts a server that does not send freshness", () => {
    expect(connectionView("open", { kpiAgeMs: null, kpiEveryMs: 500 })).toEqual({ text: "no report from the processor yet", ok: false });
    expect(connectionView("open", {})).toEqual({ text: "live", ok: true });
  });

  it("shows the socket's own trouble first", () => {
    expect(connectionView("reconnecting", { kpiAgeMs: 100, kpiEveryMs: 500 })).toEqual({ text: "reconnecting", ok: false });
    expect(connectionView("connecting", {})).toEqual({ text: "connecting", ok: false });
  });
});

describe("staleNote", () => {
  it("marks the figures shown as the last report's while the page is not live, and says why", () => {
    expect(staleNote(connectionView("open", { kpiAgeMs: 400, kpiEveryMs: 500 }), true)).toBeNull();
    expect(staleNote(connectionView("reconnecting", {}), true)).toBe("not current: reconnecting");
    expect(staleNote(connectionView("open", { kpiAgeMs: 12_700, kpiEveryMs: 500 }), true)).toBe("not current: processor has not reported for 12 s");
    // Nothing shown yet: nothing to mark.
    expect(staleNote(connectionView("connecting", {}), false)).toBeNull();
  });
});

describe("simAbsentText", () => {
  it("advises starting the simulator only when nobody subscribes to sim.control", () => {
    expect(simAbsentText("not-running").start).toBe(true);
    expect(simAbsentText(null).start).toBe(true);
    const unreachable = simAbsentText("no-answer");
    expect(unreachable.start).toBe(false);
    expect(unreachable.text).toMatch(/cannot be reached/);
  });
  it("says nothing of the simulator before the server has sent a frame (no token, server down at opening)", () => {
    const unknown = simAbsentText(null, false);
    expect(unknown.start).toBe(false);
    expect(unknown.text).not.toMatch(/not running/);
  });
});

describe("connectProblem", () => {
  it("tells a missing access token from an unreachable server, and says how to open the page", () => {
    expect(connectProblem(401, "http://127.0.0.1:8080/")).toBe("needs the access token: open the page as http://127.0.0.1:8080/?token=<API_TOKEN>");
    expect(connectProblem(401, "http://h:8080/?customer=c00042")).toBe("needs the access token: open the page as http://h:8080/?customer=c00042&token=<API_TOKEN>");
    expect(connectProblem(401, "http://h:8080/?token=x")).toMatch(/access token in the page's address is wrong/);
    expect(connectProblem("unreachable", "http://h:8080/")).toBe("server not reachable");
    expect(connectProblem("offline", "http://h:8080/")).toBe("this browser is offline");
    expect(connectProblem(200, "http://h:8080/")).toMatch(/refused the WebSocket/);
  });
});

describe("simRateText", () => {
  it("shows the simulator's event rate while connected, and no rate while the page is not", () => {
    expect(simRateText(107.6, "open")).toBe("108 events/s");
    expect(simRateText(107.6, "reconnecting")).toBe("– events/s");
    expect(simRateText(107.6, "connecting")).toBe("– events/s");
  });
});
