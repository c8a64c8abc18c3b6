// Variable-length byte records (customers) in 1 MiB chunks: blocks of a few size classes, freed blocks
// kept per class for reuse. Hand-written: no npm allocator manages blocks inside typed arrays, and
// typed arrays are what keeps millions of customers out of the garbage collector's way (a 10M-customer
// store in objects was ~29 GB of heap; in chunks the collector sees a few thousand buffers).
//
// A block's address is its offset in 8-byte units, so a Uint32 column addresses 32 GiB. Blocks never
// straddle chunks: a block that does not fit in the current chunk's rest starts the next chunk, and the
// rest is cut into free blocks of the largest classes that fit.

/** Block sizes in bytes, multiples of 8: every 8 up to 128 (where most customers are), then ≤ ~25% apart. */
export const BLOCK_SIZES: readonly number[] = [
  16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 104, 112, 120, 128, 144, 160, 176, 192, 224, 256, 288, 320, 384, 448, 512, 640, 768, 896, 1024, 1280, 1536, 1792, 2048, 2560,
  3072, 3584, 4096, 5120, 6144, 7168, 8192, 10240, 12288, 14336, 16384, 20480, 24576, 28672, 32768,
];
/** The largest record a block holds; larger ones are the caller's to keep elsewhere. */
export const MAX_BLOCK = BLOCK_SIZES[BLOCK_SIZES.length - 1]!;

const CHUNK_BYTES = 1 << 20;
const UNITS_PER_CHUNK = CHUNK_BYTES / 8;

/** classOf[n >> 3] (n rounded up to 8): the smallest class holding n bytes. */
const CLASS_OF = (() => {
  const t = new Uint8Array(MAX_BLOCK / 8 + 1);
  let k = 0;
  for (let units = 0; units <= MAX_BLOCK / 8; units++) {
    while (BLOCK_SIZES[k]! < units * 8) k++;
    t[units] = k;
  }
  return t;
})();

/** The class (index into BLOCK_SIZES) of the smallest block holding `bytes`; −1 when none does. */
export function blockClass(bytes: number): number {
  if (bytes > MAX_BLOCK) return -1;
  return CLASS_OF[(bytes + 7) >>> 3]!;
}

export class BlockArena {
  private readonly chunks: Uint8Array[] = [];
  /** Next free unit in the last chunk (bump allocation). */
  private top = 0;
  private readonly free: Uint32Array[] = BLOCK_SIZES.map(() => new Uint32Array(16));
  private readonly freeLen = new Int32Array(BLOCK_SIZES.length);
  /** Bytes in blocks handed out and not released. */
  liveBytes = 0;

  /** Bytes of chunks allocated (what the arena costs in RSS once touched). */
  get chunkBytes(): number {
    return this.chunks.length * CHUNK_BYTES;
  }

  get chunkCount(): number {
    return this.chunks.length;
  }

  alloc(cls: number): number {
    this.liveBytes += BLOCK_SIZES[cls]!;
    const n = this.freeLen[cls]!;
    if (n > 0) {
      this.freeLen[cls] = n - 1;
      return this.free[cls]![n - 1]!;
    }
    const units = BLOCK_SIZES[cls]! >>> 3;
    const chunk = this.chunks.length - 1;
    if (chunk < 0 || this.top + units > (chunk + 1) * UNITS_PER_CHUNK) {
      if (chunk >= 0) this.freeRest();
      this.chunks.push(new Uint8Array(CHUNK_BYTES));
      this.top = (this.chunks.length - 1) * UNITS_PER_CHUNK;
    }
    const addr = this.top;
    this.top += units;
    return addr;
  }

  /** The last chunk's unused rest becomes free blocks (largest classes first). */
  private freeRest(): void {
    const end = this.chunks.length * UNITS_PER_CHUNK;
    let k = BLOCK_SIZES.length - 1;
    while (this.top < end && k >= 0) {
      const units = BLOCK_SIZES[k]! >>> 3;
      if (this.top + units <= end) {
        this.push(k, this.top);
        this.top += units;
      } else k--;
    }
    this.top = end;
  }

  private push(cls: number, addr: number): void {
    let list = this.free[cls]!;
    const n = this.freeLen[cls]!;
    if (n === list.length) {
      const grown = new Uint32Array(list.length * 2);
      grown.set(list);
      this.free[cls] = list = grown;
    }
    list[n] = addr;
    this.freeLen[cls] = n + 1;
  }

  release(addr: number, cls: number): void {
    this.liveBytes -= BLOCK_SIZES[cls]!;
    this.push(cls, addr);
  }

  /** The chunk holding a block and the block's byte offset in it. */
  chunkOf(addr: number): Uint8Array {
    return this.chunks[Math.floor(addr / UNITS_PER_CHUNK)]!;
  }

  offsetOf(addr: number): number {
    return (addr % UNITS_PER_CHUNK) * 8;
  }
}
