import { describe, expect, it } from "vitest";
import { Pacer, type Clock } from "./pacer.ts";

/** A clock that only moves when slept on (plus any extra delay a sleep overshoots by). */
function fakeClock(overshootMs = 0): Clock & { sleeps: number[] } {
  let t = 1_000;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    sleep: async (ms) => {
      sleeps.push(ms);
      t += ms + overshootMs;
    },
  };
}

describe("Pacer", () => {
  it("maps log time to wall time at the given speed", async () => {
    const clock = fakeClock();
    const p = new Pacer(4, clock);
    for (const logMs of [0, 4_000, 4_000, 10_000, 40_000]) await p.waitFor(logMs);
    expect(clock.sleeps).toEqual([1_000, 1_500, 7_500]);
    expect(clock.now() - 1_000).toBe(10_000);
  });

  it("never waits at max speed", async () => {
    const clock = fakeClock();
    const p = new Pacer("max", clock);
    for (const logMs of [0, 1e9, 2e9]) await p.waitFor(logMs);
    expect(clock.sleeps).toEqual([]);
  });

  it("does not drift when sleeps overshoot: waits are from the first event, not the previous one", async () => {
    const clock = fakeClock(300);
    const p = new Pacer(1, clock);
    for (let logMs = 0; logMs <= 10_000; logMs += 1_000) await p.waitFor(logMs);
    // Ten seconds of log; each sleep overshoots 0.3 s, yet the total stays within one overshoot.
    expect(clock.now() - 1_000).toBeLessThanOrEqual(10_300);
    // Each wait after the first is shortened by the previous overshoot.
    expect(clock.sleeps.slice(0, 3)).toEqual([1_000, 700, 700]);
  });

  it("does not wait for an event older than one already due (a late event goes out at once)", async () => {
    const clock = fakeClock();
    const p = new Pacer(1, clock);
    await p.waitFor(5_000);
    await p.waitFor(6_000);
    await p.waitFor(1_000);
    expect(clock.sleeps).toEqual([1_000]);
  });

  it("rejects a speed that is not positive", () => {
    expect(() => new Pacer(0)).toThrow(RangeError);
    expect(() => new Pacer(Number.NaN)).toThrow(RangeError);
  });
});
