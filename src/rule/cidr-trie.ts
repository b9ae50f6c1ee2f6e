import type { Cidr } from '../common/cidr.js';
import { firstAtLeast } from './first-at-least.js';

const V4_ROOT = 0;
const V6_ROOT = 1;
/** child slot value meaning "no child": no node but a root can be 0 */
const NONE = 0;

/**
 * A binary trie of IP prefixes mapping each to the rule indices that carry it, so a run of
 * IP-CIDR rules is matched in one walk of at most 32 (IPv4) or 128 (IPv6) steps however many
 * rules it holds. Nodes live in typed arrays: a million nodes cost 12 MB, not a million objects.
 */
export class CidrTrie {
  #left = new Int32Array(64);
  #right = new Int32Array(64);
  #value = new Int32Array(64).fill(-1);
  #nodes = 2;
  /** every index of prefixes written more than once, ascending */
  readonly #all = new Map<number, number[]>();

  /** Number of trie nodes, for tests and memory estimates. */
  get nodeCount(): number {
    return this.#nodes;
  }

  /** Adds a prefix for rule `index`; indices must arrive in increasing order. */
  insert(cidr: Cidr, index: number): void {
    let node = cidr.family === 4 ? V4_ROOT : V6_ROOT;
    for (let b = 0; b < cidr.prefix; b++) {
      const bit = (cidr.words[b >>> 5] >>> (31 - (b & 31))) & 1;
      const side = bit ? this.#right : this.#left;
      let child = side[node];
      if (child === NONE) {
        child = this.#alloc();
        (bit ? this.#right : this.#left)[node] = child; // #alloc may have replaced the arrays
      }
      node = child;
    }
    const first = this.#value[node];
    if (first < 0) {
      this.#value[node] = index;
      return;
    }
    const all = this.#all.get(node);
    if (all) all.push(index);
    else this.#all.set(node, [first, index]);
  }

  /** The smallest rule index ≥ `from` whose prefix contains the IP (as words), or -1. */
  lookup(ip: Uint32Array, from = 0): number {
    const bits = ip.length === 1 ? 32 : 128;
    let node = ip.length === 1 ? V4_ROOT : V6_ROOT;
    let best = -1;
    for (let b = 0; ; b++) {
      const first = this.#value[node];
      if (first >= 0) {
        const hit = first >= from ? first : this.#atLeast(node, from);
        if (hit >= 0 && (best < 0 || hit < best)) best = hit;
      }
      if (b === bits) break;
      const bit = (ip[b >>> 5] >>> (31 - (b & 31))) & 1;
      node = bit ? this.#right[node] : this.#left[node];
      if (node === NONE) break;
    }
    return best;
  }

  #atLeast(node: number, from: number): number {
    const all = this.#all.get(node);
    return all ? firstAtLeast(all, from) : -1;
  }

  #alloc(): number {
    if (this.#nodes === this.#value.length) {
      const cap = this.#value.length * 2;
      const grow = (a: Int32Array, fill: number) => {
        const n = new Int32Array(cap).fill(fill);
        n.set(a);
        return n;
      };
      this.#left = grow(this.#left, NONE);
      this.#right = grow(this.#right, NONE);
      this.#value = grow(this.#value, -1);
    }
    return this.#nodes++;
  }
}
