// The formats `replay --format <name>` knows. A new one is a module like hillstrom.ts, added here.
import { hillstrom } from "./hillstrom.ts";
import type { ReplayFormat } from "./format.ts";
import { seedClickstream } from "./seed-clickstream.ts";
import { segment } from "./segment.ts";

export const FORMATS: Readonly<Record<string, ReplayFormat>> = Object.freeze({
  [seedClickstream.name]: seedClickstream,
  [hillstrom.name]: hillstrom,
  [segment.name]: segment,
});

export function formatNamed(name: string): ReplayFormat | undefined {
  return Object.hasOwn(FORMATS, name) ? FORMATS[name] : undefined;
}
