import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatIPv6, ipWords, parseCidr } from '../common/cidr.js';

/** Addresses one pool hands out at most (a /8 would otherwise be 16 million map entries). */
export const MAX_POOL = 65_536;

function toBig(words: Uint32Array): bigint {
  let n = 0n;
  for (const w of words) n = (n << 32n) | BigInt(w);
  return n;
}

function fromBig(n: bigint, family: 4 | 6): string {
  if (family === 4) {
    const v = Number(n);
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  const w = new Uint32Array(4);
  for (let i = 3; i >= 0; i--) {
    w[i] = Number(n & 0xffffffffn);
    n >>= 32n;
  }
  return formatIPv6(w);
}

/**
 * mihomo's fake-ip pool: each domain gets an address of `fake-ip-range` (the network's first
 * address and the one after it — the gateway — are skipped, as is the last), handed out in
 * turn; once every address was given, the next domain takes the address given longest ago and
 * its old domain is forgotten. Domain↔IP is one bounded pair of maps. With a store file
 * (`profile.store-fake-ip`) the mapping is written atomically (temporary file, then rename) a
 * moment after it changes and on close, and read back at start when the range is the same.
 */
export class FakeIpPool {
  readonly range: string;
  readonly family: 4 | 6;
  readonly #first: bigint;
  readonly #size: number;
  readonly #prefixBits: number;
  readonly #base: bigint;
  readonly #byDomain = new Map<string, number>();
  readonly #byOffset = new Map<number, string>();
  #cursor = 0;
  #file: string | undefined;
  #saveTimer: NodeJS.Timeout | undefined;
  #dirty = false;
  /** told of every address handed out to a new domain (the cluster's primary copies it to the workers) */
  onAssign: ((ip: string, domain: string) => void) | undefined;

  constructor(range: string, opts: { file?: string; maxSize?: number } = {}) {
    const c = parseCidr(range);
    if (!c) throw new Error(`invalid fake-ip range ${range}`);
    this.range = range;
    this.family = c.family;
    const bits = c.family === 4 ? 32 : 128;
    this.#prefixBits = c.prefix;
    const host = bits - c.prefix;
    const mask = ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(host)) - 1n);
    this.#base = toBig(c.words) & mask;
    const total = 1n << BigInt(host);
    // network, gateway and (IPv4) broadcast are never handed out
    const usable = total - (c.family === 4 ? 3n : 2n);
    if (usable < 1n) throw new Error(`fake-ip range ${range} is too small`);
    this.#first = this.#base + 2n;
    const cap = BigInt(opts.maxSize ?? MAX_POOL);
    this.#size = Number(usable < cap ? usable : cap);
    this.#file = opts.file;
    if (this.#file) this.#load();
  }

  /** Addresses it can hand out. */
  get capacity(): number {
    return this.#size;
  }

  /** Domains mapped now. */
  get size(): number {
    return this.#byDomain.size;
  }

  /** The fake address of `domain`, assigned now if it has none. */
  lookup(domain: string): string {
    const d = domain.toLowerCase().replace(/\.$/, '');
    let off = this.#byDomain.get(d);
    if (off === undefined) {
      off = this.#cursor;
      this.#cursor = (this.#cursor + 1) % this.#size;
      const old = this.#byOffset.get(off);
      if (old !== undefined) this.#byDomain.delete(old);
      this.#byOffset.set(off, d);
      this.#byDomain.set(d, off);
      this.#changed();
      const ip = fromBig(this.#first + BigInt(off), this.family);
      this.onAssign?.(ip, d);
      return ip;
    }
    return fromBig(this.#first + BigInt(off), this.family);
  }

  /**
   * Sets one mapping as another pool handed it out (a cluster worker's copy of the primary's):
   * the address's old domain and the domain's old address are forgotten. False when `ip` is not
   * an address of this pool.
   */
  assign(ip: string, domain: string): boolean {
    const w = ipWords(ip);
    if (!w || (w.length === 1) !== (this.family === 4) || domain.length === 0 || domain.length > 253) return false;
    const big = toBig(w) - this.#first;
    if (big < 0n || big >= BigInt(this.#size)) return false;
    const off = Number(big);
    const d = domain.toLowerCase().replace(/\.$/, '');
    const oldDomain = this.#byOffset.get(off);
    if (oldDomain !== undefined) this.#byDomain.delete(oldDomain);
    const oldOff = this.#byDomain.get(d);
    if (oldOff !== undefined) this.#byOffset.delete(oldOff);
    this.#byOffset.set(off, d);
    this.#byDomain.set(d, off);
    this.#cursor = (off + 1) % this.#size;
    this.#changed();
    return true;
  }

  /** Every mapping, as [address, domain] (what a new cluster worker is sent). */
  entries(): [string, string][] {
    return [...this.#byOffset].map(([off, d]) => [fromBig(this.#first + BigInt(off), this.family), d]);
  }

  /** Stops keeping the store file (a cluster worker's copy: the primary's pool is the one kept). */
  detachStore(): void {
    if (this.#saveTimer) clearTimeout(this.#saveTimer);
    this.#saveTimer = undefined;
    this.#file = undefined;
    this.#dirty = false;
  }

  /** Whether `ip` lies in the pool's range (a fake address, mapped or not). */
  contains(ip: string): boolean {
    const w = ipWords(ip);
    if (!w || (w.length === 1) !== (this.family === 4)) return false;
    const bits = this.family === 4 ? 32 : 128;
    return toBig(w) >> BigInt(bits - this.#prefixBits) === this.#base >> BigInt(bits - this.#prefixBits);
  }

  /** The domain a fake address stands for, or undefined. */
  reverse(ip: string): string | undefined {
    const w = ipWords(ip);
    if (!w || (w.length === 1) !== (this.family === 4)) return undefined;
    const off = toBig(w) - this.#first;
    if (off < 0n || off >= BigInt(this.#size)) return undefined;
    return this.#byOffset.get(Number(off));
  }

  /** Forgets every mapping (POST /cache/fakeip/flush). */
  flush(): void {
    this.#byDomain.clear();
    this.#byOffset.clear();
    this.#cursor = 0;
    this.#changed();
  }

  /** Takes over another pool's mappings (a reload with the same range keeps the addresses). */
  cloneFrom(other: FakeIpPool): void {
    if (other.range !== this.range || other.#size !== this.#size) return;
    this.#byDomain.clear();
    this.#byOffset.clear();
    for (const [d, off] of other.#byDomain) {
      this.#byDomain.set(d, off);
      this.#byOffset.set(off, d);
    }
    this.#cursor = other.#cursor;
  }

  #changed(): void {
    if (!this.#file) return;
    this.#dirty = true;
    if (this.#saveTimer) return;
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = undefined;
      this.save();
    }, 1000);
    this.#saveTimer.unref();
  }

  /** Writes the store file now if anything changed (atomic: a temporary file renamed over it). */
  save(): void {
    if (!this.#file || !this.#dirty) return;
    this.#dirty = false;
    const body = JSON.stringify({ range: this.range, cursor: this.#cursor, entries: [...this.#byOffset] });
    try {
      mkdirSync(dirname(this.#file), { recursive: true });
      const tmp = `${this.#file}.${process.pid}.tmp`;
      writeFileSync(tmp, body);
      renameSync(tmp, this.#file);
    } catch {
      this.#dirty = true; // try again at the next change or close
    }
  }

  #load(): void {
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(this.#file!, 'utf8'));
    } catch {
      return; // absent or unreadable: start empty
    }
    if (typeof data !== 'object' || data === null) return;
    const d = data as { range?: unknown; cursor?: unknown; entries?: unknown };
    if (d.range !== this.range || !Array.isArray(d.entries)) return;
    for (const e of d.entries.slice(0, this.#size)) {
      if (!Array.isArray(e) || typeof e[0] !== 'number' || typeof e[1] !== 'string') continue;
      const [off, dom] = e as [number, string];
      if (!Number.isInteger(off) || off < 0 || off >= this.#size || dom.length > 253) continue;
      this.#byOffset.set(off, dom);
      this.#byDomain.set(dom, off);
    }
    if (typeof d.cursor === 'number' && Number.isInteger(d.cursor) && d.cursor >= 0 && d.cursor < this.#size) this.#cursor = d.cursor;
  }

  /** Saves and stops the save timer. */
  close(): void {
    if (this.#saveTimer) clearTimeout(this.#saveTimer);
    this.#saveTimer = undefined;
    this.save();
  }
}
