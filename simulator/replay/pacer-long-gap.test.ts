// The replay's real clock waits out a gap longer than setTimeout's limit (2³¹−1 ms, about 24.8 days of
// wall time: a month's gap in a log at --speed 1, or a day's at --speed 0.03): it waits the whole time,
// instead of Node cutting the timer to 1 ms and the event going out at once; and Ctrl-C still ends it.
import { afterEach, describe, expect, it, vi } from "vitest";
import { realClock } from "./pacer.ts";

afterEach(() => void vi.useRealTimers());

describe("realClock.sleep over setTimeout's limit", () => {
  it("waits the whole 30 days, not 1 ms", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const DAY = 86_400_000;
    let woke = false;
    void realClock.sleep(30 * DAY).then(() => (woke = true));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(woke).toBe(false);
    await vi.advanceTimersByTimeAsync(29 * DAY);
    expect(woke).toBe(false);
    await vi.advanceTimersByTimeAsync(DAY);
    expect(woke).toBe(true);
  });

  it("still ends at once when the signal aborts", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const ac = new AbortController();
    let woke = false;
    void realClock.sleep(40 * 86_400_000, ac.signal).then(() => (woke = true));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(woke).toBe(false);
    ac.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(woke).toBe(true);
  });
});
