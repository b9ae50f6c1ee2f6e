/** Flags of an entry of the table. */
export const EXACT = 1;
export const UNDER = 2;
/** the name itself matches too, without an exact key of its own (an mrs `+.x` key; see mrs.ts) */
export const BASE = 4;

const SEED = 0x811c9dc5;
const PRIME = 0x01000193;
/** bytes before each name in the buffer: length (2, little end first), flags (1) */
const HEAD = 3;

/**
 * An open-addressing hash table of lower-case ASCII names packed in one byte buffer: no string
 * object per entry (a million names cost ~45 MB instead of ~100 MB of strings and Set slots)
 * and no allocation per lookup. Names are hashed from the right (FNV-1a over the characters
 * last to first), so a right-to-left walk of a host has, at each dot, the hash of the suffix
 * after it: one probe per label, no slicing.
 *
 * Memory touched per probe: a slot holds [hash, offset + 1], so a probe that misses reads one
 * cache line; a hit reads one more, where the entry's length and flags sit right before its
 * characters. Entries are added from any range of a string (a payload's line, unsliced).
 */
export class DomainTable {
  /** per entry: length (2 bytes), flags (1), the name's characters */
  #bytes = new Uint8Array(1 << 16);
  #used = 0;
  #count = 0;
  /** per slot: [hash, entry offset + 1]; 0 = empty */
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

  /** Adds text[from, to) (lower-case ASCII, at most 65535 characters) with `flag`. */
  add(text: string, flag: number, from = 0, to = text.length): void {
    const h = DomainTable.hashOf(text, from, to);
    const found = this.#find(h, text, from, to);
    if (found >= 0) {
      this.#bytes[found + 2] |= flag;
      return;
    }
    const len = to - from;
    if (this.#used + HEAD + len > this.#bytes.length) {
      // grow by half: the buffer is most of the table, doubling would leave up to half unused
      const next = new Uint8Array(Math.max(this.#bytes.length + (this.#bytes.length >>> 1), this.#used + HEAD + len));
      next.set(this.#bytes.subarray(0, this.#used));
      this.#bytes = next;
    }
    const bytes = this.#bytes;
    const off = this.#used;
    bytes[off] = len & 0xff;
    bytes[off + 1] = len >>> 8;
    bytes[off + 2] = flag;
    for (let i = 0; i < len; i++) bytes[off + HEAD + i] = text.charCodeAt(from + i);
    this.#used = off + HEAD + len;
    this.#count++;
    if (this.#count * 2 > this.#mask + 1) this.#rehash((this.#mask + 1) * 2);
    this.#place(h, off);
  }

  /** The flags of name[from, to) whose hash is `h`, or 0. */
  flagsAt(h: number, name: string, from: number, to: number): number {
    const off = this.#find(h, name, from, to);
    return off >= 0 ? this.#bytes[off + 2] : 0;
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

  /** Every entry with its flags, in the order added. */
  *entries(): Generator<[string, number]> {
    const dec = new TextDecoder('latin1');
    const bytes = this.#bytes;
    for (let off = 0; off < this.#used; ) {
      const len = bytes[off] | (bytes[off + 1] << 8);
      yield [dec.decode(bytes.subarray(off + HEAD, off + HEAD + len)), bytes[off + 2]];
      off += HEAD + len;
    }
  }

  /** The offset of the entry text[from, to) whose hash is `h`, or -1. */
  #find(h: number, name: string, from: number, to: number): number {
    const len = to - from;
    const slots = this.#slots;
    const mask = this.#mask;
    const bytes = this.#bytes;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const v = slots[2 * s + 1];
      if (v === 0) return -1;
      if (slots[2 * s] !== h) continue;
      const off = v - 1;
      if ((bytes[off] | (bytes[off + 1] << 8)) !== len) continue;
      const at = off + HEAD;
      let i = 0;
      while (i < len && bytes[at + i] === name.charCodeAt(from + i)) i++;
      if (i === len) return off;
    }
  }

  #place(h: number, off: number): void {
    const mask = this.#mask;
    const slots = this.#slots;
    let s = h & mask;
    while (slots[2 * s + 1] !== 0) s = (s + 1) & mask;
    slots[2 * s] = h;
    slots[2 * s + 1] = off + 1;
  }

  #rehash(size: number): void {
    const old = this.#slots;
    this.#slots = new Uint32Array(size * 2);
    this.#mask = size - 1;
    for (let s = 0; s < old.length; s += 2) if (old[s + 1] !== 0) this.#place(old[s], old[s + 1] - 1);
  }
}
