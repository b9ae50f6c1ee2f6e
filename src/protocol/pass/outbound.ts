import { ProxyError } from '../../core/errors.js';
import { PASS_TYPE, type Outbound } from '../../core/outbound.js';

/**
 * mihomo's PASS target: the tunnel sees a rule naming it and keeps matching the next rules, so
 * it is never dialed. Dialing it anyway is a bug in the caller, reported as UNSUPPORTED.
 */
export function createPass(): Outbound {
  const fail = () => Promise.reject(new ProxyError('UNSUPPORTED', 'PASS is a routing marker and cannot be dialed'));
  return {
    name: 'PASS',
    type: PASS_TYPE,
    udp: true,
    dialTcp: fail,
    dialUdp: fail,
    close: async () => undefined,
  };
}
