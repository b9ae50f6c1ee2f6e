import { cidrContainsWords, ipWords, type Cidr } from '../common/cidr.js';
import type { Metadata } from '../core/metadata.js';
import type { Rule } from '../core/rule.js';
import { parsePrefix } from './ip-prefix.js';
import { payloadError } from './rule-error.js';

/** The modifiers after the target of IP rules, as mihomo reads them. */
export interface IpRuleOptions {
  /** match the source IP instead of the destination IP */
  readonly source: boolean;
  /** never resolve a domain destination for this rule */
  readonly noResolve: boolean;
}

/**
 * Reads `src` / `no-resolve` from the params. `src` implies no-resolve: the source is always an
 * IP, so there is nothing to resolve. Params are compared exactly (lower case), as mihomo does.
 */
export function ipRuleOptions(params: readonly string[]): IpRuleOptions {
  const source = params.includes('src');
  return { source, noResolve: source || params.includes('no-resolve') };
}

/** The IP a rule looks at as words: the source always, the destination when known. */
function subjectWords(meta: Metadata, ip: string | undefined, source: boolean): Uint32Array | undefined {
  const text = source ? meta.source.host : ip;
  return text === undefined ? undefined : ipWords(text);
}

/** IP-CIDR, IP-CIDR6, SRC-IP-CIDR: the IP lies in the prefix. */
export class IpCidrRule implements Rule {
  readonly type: 'IPCIDR' | 'SrcIPCIDR';
  readonly payload: string;
  readonly needsIp: boolean;
  /** the prefix matched, also the key of the engine's CIDR trie */
  readonly cidr: Cidr;
  readonly source: boolean;
  constructor(
    typeName: string,
    text: string,
    readonly target: string,
    opts: IpRuleOptions,
  ) {
    const p = parsePrefix(text);
    if (typeof p === 'string') throw payloadError(typeName, text, p);
    this.cidr = p.cidr;
    this.payload = p.canonical;
    this.source = opts.source;
    this.type = opts.source ? 'SrcIPCIDR' : 'IPCIDR';
    this.needsIp = !opts.noResolve;
  }
  match(meta: Metadata, ip: string | undefined): boolean {
    const w = subjectWords(meta, ip, this.source);
    return w !== undefined && cidrContainsWords(this.cidr, w);
  }
}

/**
 * IP-SUFFIX, SRC-IP-SUFFIX: the last `bits` bits of the IP equal those of the payload address
 * (`IP-SUFFIX,0.0.0.8/8` matches every IPv4 ending in .8). Same family only.
 */
export class IpSuffixRule implements Rule {
  readonly type: 'IPSuffix' | 'SrcIPSuffix';
  /** as written: mihomo shows the payload text, not a canonical form */
  readonly payload: string;
  readonly needsIp: boolean;
  readonly source: boolean;
  readonly #words: Uint32Array;
  readonly #bits: number;
  constructor(
    typeName: string,
    text: string,
    readonly target: string,
    opts: IpRuleOptions,
  ) {
    const p = parsePrefix(text);
    if (typeof p === 'string') throw payloadError(typeName, text, p);
    // A mapped address whose suffix fits in its IPv4 part can only ever meet unmapped IPv4.
    const toV4 = p.mapped && p.bits <= 32;
    this.#words = toV4 ? Uint32Array.of(p.words[3]) : p.words;
    this.#bits = p.bits;
    this.payload = text;
    this.source = opts.source;
    this.type = opts.source ? 'SrcIPSuffix' : 'IPSuffix';
    this.needsIp = !opts.noResolve;
  }
  match(meta: Metadata, ip: string | undefined): boolean {
    const w = subjectWords(meta, ip, this.source);
    if (w === undefined || w.length !== this.#words.length) return false;
    let left = this.#bits;
    for (let i = w.length - 1; i >= 0 && left > 0; i--, left -= 32) {
      const mask = left >= 32 ? 0xffffffff : 2 ** left - 1;
      if (((w[i] ^ this.#words[i]) & mask) !== 0) return false;
    }
    return true;
  }
}
