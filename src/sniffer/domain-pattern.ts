/**
 * The domain patterns of `force-domain` and `skip-domain`, as mihomo's domain trie reads them:
 * `example.com` exactly; `+.example.com` it and every subdomain; `.example.com` subdomains only;
 * `*` as a whole label matches any one label (`*.example.com`, `www.*.com`). Case-insensitive.
 */
export class DomainPatterns {
  readonly #exact = new Set<string>();
  readonly #suffixes = new Set<string>(); // `+.x`: x itself and below
  readonly #below = new Set<string>(); // `.x`: below x only
  readonly #wild: string[][] = [];

  constructor(patterns: readonly string[]) {
    for (const raw of patterns) {
      const p = raw.trim().toLowerCase().replace(/\.$/, '');
      if (p === '') continue;
      if (p.startsWith('+.')) this.#suffixes.add(p.slice(2));
      else if (p.startsWith('.')) this.#below.add(p.slice(1));
      else if (p.split('.').includes('*')) this.#wild.push(p.split('.'));
      else this.#exact.add(p);
    }
  }

  get size(): number {
    return this.#exact.size + this.#suffixes.size + this.#below.size + this.#wild.length;
  }

  has(domain: string): boolean {
    if (this.size === 0 || domain === '') return false;
    const d = domain.toLowerCase().replace(/\.$/, '');
    if (this.#exact.has(d) || this.#suffixes.has(d)) return true;
    for (let i = d.indexOf('.'); i >= 0; i = d.indexOf('.', i + 1)) {
      const parent = d.slice(i + 1);
      if (this.#suffixes.has(parent) || this.#below.has(parent)) return true;
    }
    if (this.#wild.length > 0) {
      const labels = d.split('.');
      for (const w of this.#wild) {
        if (w.length === labels.length && w.every((l, i) => l === '*' || l === labels[i])) return true;
      }
    }
    return false;
  }
}
