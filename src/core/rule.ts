import type { Metadata } from './metadata.js';

/**
 * One compiled rule line. `match` is pure and synchronous: the engine resolves the destination
 * IP lazily (only for a rule with `needsIp`) and passes it in.
 */
export interface Rule {
  /** mihomo's rule type name as logs and the API print it: DomainSuffix, IPCIDR, Match… */
  readonly type: string;
  /** the payload as mihomo prints it (domains lower-cased; for AND/OR/NOT the rebuilt form) */
  readonly payload: string;
  /** the target name: DIRECT, REJECT, REJECT-DROP, PASS, a proxy or group */
  readonly target: string;
  /** true when matching needs the destination IP of a domain destination (IP rules without no-resolve) */
  readonly needsIp: boolean;
  /** `ip` is the destination IP: the literal destination, or the resolved one, or undefined */
  match(meta: Metadata, ip: string | undefined): boolean;
  /**
   * For a rule whose target depends on the connection (SUB-RULE: the matching rule of its set):
   * the target once `match` said true. Absent: `target`.
   */
  targetFor?(meta: Metadata, ip: string | undefined): string | undefined;
}

/** The outcome of routing one connection through the rule list. */
export interface RuleMatch {
  readonly rule: Rule;
  /** position in the rule list, to resume matching after a PASS */
  readonly index: number;
}
