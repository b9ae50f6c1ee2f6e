import { setMaxListeners } from 'node:events';
import { isIP } from 'node:net';
import type { Logger } from '../common/log.js';
import { errorMessage, ProxyError } from '../core/errors.js';
import type { Resolver } from '../core/resolver.js';
import type { HostsLookup } from './hosts-lookup.js';
import { cacheKey, MessageCache } from './message-cache.js';
import { withSignal } from './with-signal.js';
import { normalizeName } from './system-resolver.js';
import type { Upstream } from './upstream/upstream.js';
import { answerIps, query, questionName, RCODE, rcodeName, rcodeOf, type Message, type RecordType } from './wire.js';

/** One nameserver-policy entry: the names it takes and the nameservers it sends them to. */
export interface DnsPolicy {
  readonly match: (name: string) => boolean;
  readonly upstreams: readonly Upstream[];
}

/** What a {@link DnsResolver} is made of (dns/build.ts assembles it from the config). */
export interface DnsResolverOptions {
  readonly main: readonly Upstream[];
  readonly fallback?: readonly Upstream[];
  readonly policy?: readonly DnsPolicy[];
  /** an answer with an IP any of these match is replaced by the fallback's (geoip, ipcidr) */
  readonly fallbackIpFilters?: readonly ((ip: string) => boolean)[];
  /** names these match are asked only of the fallback (domain, geosite) */
  readonly fallbackDomainFilters?: readonly ((name: string) => boolean)[];
  /** consulted before any nameserver by resolve4/6 (not by exchange) */
  readonly hosts?: HostsLookup;
  readonly ipv6: boolean;
  /** how long lookupIp waits for AAAA once A answered (mihomo's ipv6-timeout), ms */
  readonly ipv6TimeoutMs?: number;
  readonly cacheSize?: number;
  /** one upstream's bound on one query (mihomo's DefaultDNSTimeout: 5 s) */
  readonly timeoutMs?: number;
  readonly log?: Logger;
  /** for logs: which resolver this is */
  readonly label?: string;
}

/** A failure of a whole batch, as mihomo words it. */
function allFailed(first: unknown): ProxyError {
  return new ProxyError('RESOLVE_FAILED', first === undefined ? 'all DNS requests failed' : `all DNS requests failed, first error: ${errorMessage(first)}`);
}

function isIpQuery(type: RecordType): boolean {
  return type === 'A' || type === 'AAAA';
}

/**
 * mihomo's DNS resolver: a cache of whole replies in front of in-flight de-duplication, then
 * nameserver-policy, then the fallback logic (domain filters ask the fallback only; an answer
 * whose IPs the IP filters match is replaced by the fallback's), each batch a race of its
 * nameservers where the first good reply wins and each upstream has its own timeout, so a dead
 * one never stalls the rest. It is also the core's {@link Resolver} (hosts first).
 */
export class DnsResolver implements Resolver {
  readonly cache: MessageCache;
  readonly #o: DnsResolverOptions;
  readonly #timeoutMs: number;
  readonly #inflight = new Map<string, Promise<Message>>();
  readonly #ctl = new AbortController();
  #ipv6: boolean;
  #closed = false;

  constructor(o: DnsResolverOptions) {
    this.#o = o;
    this.#ipv6 = o.ipv6;
    this.#timeoutMs = o.timeoutMs ?? 5000;
    this.cache = new MessageCache(o.cacheSize ?? 4096);
    // every batch in flight listens for the resolver's close
    setMaxListeners(0, this.#ctl.signal);
  }

  get ipv6(): boolean {
    return this.#ipv6;
  }

  setIpv6(on: boolean): void {
    this.#ipv6 = on;
  }

  /** Every upstream this resolver may ask. */
  get upstreams(): Upstream[] {
    return [...this.#o.main, ...(this.#o.fallback ?? []), ...(this.#o.policy ?? []).flatMap((p) => p.upstreams)];
  }

  /**
   * Answers a query (any type) from the cache or the nameservers. Resolves with the reply
   * (NXDOMAIN and empty answers included); rejects with RESOLVE_FAILED when every nameserver
   * failed, ABORTED when `signal` fired first.
   */
  exchange(q: Message, signal?: AbortSignal): Promise<Message> {
    const question = q.questions[0];
    if (!question) return Promise.reject(new ProxyError('RESOLVE_FAILED', 'should have one question at least'));
    if (this.#closed) return Promise.reject(new ProxyError('RESOLVE_FAILED', 'dns: resolver closed'));
    const hit = this.cache.get(question);
    if (hit) {
      if (this.#o.log?.enabled('debug')) {
        const exp = new Date(this.cache.expiry(question) ?? 0).toISOString().replace('T', ' ').slice(0, 19);
        this.#o.log.debug(`[DNS] cache hit ${questionName(question)} --> [${answerIps(hit).join(' ')}] ${question.type}, expire at ${exp}`);
      }
      return Promise.resolve({ ...hit, id: q.id, questions: q.questions });
    }
    const key = cacheKey(question);
    let p = this.#inflight.get(key);
    if (!p) {
      p = this.#fresh(q).finally(() => this.#inflight.delete(key));
      p.catch(() => undefined);
      this.#inflight.set(key, p);
    }
    return withSignal(p, signal, 'dns').then((m) => ({ ...m, id: q.id, questions: q.questions }));
  }

  async #fresh(q: Message): Promise<Message> {
    const question = q.questions[0];
    const name = questionName(question);
    const m = await this.#route(q, name, question.type);
    if (!this.#closed) this.cache.set(question, m);
    return m;
  }

  /** mihomo's exchangeWithoutCache / ipExchange: policy, then fallback filters, then main. */
  async #route(q: Message, name: string, type: RecordType): Promise<Message> {
    const policy = this.#o.policy?.find((p) => p.match(name));
    if (policy) return this.#batch(policy.upstreams, q, name, type);
    const fallback = this.#o.fallback ?? [];
    if (!isIpQuery(type) || fallback.length === 0) return this.#batch(this.#o.main, q, name, type);
    if (this.#o.fallbackDomainFilters?.some((f) => f(name))) return this.#batch(fallback, q, name, type);
    let main: Message | undefined;
    try {
      main = await this.#batch(this.#o.main, q, name, type);
    } catch {
      main = undefined;
    }
    if (main) {
      const ips = answerIps(main);
      const filters = this.#o.fallbackIpFilters ?? [];
      if (ips.length > 0 && ips.every((ip) => !filters.some((f) => f(ip)))) return main;
    }
    return this.#batch(fallback, q, name, type);
  }

  /**
   * mihomo's batchExchange: every upstream at once, each with the same timeout; the first reply
   * that is neither SERVFAIL nor REFUSED (and, for A/AAAA, carries an address) wins and the
   * others are cancelled. A reply without addresses is kept in case nothing better comes.
   */
  #batch(upstreams: readonly Upstream[], q: Message, name: string, type: RecordType): Promise<Message> {
    if (upstreams.length === 0) return Promise.reject(allFailed(undefined));
    const rcodeOnly = upstreams.find((u) => u.address.startsWith('rcode://'));
    if (rcodeOnly) return rcodeOnly.exchange(q, this.#ctl.signal);
    const log = this.#o.log;
    return new Promise<Message>((resolve, reject) => {
      const ctl = new AbortController();
      const stop = (): void => ctl.abort(new ProxyError('ABORTED', 'dns: answered by another nameserver'));
      this.#ctl.signal.addEventListener('abort', stop, { once: true });
      let left = upstreams.length;
      let done = false;
      let firstError: unknown;
      let noIp: Message | undefined;
      // every upstream of the batch starts now, so one timer is each one's timeout
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        ctl.abort(new ProxyError('RESOLVE_FAILED', 'i/o timeout'));
      }, this.#timeoutMs);
      timer.unref();
      const finish = (): void => {
        clearTimeout(timer);
        this.#ctl.signal.removeEventListener('abort', stop);
        stop();
      };
      const signal = ctl.signal;
      const debug = log?.enabled('debug') === true;
      for (const u of upstreams) {
        if (debug) log!.debug(`[DNS] resolve ${name} ${type} from ${u.address}`);
        u.exchange(q, signal).then(
          (m) => {
            if (done) return;
            const rc = rcodeOf(m);
            if (rc === RCODE.SERVFAIL || rc === RCODE.REFUSED) {
              firstError ??= new Error(`server failure: ${rcodeName(rc)}`);
            } else if (isIpQuery(type) && answerIps(m).length === 0) {
              if (debug) log!.debug(`[DNS] ${name} --> [] ${type} from ${u.address}`);
              noIp ??= m;
            } else {
              if (debug) log!.debug(`[DNS] ${name} --> [${answerIps(m).join(' ')}] ${type} from ${u.address}`);
              done = true;
              finish();
              resolve(m);
              return;
            }
            if (--left === 0) settle();
          },
          (err: unknown) => {
            if (done) return;
            firstError ??= timedOut ? new Error(`dns ${u.address}: i/o timeout`) : err;
            if (--left === 0) settle();
          },
        );
      }
      const settle = (): void => {
        done = true;
        finish();
        if (noIp) resolve(noIp);
        else reject(allFailed(firstError));
      };
    });
  }

  /** The addresses of `host` for one family: IP literal, hosts, then the nameservers. */
  async #lookup(family: 4 | 6, host: string, signal?: AbortSignal): Promise<string[]> {
    if (family === 6 && !this.#ipv6) return [];
    const literal = isIP(host);
    if (literal !== 0) return literal === family ? [host] : [];
    let name = normalizeName(host);
    const h = this.#o.hosts?.lookup(name);
    if (h && !h.resolveAs) return (family === 4 ? h.v4 : h.v6).slice();
    if (h?.resolveAs) name = h.resolveAs;
    const m = await this.exchange(query(`${name}.`, family === 4 ? 'A' : 'AAAA'), signal);
    const want = family === 4 ? 'A' : 'AAAA';
    return answerIps(m).filter((ip) => isIP(ip) === (want === 'A' ? 4 : 6));
  }

  /** dns.ipv6-timeout (the dialer waits this long for AAAA once A answered) */
  get aaaaWaitMs(): number | undefined {
    return this.#ipv6 ? (this.#o.ipv6TimeoutMs ?? 100) : undefined;
  }

  resolve4(host: string, signal?: AbortSignal): Promise<string[]> {
    return this.#lookup(4, host, signal);
  }

  resolve6(host: string, signal?: AbortSignal): Promise<string[]> {
    return this.#lookup(6, host, signal);
  }

  /** One IP for rules: IPv4 first, AAAA only when A has nothing (mihomo's ResolveIP). */
  async resolveIp(host: string, signal?: AbortSignal): Promise<string | undefined> {
    if (isIP(host) !== 0) return host;
    const v6 = this.#ipv6 ? this.resolve6(host, signal).catch(() => [] as string[]) : undefined;
    let v4: string[] = [];
    try {
      v4 = await this.resolve4(host, signal);
    } catch (err) {
      if (signal?.aborted) throw err;
      this.#o.log?.debug(`[DNS] ${errorMessage(err)}`);
    }
    if (v4.length > 0) return v4[0];
    return (v6 ? await v6 : [])[0];
  }

  /** Both families (mihomo's LookupIP): AAAA waited for at most ipv6-timeout once A answered. */
  async lookupIp(host: string, signal?: AbortSignal): Promise<string[]> {
    const v6 = this.#ipv6 ? this.resolve6(host, signal).catch(() => [] as string[]) : Promise.resolve([] as string[]);
    const v4 = await this.resolve4(host, signal).catch(() => [] as string[]);
    if (v4.length === 0) return v6;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<string[]>((r) => (timer = setTimeout(() => r([]), this.#o.ipv6TimeoutMs ?? 100)));
    const six = await Promise.race([v6, late]);
    clearTimeout(timer);
    return [...v4, ...six];
  }

  flush(): void {
    this.cache.clear();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ctl.abort(new ProxyError('RESOLVE_FAILED', 'dns: resolver closed'));
    for (const u of new Set(this.upstreams)) u.close();
    this.cache.clear();
  }
}

