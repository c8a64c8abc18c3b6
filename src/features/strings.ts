// Product ids and categories shared by many customer records: each is written once in the table and
// referred to by number in the records. The table only grows (ids never change meaning, so a record
// written long ago still reads right), up to `max` strings; past it a string is written inline in the
// record instead, so a stream of ever-new product ids cannot grow memory without bound.
import type { ByteReader, ByteWriter } from "./bytes.ts";

export class StringTable {
  private readonly ids = new Map<string, number>();
  readonly list: string[] = [];

  /**
   * While set, a string not in the table is written inline and not added: a checkpoint encoding a
   * decoded customer must leave the table as the loop has it (FeatureStore.currentRecord).
   */
  frozen = false;

  constructor(readonly max = 1 << 20) {}

  get size(): number {
    return this.list.length;
  }

  /** The string's number, adding it while there is room; −1 when the table is full (or frozen). */
  intern(s: string): number {
    let id = this.ids.get(s);
    if (id !== undefined) return id;
    if (this.frozen || this.list.length >= this.max) return -1;
    id = this.list.length;
    this.list.push(s);
    this.ids.set(s, id);
    return id;
  }

  /** Writes a reference (2 × id) or, when the table is full, the string inline (2 × length + 1, then its code units). */
  write(w: ByteWriter, s: string): void {
    const id = this.intern(s);
    if (id >= 0) {
      w.uvar(id * 2);
      return;
    }
    w.uvar(s.length * 2 + 1);
    for (let i = 0; i < s.length; i++) w.uvar(s.charCodeAt(i));
  }

  read(r: ByteReader): string {
    const u = r.uvar();
    if (u % 2 === 0) {
      const s = this.list[u / 2];
      if (s === undefined) throw new RangeError(`string ${u / 2} is not in the table (${this.list.length} strings)`);
      return s;
    }
    return r.chars((u - 1) / 2);
  }

  /** Adds the strings of another table's tail (a checkpoint's new strings), which must follow this one's. */
  extend(from: number, strings: readonly string[]): void {
    if (from !== this.list.length) throw new RangeError(`string table holds ${this.list.length} strings, the part adds from ${from}`);
    for (const s of strings) {
      this.ids.set(s, this.list.length);
      this.list.push(s);
    }
  }
}
