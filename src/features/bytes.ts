// Varint bytes in and out of reusable buffers, for the compact customer records and the checkpoint
// parts built from them. Hand-written: the libraries that do varints (protobufjs's Writer/Reader)
// queue an operation object per field and allocate a buffer per message, where a customer record is
// written on every hot-set eviction and read on every miss; these write into one growing buffer and
// read from a view without allocating.

/** Node's latin1 slice of a byte range (Buffer's own, applied to a Uint8Array); absent elsewhere. */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice?: (this: Uint8Array, start: number, end: number) => string }).latin1Slice;

/** Numbers written as integers: |v| below this (2^51) keep their zigzag doubled within 2^53. */
const INT_LIMIT = 2 ** 51;

export class ByteWriter {
  buf: Uint8Array;
  len = 0;
  private f64 = new Float64Array(1);
  private f64b = new Uint8Array(this.f64.buffer);

  constructor(initial = 1024) {
    this.buf = new Uint8Array(initial);
  }

  reset(): this {
    this.len = 0;
    return this;
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.len++] = b;
  }

  /** An unsigned integer (0 ≤ v < 2^53), 7 bits a byte. */
  uvar(v: number): void {
    if (v < 0x80 && this.len < this.buf.length) {
      // Most numbers in a record take one byte.
      this.buf[this.len++] = v;
      return;
    }
    this.room(8);
    const b = this.buf;
    while (v >= 0x80) {
      b[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[this.len++] = v;
  }

  /**
   * Any number, exactly: an integer of magnitude under 2^51 as a doubled zigzag varint (1 byte for
   * −32…63), anything else (fractions, larger, NaN, ±Infinity) as the tag 1 and its 8 bytes.
   */
  num(v: number): void {
    if ((v | 0) === v) this.uvar(v >= 0 ? v * 4 : -v * 4 - 2);
    else if (Number.isInteger(v) && v > -INT_LIMIT && v < INT_LIMIT) this.uvar(v >= 0 ? v * 4 : -v * 4 - 2);
    else {
      this.uvar(1);
      this.f64[0] = v;
      this.room(8);
      this.buf.set(this.f64b, this.len);
      this.len += 8;
    }
  }

  /** A string's UTF-16 code units, each a varint (one byte for ASCII), after its length. */
  str(s: string): void {
    this.uvar(s.length);
    for (let i = 0; i < s.length; i++) this.uvar(s.charCodeAt(i));
  }

  bytes(src: Uint8Array): void {
    this.room(src.length);
    this.buf.set(src, this.len);
    this.len += src.length;
  }

  /** The bytes written so far (a view: copy it before the next reset). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

export class ByteReader {
  buf: Uint8Array = new Uint8Array(0);
  pos = 0;
  end = 0;
  private f64 = new Float64Array(1);
  private f64b = new Uint8Array(this.f64.buffer);

  /** Reads buf[pos, end). */
  reset(buf: Uint8Array, pos = 0, end = buf.length): this {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
    return this;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new RangeError(`record ends at byte ${this.end}, ${n} more needed at ${this.pos}`);
  }

  byte(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  uvar(): number {
    // Most numbers in a record take one byte.
    const p = this.pos;
    if (p < this.end) {
      const b = this.buf[p]!;
      if (b < 0x80) {
        this.pos = p + 1;
        return b;
      }
    }
    return this.uvarLong();
  }

  private uvarLong(): number {
    let v = 0;
    let mul = 1;
    for (;;) {
      this.need(1);
      const b = this.buf[this.pos++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 0x80;
      if (mul > 2 ** 56) throw new RangeError(`varint longer than 8 bytes at ${this.pos}`);
    }
  }

  num(): number {
    const u = this.uvar();
    if (u === 1) {
      this.need(8);
      this.f64b.set(this.buf.subarray(this.pos, this.pos + 8));
      this.pos += 8;
      return this.f64[0]!;
    }
    // u is 4v (v ≥ 0) or −4v − 2 (v < 0); in integer arithmetic while it fits 31 bits.
    if (u < 0x80000000) return u & 2 ? -((u + 2) >>> 2) : u >>> 2;
    const z = u / 2;
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  str(): string {
    return this.chars(this.uvar());
  }

  /** n code units as str() writes them: ASCII (each one byte, its own code) sliced in one call. */
  chars(n: number): string {
    if (n === 0) return "";
    const p = this.pos;
    const b = this.buf;
    if (latin1Slice && p + n <= this.end) {
      let i = p;
      while (i < p + n && b[i]! < 0x80) i++;
      if (i === p + n) {
        this.pos = i;
        // Session keys and ids are ASCII: one native slice was half the time of building the
        // string a code unit at a time (bench of 50,000 session keys, 377 → 191 ns with a Map.set).
        return latin1Slice.call(b, p, i);
      }
    }
    let s = "";
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.uvar());
    return s;
  }

  bytes(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}
