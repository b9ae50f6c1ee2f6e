import { parseCidr, type Cidr } from '../common/cidr.js';
import { fastV4, readIp } from '../common/ip-text.js';
import type { IpSet } from '../core/geo.js';

/** the words of the IP a lookup asks about (lookups are synchronous: one buffer serves all) */
const scratch = new Uint32Array(4);

/** One range of IPv6 addresses as words: start[4], end[4], inclusive. */
type Range6 = readonly [Uint32Array, Uint32Array];

function cmp6(a: ArrayLike<number>, ai: number, b: ArrayLike<number>, bi: number): number {
  for (let k = 0; k < 4; k++) {
    const x = a[ai + k] >>> 0;
    const y = b[bi + k] >>> 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** a + 1 over four words; undefined on overflow (a = all ones). */
function inc6(a: Uint32Array): Uint32Array | undefined {
  const r = Uint32Array.from(a);
  for (let k = 3; k >= 0; k--) {
    if (r[k] !== 0xffffffff) {
      r[k]++;
      return r;
    }
    r[k] = 0;
  }
  return undefined;
}

/** The first and last address of a prefix. */
function bounds(c: Cidr): [Uint32Array, Uint32Array] {
  const lo = Uint32Array.from(c.words);
  const hi = Uint32Array.from(c.words);
  let bits = c.prefix;
  for (let i = 0; i < lo.length; i++, bits -= 32) {
    const mask = bits >= 32 ? 0xffffffff : bits <= 0 ? 0 : ~(0xffffffff >>> bits) >>> 0;
    lo[i] = (lo[i] & mask) >>> 0;
    hi[i] = (hi[i] | ~mask) >>> 0;
  }
  return [lo, hi];
}

/**
 * An ipcidr rule-set as sorted, merged ranges (as mihomo's IpCidrSet): IPv4 in two Uint32Arrays,
 * IPv6 in flat word arrays; a lookup is one binary search. 200,000 prefixes cost a few MB.
 */
export class RangeIpSet implements IpSet {
  #v4: number[] = [];
  #v6: Range6[] = [];
  #count = 0;
  #starts4 = new Uint32Array(0);
  #ends4 = new Uint32Array(0);
  #starts6 = new Uint32Array(0);
  #ends6 = new Uint32Array(0);

  /** prefixes accepted */
  get count(): number {
    return this.#count;
  }

  /** Adds one prefix (`1.2.3.0/24`, `2001:db8::/32`, a bare IP); returns why it was refused. */
  insert(text: string): string | undefined {
    const slash = text.indexOf('/');
    if (slash > 0) {
      const v4 = fastV4(text, 0, slash);
      const p = /^\d{1,2}$/.test(text.slice(slash + 1)) ? Number(text.slice(slash + 1)) : -1;
      if (v4 >= 0 && p >= 0 && p <= 32) {
        const mask = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
        const lo = (v4 & mask) >>> 0;
        this.#count++;
        this.#v4.push(lo, (lo | ~mask) >>> 0);
        return undefined;
      }
    }
    const c = parseCidr(text.trim());
    if (!c) return 'invalid prefix';
    this.#count++;
    const [lo, hi] = bounds(c);
    if (c.family === 4) this.#v4.push(lo[0], hi[0]);
    else this.#v6.push([lo, hi]);
    return undefined;
  }

  /** Adds a range as mrs stores it (16-byte addresses; IPv4-mapped = IPv4). */
  insertRange(from: Uint32Array, to: Uint32Array): void {
    if (from.length === 1) this.#v4.push(from[0], to[0]);
    else this.#v6.push([from, to]);
  }

  /** Sorts and merges what was inserted; call once after the last insert. */
  finish(): this {
    const n4 = this.#v4.length / 2;
    const order = new Uint32Array(n4);
    for (let i = 0; i < n4; i++) order[i] = i;
    const raw = Float64Array.from(this.#v4);
    order.sort((a, b) => raw[2 * a] - raw[2 * b]);
    const s4: number[] = [];
    const e4: number[] = [];
    for (let k = 0; k < n4; k++) {
      const s = raw[2 * order[k]];
      const e = raw[2 * order[k] + 1];
      const last = e4.length - 1;
      if (last >= 0 && s <= e4[last] + 1) {
        if (e > e4[last]) e4[last] = e;
      } else {
        s4.push(s);
        e4.push(e);
      }
    }
    this.#starts4 = Uint32Array.from(s4);
    this.#ends4 = Uint32Array.from(e4);
    this.#v4 = [];

    const r6 = [...this.#v6].sort((a, b) => cmp6(a[0], 0, b[0], 0));
    const merged: [Uint32Array, Uint32Array][] = [];
    for (const [s, e] of r6) {
      const last = merged[merged.length - 1];
      const next = last ? inc6(last[1]) : undefined;
      if (last && (next === undefined || cmp6(s, 0, next, 0) <= 0)) {
        if (cmp6(e, 0, last[1], 0) > 0) last[1] = e;
      } else merged.push([s, e]);
    }
    this.#starts6 = new Uint32Array(merged.length * 4);
    this.#ends6 = new Uint32Array(merged.length * 4);
    merged.forEach(([s, e], i) => {
      this.#starts6.set(s, i * 4);
      this.#ends6.set(e, i * 4);
    });
    this.#v6 = [];
    return this;
  }

  /** number of merged ranges (IPv4 + IPv6) */
  get rangeCount(): number {
    return this.#starts4.length + this.#starts6.length / 4;
  }

  has(ip: string): boolean {
    const n = readIp(ip, scratch);
    return n === 1 ? this.hasV4(scratch[0]) : n === 4 && this.hasWords(scratch);
  }

  /** As `has`, for an IP already as words (1 for IPv4, 4 for IPv6). */
  hasWords(w: Uint32Array): boolean {
    if (w.length === 1) return this.hasV4(w[0]);
    const starts = this.#starts6;
    let lo = 0;
    let hi = starts.length / 4 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (cmp6(starts, mid * 4, w, 0) <= 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi >= 0 && cmp6(w, 0, this.#ends6, hi * 4) <= 0;
  }

  /** As `has`, for an IPv4 address as a number. */
  hasV4(x: number): boolean {
    const starts = this.#starts4;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid] <= x) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi >= 0 && x <= this.#ends4[hi];
  }

  /** The merged ranges, IPv4 first: [from, to] words (1 or 4). For the mrs writer. */
  *ranges(): Generator<[Uint32Array, Uint32Array]> {
    for (let i = 0; i < this.#starts4.length; i++) yield [Uint32Array.of(this.#starts4[i]), Uint32Array.of(this.#ends4[i])];
    for (let i = 0; i < this.#starts6.length; i += 4) yield [this.#starts6.slice(i, i + 4), this.#ends6.slice(i, i + 4)];
  }
}
