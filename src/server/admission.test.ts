import { describe, expect, it } from "vitest";
import { Admission } from "./admission.ts";

describe("Admission", () => {
  it("admits everything while requests are answered in time and the loop has room", () => {
    const a = new Admission(() => 0);
    for (let w = 0; w < 10; w++) {
      for (let i = 0; i < 100; i++) a.answeredWith(false);
      a.adjust(0.5);
    }
    expect(a.shedShare).toBe(0);
    expect(a.admit()).toBe(true);
  });

  it("sheds a growing share while requests time out, up to 95%, and lets it back down once they are answered", () => {
    let r = 0.5;
    const a = new Admission(() => r);
    for (let i = 0; i < 100; i++) a.answeredWith(i % 5 === 0); // 20% timed out
    a.adjust(0.3);
    expect(a.shedShare).toBeCloseTo(0.2);
    expect(a.admit()).toBe(true); // 0.5 ≥ 0.2
    for (let w = 0; w < 10; w++) {
      for (let i = 0; i < 5; i++) a.answeredWith(true);
      a.adjust(0.3);
    }
    expect(a.shedShare).toBeCloseTo(0.95);
    r = 0.9;
    expect(a.admit()).toBe(false);
    // Answered in time again: the share comes down a step per window.
    for (let w = 0; w < 5; w++) {
      for (let i = 0; i < 5; i++) a.answeredWith(false);
      a.adjust(0.3);
    }
    expect(a.shedShare).toBeCloseTo(0.7);
  });

  it("sheds while the event loop stays saturated under many requests, even with no timeouts yet, but not for a busy moment", () => {
    const a = new Admission(() => 0);
    /** A window with `asked` requests asking to be admitted and the loop this busy. */
    const window = (busy: number, asked = 20) => {
      for (let i = 0; i < asked; i++) a.admit();
      a.adjust(busy);
    };
    window(0.97);
    window(0.97);
    expect(a.shedShare).toBe(0);
    window(0.1);
    window(0.97);
    window(0.97);
    window(0.97);
    window(0.97);
    expect(a.shedShare).toBeCloseTo(0.4);
    // A window with nothing answered and an idle loop lowers it.
    window(0.1, 0);
    expect(a.shedShare).toBeCloseTo(0.35);
  });

  it("reads nothing into a saturated loop while requests are few (the processor or a simulator keeps it busy)", () => {
    const a = new Admission(() => 0);
    for (let w = 0; w < 20; w++) {
      for (let i = 0; i < 4; i++) a.admit();
      a.adjust(0.99);
    }
    expect(a.shedShare).toBe(0);
    // The same loop with requests in numbers: shed from the third window on.
    for (let w = 0; w < 3; w++) {
      for (let i = 0; i < 5; i++) a.admit();
      a.adjust(0.99);
    }
    expect(a.shedShare).toBeCloseTo(0.2);
  });

  it("reads nothing into a window with too few answers", () => {
    const a = new Admission(() => 0);
    a.answeredWith(true);
    a.answeredWith(true);
    a.adjust(0.2);
    expect(a.shedShare).toBe(0);
  });
});
