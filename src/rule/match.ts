import type { Rule } from '../core/rule.js';

/** MATCH: the catch-all at the end of a rule list. Its payload is empty. */
export class MatchRule implements Rule {
  readonly type = 'Match';
  readonly payload = '';
  readonly needsIp = false;
  constructor(readonly target: string) {}
  match(): boolean {
    return true;
  }
}
