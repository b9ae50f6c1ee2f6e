/**
 * redir-host's memory: the addresses the DNS listener handed out, each with the name it
 * answered, so a connection to one of them is routed by that name. Bounded; the least
 * recently used go first.
 */
export class HostMapping {
  readonly #max: number;
  readonly #byIp = new Map<string, { name: string; expires: number }>();

  constructor(max = 8192) {
    this.#max = Math.max(1, max);
  }

  remember(ip: string, name: string, ttlS: number, now = Date.now()): void {
    this.#byIp.delete(ip);
    while (this.#byIp.size >= this.#max) {
      const oldest = this.#byIp.keys().next();
      if (oldest.done) break;
      this.#byIp.delete(oldest.value);
    }
    // kept a while past the TTL: clients often connect after the answer aged out of their cache
    this.#byIp.set(ip, { name, expires: now + Math.max(ttlS, 60) * 1000 + 60_000 });
  }

  name(ip: string, now = Date.now()): string | undefined {
    const e = this.#byIp.get(ip);
    if (!e) return undefined;
    if (e.expires <= now) {
      this.#byIp.delete(ip);
      return undefined;
    }
    return e.name;
  }

  get size(): number {
    return this.#byIp.size;
  }

  clear(): void {
    this.#byIp.clear();
  }
}
