import type { Metadata } from '../core/metadata.js';
import type { Rule } from '../core/rule.js';
import type { ProcessFinder } from './process-lookup.js';
import { quote, payloadError } from './rule-error.js';
import { compileFilterLike } from './process-regex.js';

/** The fields of RuleDeps the process rules use (rule/parse.ts). */
export interface ProcessDeps {
  /** late-bound by the build: the generation's process lookup (find-process-mode) */
  processes?: ProcessFinder;
}

type ProcessKind = 'ProcessName' | 'ProcessPath' | 'ProcessNameRegex' | 'ProcessPathRegex';

/**
 * PROCESS-NAME / PROCESS-PATH (case-insensitive equality) and their -REGEX forms
 * (case-insensitive): the local process owning the client socket. The lookup reads /proc only
 * when such a rule is reached, once per connection; with find-process-mode off it never runs
 * and these rules never match.
 */
export class ProcessRule implements Rule {
  readonly needsIp = false;
  readonly payload: string;
  readonly #lower: string;
  readonly #re: RegExp | undefined;
  readonly #byName: boolean;
  constructor(
    readonly type: ProcessKind,
    payload: string,
    readonly target: string,
    readonly deps: ProcessDeps,
  ) {
    this.payload = payload;
    this.#lower = payload.toLowerCase();
    this.#byName = type === 'ProcessName' || type === 'ProcessNameRegex';
    if (type === 'ProcessNameRegex' || type === 'ProcessPathRegex') {
      try {
        this.#re = compileFilterLike(payload);
      } catch (err) {
        throw payloadError(type === 'ProcessNameRegex' ? 'PROCESS-NAME-REGEX' : 'PROCESS-PATH-REGEX', payload, (err as Error).message);
      }
    }
  }
  match(meta: Metadata): boolean {
    const p = this.deps.processes?.find(meta);
    if (!p) return false;
    const subject = this.#byName ? p.name : p.path;
    return this.#re ? this.#re.test(subject) : subject.toLowerCase() === this.#lower;
  }
}

/** UID,1000 or UID,1000-1999/2001: the uid owning the client socket lies in a range (Linux). */
export class UidRule implements Rule {
  readonly type = 'Uid';
  readonly needsIp = false;
  readonly payload: string;
  readonly #ranges: readonly (readonly [number, number])[];
  constructor(
    payload: string,
    readonly target: string,
    readonly deps: ProcessDeps,
  ) {
    this.payload = payload;
    const ranges: [number, number][] = [];
    for (const part of payload.split('/')) {
      const m = /^\s*(\d{1,10})\s*(?:-\s*(\d{1,10})\s*)?$/.exec(part);
      const lo = m ? Number(m[1]) : NaN;
      const hi = m ? Number(m[2] ?? m[1]) : NaN;
      if (!m || lo > 0xffffffff || hi > 0xffffffff) throw payloadError('UID', payload, `invalid uid range ${quote(part)}`);
      ranges.push(lo <= hi ? [lo, hi] : [hi, lo]);
    }
    this.#ranges = ranges;
  }
  match(meta: Metadata): boolean {
    const p = this.deps.processes?.find(meta);
    // mihomo: uid 0 counts as unknown
    if (!p || p.uid === 0) return false;
    return this.#ranges.some(([lo, hi]) => p.uid >= lo && p.uid <= hi);
  }
}
