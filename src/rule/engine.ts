import { isIP } from 'node:net';
import { unmapIPv4 } from '../core/address.js';
import type { Metadata } from '../core/metadata.js';
import type { Rule, RuleMatch } from '../core/rule.js';
import { literalIp } from './destination.js';
import { ProcessPending } from './process-lookup.js';
import { compileSteps, type Step } from './steps.js';

/**
 * Per-connection matching state. The engine resolves the destination at most once per context
 * and records the outcome here, so a call resumed after a PASS does not resolve again.
 */
export interface MatchContext {
  /** one IP for a domain (the tunnel's resolver); undefined or a throw = does not resolve */
  resolveIp(host: string): Promise<string | undefined>;
  /** the destination IP once known (set by the engine, or by the caller beforehand) */
  ip?: string;
  /** true once resolution was attempted, whatever its outcome */
  resolved?: boolean;
  /**
   * looks up the process owning the client socket (asynchronously; ProcessFinder.lookup), for a
   * process rule that found it unknown (it threw ProcessPending). Absent: such rules do not match.
   */
  findProcess?(meta: Metadata): Promise<unknown>;
  /** true once the process lookup ran */
  processLooked?: boolean;
}

/** What one scan ends in: a match, no match, or the step waiting for the destination IP or the process. */
type ScanResult = RuleMatch | undefined | { readonly waitAt: number; readonly wait: 'ip' | 'process' };

/**
 * The rule list, compiled. First match wins, from index `from` on. The destination IP of a
 * domain is resolved lazily, only when a rule that needs it is reached, as mihomo does; a
 * failed resolution makes IP rules not match and matching goes on.
 */
export class RuleEngine {
  /** the rules in config order; RuleMatch.index points into this list */
  readonly rules: readonly Rule[];
  readonly #steps: readonly Step[];

  constructor(rules: readonly Rule[]) {
    this.rules = Object.freeze([...rules]);
    this.#steps = compileSteps(this.rules);
  }

  /** How many strides the list compiled into (a run of 100,000 domain rules is one), for tests. */
  get stepCount(): number {
    return this.#steps.length;
  }

  /**
   * The first rule at or after `from` that matches. Settles without awaiting anything unless a
   * resolution is needed (then one `ctx.resolveIp` call, recorded in `ctx`) or a process rule
   * meets an owner not looked up yet (then one `ctx.findProcess` call, the same step again).
   */
  match(meta: Metadata, ctx: MatchContext, from = 0): Promise<RuleMatch | undefined> {
    const start = Math.max(0, Math.trunc(from) || 0);
    const r = this.#scan(meta, ctx, this.#stepOf(start), start);
    if (r !== undefined && 'waitAt' in r) return this.#waitThenScan(meta, ctx, r, start);
    return Promise.resolve(r);
  }

  /** Resolves the IP or looks the process up, each at most once, and scans on from the waiting step. */
  async #waitThenScan(meta: Metadata, ctx: MatchContext, first: { readonly waitAt: number; readonly wait: 'ip' | 'process' }, from: number) {
    let r: ScanResult = first;
    while (r !== undefined && 'waitAt' in r) {
      if (r.wait === 'ip') {
        let ip: string | undefined;
        try {
          ip = await ctx.resolveIp(meta.destination.host);
        } catch {
          ip = undefined; // a resolver error is a miss for IP rules, not a failed match
        }
        ctx.resolved = true;
        ctx.ip = typeof ip === 'string' && isIP(ip) !== 0 ? unmapIPv4(ip) : undefined;
      } else {
        try {
          await ctx.findProcess?.(meta);
        } catch {
          // a failed lookup: process rules do not match
        }
        ctx.processLooked = true;
      }
      // each wait happens once (resolved / processLooked), so this ends within two rounds
      r = this.#scan(meta, ctx, r.waitAt, from);
    }
    return r;
  }

  #scan(meta: Metadata, ctx: MatchContext, first: number, from: number): ScanResult {
    const literal = literalIp(meta.destination.host);
    let ip = literal ?? (ctx.ip === undefined ? undefined : unmapIPv4(ctx.ip));
    const steps = this.#steps;
    for (let s = first; s < steps.length; s++) {
      const step = steps[s];
      if (step.needsIp && ip === undefined && literal === undefined && !ctx.resolved) {
        return { waitAt: s, wait: 'ip' };
      }
      let index: number;
      try {
        index = step.find(meta, ip, from);
      } catch (err) {
        if (!(err instanceof ProcessPending)) throw err;
        // a process rule met an owner not looked up yet: once, then it reads the answer
        if (!ctx.processLooked && ctx.findProcess) return { waitAt: s, wait: 'process' };
        continue;
      }
      if (index >= 0) return { rule: this.rules[index], index };
    }
    return undefined;
  }

  /** The step holding rule index `from` (binary search over step starts). */
  #stepOf(from: number): number {
    const steps = this.#steps;
    let lo = 0;
    let hi = steps.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (steps[mid].end <= from) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
