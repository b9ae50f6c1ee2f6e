/** Flags of an entry of the table. */
export const EXACT = 1;
export const UNDER = 2;
/** the name itself matches too, without an exact key of its own (an mrs `+.x` key; see mrs.ts) */
export const BASE = 4;

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
  /** per entry: [offset, length | flags << 16] (one cache line holds both) */
  #meta = new Uint32Array(1 << 11);
  #count = 0;
  /** per slot: [hash, entry index + 1]; 0 = empty. The hash beside the index: a probe that misses touches one line */
  #slots = new Uint32Array(1 << 12);
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
      this.#meta[2 * found + 1] |= flag << 16;
      return;
    }
    if (2 * this.#count === this.#meta.length) {
      const next = new Uint32Array(this.#meta.length * 2);
      next.set(this.#meta);
      this.#meta = next;
    }
    if (this.#used + name.length > this.#bytes.length) {
      const next = new Uint8Array(Math.max(this.#bytes.length * 2, this.#used + name.length));
      next.set(this.#bytes.subarray(0, this.#used));
      this.#bytes = next;
    }
    const e = this.#count++;
    this.#meta[2 * e] = this.#used;
    this.#meta[2 * e + 1] = name.length | (flag << 16);
    const bytes = this.#bytes;
    for (let i = 0; i < name.length; i++) bytes[this.#used + i] = name.charCodeAt(i);
    this.#used += name.length;
    if (this.#count * 2 > this.#mask + 1) this.#rehash((this.#mask + 1) * 2);
    this.#place(h, e);
  }

  /** The flags of name[from, to) whose hash is `h`, or 0. */
  flagsAt(h: number, name: string, from: number, to: number): number {
    const e = this.#find(h, name, from, to);
    return e >= 0 ? this.#meta[2 * e + 1] >>> 16 : 0;
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
    return (this.flagsAt(h >>> 0, name, 0, end) & (EXACT | BASE)) !== 0;
  }

  /** Every entry with its flags. */
  *entries(): Generator<[string, number]> {
    const dec = new TextDecoder('latin1');
    for (let e = 0; e < this.#count; e++) {
      const off = this.#meta[2 * e];
      const word = this.#meta[2 * e + 1];
      yield [dec.decode(this.#bytes.subarray(off, off + (word & 0xffff))), word >>> 16];
    }
  }

  #find(h: number, name: string, from: number, to: number): number {
    const len = to - from;
    const slots = this.#slots;
    const mask = this.#mask;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const v = slots[2 * s + 1];
      if (v === 0) return -1;
      if (slots[2 * s] !== h) continue;
      const e = v - 1;
      const meta = this.#meta;
      if ((meta[2 * e + 1] & 0xffff) !== len) continue;
      const off = meta[2 * e];
      const bytes = this.#bytes;
      let i = 0;
      while (i < len && bytes[off + i] === name.charCodeAt(from + i)) i++;
      if (i === len) return e;
    }
  }

  #place(h: number, e: number): void {
    const mask = this.#mask;
    const slots = this.#slots;
    let s = h & mask;
    while (slots[2 * s + 1] !== 0) s = (s + 1) & mask;
    slots[2 * s] = h;
    slots[2 * s + 1] = e + 1;
  }

  #rehash(size: number): void {
    const old = this.#slots;
    this.#slots = new Uint32Array(size * 2);
    this.#mask = size - 1;
    for (let s = 0; s < old.length; s += 2) if (old[s + 1] !== 0) this.#place(old[s], old[s + 1] - 1);
  }
}
