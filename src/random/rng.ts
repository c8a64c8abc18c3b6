import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { fnv1a32 } from "../events/index.ts";

/** A uniform source in [0, 1). The core never calls Math.random: it is handed one of these. */
export interface Rng {
  next(): number;
}

const TWO_POW_32 = 4294967296;

/** murmur3's 32-bit finaliser: spreads nearby seeds (event ids differing in one digit) apart. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

class XoroRng implements Rng {
  private readonly g;
  constructor(seed: number) {
    this.g = xoroshiro128plus(mix32(seed));
    // The generator's first outputs for small seeds are correlated; skip them.
    for (let i = 0; i < 4; i++) this.g.next();
  }
  next(): number {
    // Two 32-bit outputs give 53 bits, like pure-rand's uniformFloat64, without its allocations.
    const hi = (this.g.next() >>> 5) * 67108864; // 27 bits << 26
    const lo = this.g.next() >>> 6; // 26 bits
    return (hi + lo) / 9007199254740992;
  }
}

export function rngFromSeed(seed: number): Rng {
  return new XoroRng(seed >>> 0);
}

/** A generator for one key (an event id): the same key and seed give the same draws on every replay. */
export function rngFromKey(seed: number, key: string): Rng {
  // fnv1a32 hashes ASCII keys without encoding them (it once built a TextEncoder per call, which
  // showed in the decide() profile; this file had its own copy of the hash until fnv1a32 stopped).
  return new XoroRng((fnv1a32(key) ^ Math.imul(seed >>> 0, 0x9e3779b1)) >>> 0);
}

export { TWO_POW_32 };
