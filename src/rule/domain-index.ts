import { firstAtLeast } from './first-at-least.js';

/** One table: key → first rule index, plus every index for keys written more than once. */
class KeyTable {
  readonly #first = new Map<string, number>();
  readonly #all = new Map<string, number[]>();

  /** Indices must arrive in increasing order (rule order). */
  add(key: string, index: number): void {
    const first = this.#first.get(key);
    if (first === undefined) {
      this.#first.set(key, index);
      return;
    }
    const all = this.#all.get(key);
    if (all) all.push(index);
    else this.#all.set(key, [first, index]);
  }

  /** Smallest index ≥ from stored under `key`, or -1. */
  get(key: string, from: number): number {
    const first = this.#first.get(key);
    if (first === undefined) return -1;
    if (first >= from) return first;
    const all = this.#all.get(key);
    return all ? firstAtLeast(all, from) : -1;
  }

  get size(): number {
    return this.#first.size;
  }
}

function better(best: number, candidate: number): number {
  return candidate >= 0 && (best < 0 || candidate < best) ? candidate : best;
}

/**
 * DOMAIN and DOMAIN-SUFFIX rules of one run, hashed so a lookup costs one hash probe per
 * label of the host instead of one comparison per rule. Each key keeps its rule indices so
 * the answer is the first matching rule in list order, as a linear scan would give.
 *
 * A suffix `b.c` matches `b.c` and `a.b.c`: the host itself and every tail after a dot are
 * probed. That is exactly mihomo's `host == s || hasSuffix(host, "." + s)`, edge cases
 * included (an empty suffix matches '' and hosts ending in '.').
 */
export class DomainIndex {
  readonly #exact = new KeyTable();
  readonly #suffix = new KeyTable();

  /** Adds a DOMAIN rule; `domain` normalised (lower case, punycode). */
  addExact(domain: string, index: number): void {
    this.#exact.add(domain, index);
  }

  /** Adds a DOMAIN-SUFFIX rule; `suffix` normalised. */
  addSuffix(suffix: string, index: number): void {
    this.#suffix.add(suffix, index);
  }

  /** Number of distinct keys (exact + suffix). */
  get size(): number {
    return this.#exact.size + this.#suffix.size;
  }

  /** The smallest rule index ≥ `from` matching `host` (lower case), or -1. */
  lookup(host: string, from = 0): number {
    let best = better(this.#exact.get(host, from), this.#suffix.get(host, from));
    for (let dot = host.indexOf('.'); dot >= 0; dot = host.indexOf('.', dot + 1)) {
      best = better(best, this.#suffix.get(host.slice(dot + 1), from));
    }
    return best;
  }
}
