import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Metadata, Network } from '../core/metadata.js';
import { NetworkRule } from './network.js';

function meta(network: Network): Metadata {
  return {
    id: 't',
    network,
    inbound: { type: 'SOCKS5', name: 'DEFAULT-MIXED', port: 7890 },
    source: { host: '127.0.0.1', port: 50000 },
    destination: { host: 'example.com', port: 53 },
  };
}

test('NETWORK: tcp/udp in any case, shown lower-case', () => {
  const udp = new NetworkRule('UDP', 'P');
  assert.equal(udp.type, 'Network');
  assert.equal(udp.payload, 'udp');
  assert.equal(udp.needsIp, false);
  assert.equal(udp.match(meta('udp')), true);
  assert.equal(udp.match(meta('tcp')), false);
  assert.equal(new NetworkRule('Tcp', 'P').match(meta('tcp')), true);
});

test('NETWORK: anything else is an error', () => {
  for (const bad of ['', 'icmp', 'tcp/udp', ' tcp']) {
    assert.throws(() => new NetworkRule(bad, 'P'), { code: 'CONFIG', message: /^invalid NETWORK payload .*only TCP or UDP/ });
  }
});
