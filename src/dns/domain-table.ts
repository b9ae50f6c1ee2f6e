/**
 * Domain patterns as mihomo's domain trie reads them: `example.com` (that name), `+.example.com`
 * (it and every name under it), `.example.com` (only names under it), `*.example.com` (exactly
 * one label under it); a `*` label elsewhere stands for any one label. Names are lower-case
 * without the root dot.
 */

function clean(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

/** A table from domain patterns to values; the most specific pattern wins, as in mihomo's trie. */
export class DomainTable<T> {
  readonly #exact = new Map<string, T>();
  /** `+.x` and `.x`: x → [value, whether x itself matches] */
  readonly #suffix = new Map<string, { value: T; self: boolean }>();
  /** `*.x`: x → value */
  readonly #oneLabel = new Map<string, T>();
  /** patterns with `*` inside, label by label */
  readonly #wild: { labels: string[]; value: T }[] = [];

  get size(): number {
    return this.#exact.size + this.#suffix.size + this.#oneLabel.size + this.#wild.length;
  }

  /** Adds a pattern (a later one with the same text replaces the earlier). */
  set(pattern: string, value: T): this {
    const p = clean(pattern);
    if (p.startsWith('+.')) this.#suffix.set(p.slice(2), { value, self: true });
    else if (p.startsWith('.')) this.#suffix.set(p.slice(1), { value, self: false });
    else if (p.startsWith('*.') && !p.slice(2).includes('*')) this.#oneLabel.set(p.slice(2), value);
    else if (p.includes('*')) this.#wild.push({ labels: p.split('.'), value });
    else this.#exact.set(p, value);
    return this;
  }

  /** The value of the best pattern matching `name`, or undefined. */
  get(name: string): T | undefined {
    const n = clean(name);
    const hit = this.#exact.get(n);
    if (hit !== undefined) return hit;
    const dot = n.indexOf('.');
    if (dot >= 0 && this.#oneLabel.size > 0) {
      const one = this.#oneLabel.get(n.slice(dot + 1));
      if (one !== undefined) return one;
    }
    if (this.#wild.length > 0) {
      const labels = n.split('.');
      for (const w of this.#wild) {
        if (w.labels.length === labels.length && w.labels.every((l, i) => l === '*' || l === labels[i])) return w.value;
      }
    }
    if (this.#suffix.size > 0) {
      const self = this.#suffix.get(n);
      if (self?.self) return self.value;
      for (let at = n.indexOf('.'); at >= 0; at = n.indexOf('.', at + 1)) {
        const s = this.#suffix.get(n.slice(at + 1));
        if (s) return s.value;
      }
    }
    return undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }
}

/** A set of domain patterns. */
export function domainSet(patterns: readonly string[]): { has(name: string): boolean } {
  const t = new DomainTable<true>();
  for (const p of patterns) t.set(p, true);
  return t;
}
