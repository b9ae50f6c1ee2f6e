/** Flags of an entry of the table. */
export const EXACT = 1;
export const UNDER = 2;

const SEED = 0x811c9dc5;
const PRIME = 0x01000193;

/**
 * An open-addressing hash table of lower-case ASCII names packed in one byte buffer: no string
 * object per entry (a million names cost ~40 MB instead of ~100 MB of strings and Set slots)
 * and no allocation per lookup. Names are hashed from the right (FNV-1a over the characters
 * last to first), so a right-to-left walk of a host has, at each dot, the hash of the suffix
 * after it: one probe per label, no slicing.
 */
export class DomainTable {
  #bytes = new Uint8Array(1 << 16);
  #used = 0;
  #off = new Uint32Array(1 << 10);
  #len = new Uint16Array(1 << 10);
  #hash = new Uint32Array(1 << 10);
  #flags = new Uint8Array(1 << 10);
  #count = 0;
  /** slot → entry index + 1; 0 = empty */
  #slots = new Int32Array(1 << 11);
  #mask = (1 << 11) - 1;

  /** distinct names held */
  get size(): number {
    return this.#count;
  }

  /** Hash of name[from, to) as the lookups compute it (right to left). */
  static hashOf(name: string, from: number, to: number): number {
    let h = SEED;
    for (let i = to - 1; i >= from; i--) h = Math.imul(h ^ name.charCodeAt(i), PRIME);
    return h >>> 0;
  }

  /** Adds `name` (lower-case ASCII, at most 65535 characters) with `flag`. */
  add(name: string, flag: number): void {
    const h = DomainTable.hashOf(name, 0, name.length);
    const found = this.#find(h, name, 0, name.length);
    if (found >= 0) {
      this.#flags[found] |= flag;
      return;
    }
    if (this.#count === this.#off.length) this.#growEntries();
    if (this.#used + name.length > this.#bytes.length) {
      const next = new Uint8Array(Math.max(this.#bytes.length * 2, this.#used + name.length));
      next.set(this.#bytes.subarray(0, this.#used));
      this.#bytes = next;
    }
    const e = this.#count++;
    this.#off[e] = this.#used;
    this.#len[e] = name.length;
    this.#hash[e] = h;
    this.#flags[e] = flag;
    const bytes = this.#bytes;
    for (let i = 0; i < name.length; i++) bytes[this.#used + i] = name.charCodeAt(i);
    this.#used += name.length;
    if (this.#count * 2 > this.#slots.length) this.#rehash(this.#slots.length * 2);
    else this.#place(e);
  }

  /** The flags of name[from, to) whose hash is `h`, or 0. */
  flagsAt(h: number, name: string, from: number, to: number): number {
    const e = this.#find(h, name, from, to);
    return e >= 0 ? this.#flags[e] : 0;
  }

  /**
   * Whether `name` (lower case) is held as EXACT, or any of its proper suffixes after a dot is
   * held as UNDER. One pass from the right, one probe per label.
   */
  matches(name: string): boolean {
    let h = SEED;
    const end = name.length;
    for (let i = end - 1; i >= 0; i--) {
      const c = name.charCodeAt(i);
      if (c === 0x2e && i < end - 1 && (this.flagsAt(h >>> 0, name, i + 1, end) & UNDER) !== 0) return true;
      h = Math.imul(h ^ c, PRIME);
    }
    return (this.flagsAt(h >>> 0, name, 0, end) & EXACT) !== 0;
  }

  /** Every entry with its flags. */
  *entries(): Generator<[string, number]> {
    const dec = new TextDecoder('latin1');
    for (let e = 0; e < this.#count; e++) {
      yield [dec.decode(this.#bytes.subarray(this.#off[e], this.#off[e] + this.#len[e])), this.#flags[e]];
    }
  }

  #find(h: number, name: string, from: number, to: number): number {
    const len = to - from;
    const slots = this.#slots;
    const mask = this.#mask;
    const bytes = this.#bytes;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const v = slots[s];
      if (v === 0) return -1;
      const e = v - 1;
      if (this.#hash[e] !== h || this.#len[e] !== len) continue;
      const off = this.#off[e];
      let i = 0;
      while (i < len && bytes[off + i] === name.charCodeAt(from + i)) i++;
      if (i === len) return e;
    }
  }

  #place(e: number): void {
    const mask = this.#mask;
    let s = this.#hash[e] & mask;
    while (this.#slots[s] !== 0) s = (s + 1) & mask;
    this.#slots[s] = e + 1;
  }

  #rehash(size: number): void {
    this.#slots = new Int32Array(size);
    this.#mask = size - 1;
    for (let e = 0; e < this.#count; e++) this.#place(e);
  }

  #growEntries(): void {
    const n = this.#off.length * 2;
    const grow = <T extends Uint32Array | Uint16Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.#off = grow(this.#off, (k) => new Uint32Array(k));
    this.#len = grow(this.#len, (k) => new Uint16Array(k));
    this.#hash = grow(this.#hash, (k) => new Uint32Array(k));
    this.#flags = grow(this.#flags, (k) => new Uint8Array(k));
  }
}
