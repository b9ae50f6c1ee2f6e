import type { Metadata, Network } from '../core/metadata.js';
import type { Rule } from '../core/rule.js';
import { payloadError } from './rule-error.js';

/** NETWORK: the connection is TCP or UDP (payload case-insensitive, shown lower-case). */
export class NetworkRule implements Rule {
  readonly type = 'Network';
  readonly needsIp = false;
  readonly payload: Network;
  constructor(
    text: string,
    readonly target: string,
  ) {
    const n = text.toLowerCase();
    if (n !== 'tcp' && n !== 'udp') throw payloadError('NETWORK', text, 'only TCP or UDP');
    this.payload = n;
  }
  match(meta: Metadata): boolean {
    return meta.network === this.payload;
  }
}
