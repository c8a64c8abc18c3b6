import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { answerKey, answerPublish, eventIdOfAnswerKey } from "./answer.ts";

describe("answer keys", () => {
  it("hold any event id the contract allows, as a valid KV key, and give it back", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9._:@-]{1,128}$/), (id) => {
        const key = answerKey(id);
        expect(key).toMatch(/^[-_A-Za-z0-9]+$/);
        expect(eventIdOfAnswerKey(key)).toBe(id);
      }),
      { seed: 22, numRuns: 500 },
    );
  });

  it("are published on the bucket's KV subject with the answer's msg id", () => {
    expect(answerPublish("PS_ANSWERS", "web:1@x")).toEqual({ subject: `$KV.PS_ANSWERS.${answerKey("web:1@x")}`, msgID: "a-web:1@x" });
  });
});
