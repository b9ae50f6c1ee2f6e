// VLESS against v2ray 4.34: tcp+tls through the shared conformance suite (UDP as XUDP, and as
// plain length-prefixed packets), ws+tls through the cases that do not need a client half-close
// (v2ray answers a WebSocket close frame with its own and drops the rest of the reply).
import { randomUUID } from 'node:crypto';
import { createLogger } from '../../src/common/log.js';
import type { Outbound } from '../../src/core/outbound.js';
import { createSystemResolver } from '../../src/dns/system-resolver.js';
import { createVless } from '../../src/protocol/vless/outbound.js';
import { vlessSchema } from '../../src/protocol/vless/options.js';
import { createSystemDialer } from '../../src/transport/system-dialer.js';
import { conformance } from '../conformance/suite.js';
import { testCerts } from '../support/certs.js';
import { peerDir, startPeer, writePeerFile, type Peer } from '../support/peer.js';
import { freePort } from '../support/ports.js';
import { testWarmPool } from '../support/warm.js';
import { V2RAY_TEST_POLICY } from '../support/v2ray.js';

type Net = 'tcp' | 'ws';

/** v2ray's inbound for one VLESS combination, TLS with the test certificate. */
function v2rayConfig(port: number, id: string, net: Net): object {
  const certs = testCerts();
  return {
    log: { loglevel: 'warning' },
    inbounds: [
      {
        listen: '127.0.0.1',
        port,
        protocol: 'vless',
        settings: { clients: [{ id }], decryption: 'none' },
        streamSettings: {
          network: net,
          security: 'tls',
          tlsSettings: { certificates: [{ certificateFile: certs.certFile, keyFile: certs.keyFile }] },
          ...(net === 'ws' ? { wsSettings: { path: '/vl' } } : {}),
        },
      },
    ],
    outbounds: [{ protocol: 'freedom' }],
    policy: V2RAY_TEST_POLICY,
  };
}

/** Starts v2ray for `net` and builds outbounds to it (right and wrong uuid). */
async function start(net: Net, encoding: 'xudp' | 'none', warm = false) {
  const id = randomUUID();
  const port = await freePort();
  const file = writePeerFile(peerDir('v2ray-vless'), 'config.json', JSON.stringify(v2rayConfig(port, id, net)));
  const peer: Peer = await startPeer({ name: 'v2ray', command: 'v2ray', args: ['-config', file], readyPort: port });
  const resolver = createSystemResolver({ ipv6: true });
  const pools = testWarmPool({ resolver, log: createLogger('silent'), dialer: createSystemDialer({ resolver }) }, warm);
  const deps = pools.deps;
  const make = (uuid: string): Outbound =>
    createVless(
      vlessSchema.parse({
        name: 'v',
        type: 'vless',
        server: '127.0.0.1',
        port,
        uuid,
        tls: true,
        servername: 'localhost',
        fingerprint: testCerts().fingerprint,
        udp: true,
        'packet-encoding': encoding,
        ...(net === 'ws' ? { network: 'ws', 'ws-opts': { path: '/vl' } } : {}),
      }),
      deps,
    );
  return {
    outbound: make(id),
    wrongCredentials: make(randomUUID()),
    udp: true,
    killServer: () => peer.kill(),
    releaseHeld: pools.releaseHeld,
    async teardown() {
      pools.close();
      await peer.stop();
      resolver.close();
    },
  };
}

for (const encoding of ['xudp', 'none'] as const) {
  conformance(`VLESS tcp+tls (UDP ${encoding}) against v2ray 4.34`, async () => {
    const s = await start('tcp', encoding);
    // v2ray does not pass the destination's FIN on; it closes both legs when both are done
    return { ...s, serverHalfClose: false };
  });
}

// the VLESS header as the first bytes of an already-handshaken TLS connection
conformance('VLESS tcp+tls (UDP xudp) against v2ray 4.34, warm pool on', async () => ({ ...(await start('tcp', 'xudp', true)), serverHalfClose: false }));

// over WebSocket v2ray answers our close frame with its own and drops the rest of the reply;
// with the pool on, the WebSocket upgrade runs on an already-handshaken TLS connection
for (const warm of [false, true]) {
  conformance(`VLESS ws+tls (UDP xudp) against v2ray 4.34${warm ? ', warm pool on' : ''}`, async () => ({
    ...(await start('ws', 'xudp', warm)),
    clientHalfClose: false,
    serverHalfClose: false,
  }));
}
