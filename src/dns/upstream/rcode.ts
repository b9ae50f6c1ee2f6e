import { reply, RCODE, type Message } from '../wire.js';
import type { Upstream } from './upstream.js';

/** mihomo's `rcode://` names and the rcode each answers with. */
export const RCODE_NAMES: Readonly<Record<string, number>> = {
  success: RCODE.NOERROR,
  format_error: RCODE.FORMERR,
  server_failure: RCODE.SERVFAIL,
  name_error: RCODE.NXDOMAIN,
  not_implemented: RCODE.NOTIMP,
  refused: RCODE.REFUSED,
};

/** `rcode://name`: answers every query at once with that rcode and no records. */
export function rcodeUpstream(name: string): Upstream {
  const code = RCODE_NAMES[name];
  if (code === undefined) throw new Error(`unsupported RCode type: ${name}`);
  return {
    address: `rcode://${name}`,
    exchange: async (q: Message) => reply(q, code),
    close: () => undefined,
  };
}
