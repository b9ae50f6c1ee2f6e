// The suite run against DIRECT: checks the suite itself and the system dialer's relay contract.
import { createLogger } from '../../src/common/log.js';
import { createSystemResolver } from '../../src/dns/system-resolver.js';
import { createDirect } from '../../src/protocol/direct/outbound.js';
import { createSystemDialer } from '../../src/transport/system-dialer.js';
import { conformance } from './suite.js';

for (const host of ['127.0.0.1', '::1']) {
  conformance(
    `DIRECT to ${host}`,
    async () => {
      const resolver = createSystemResolver({ ipv6: true });
      const log = createLogger('silent');
      const outbound = createDirect('DIRECT', { resolver, log, dialer: createSystemDialer({ resolver }) });
      return { outbound, udp: true, teardown: async () => resolver.close() };
    },
    { destinationHost: host },
  );
}
