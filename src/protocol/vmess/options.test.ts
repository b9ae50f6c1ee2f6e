import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../common/log.js';
import type { OutboundDeps } from '../registry.js';
import { packetEncoding, vmessSchema } from './options.js';
import { createVmess } from './outbound.js';

const base = { name: 'vm', type: 'vmess', server: 'example.com', port: 443, uuid: 'b831381d-6324-4d53-ad4f-8cda48b30811', alterId: 0, cipher: 'auto' };

test('a mihomo vmess mapping parses; extra keys pass; numbers as strings are read', () => {
  const o = vmessSchema.parse({ ...base, port: '443', alterId: '0', 'skip-cert-verify': true, 'some-future-key': 1, udp: true });
  assert.equal(o.port, 443);
  assert.equal(o.udp, true);
  assert.equal(vmessSchema.parse({ ...base, cipher: undefined }).cipher, 'auto');
});

test('legacy alterId and unknown ciphers are errors naming the proxy and the field', () => {
  const r = vmessSchema.safeParse({ ...base, alterId: 64 });
  assert.ok(!r.success);
  assert.deepEqual(r.error.issues[0].path, ['alterId']);
  assert.match(r.error.issues[0].message, /proxy "vm": alterId 64/);
  const c = vmessSchema.safeParse({ ...base, cipher: 'aes-128-cfb' });
  assert.ok(!c.success);
  assert.match(c.error.issues[0].message, /proxy "vm": cipher "aes-128-cfb"/);
  assert.ok(!vmessSchema.safeParse({ ...base, 'packet-encoding': 'bogus' }).success);
  assert.ok(!vmessSchema.safeParse({ ...base, port: 0 }).success);
});

test('packet encoding precedence as mihomo: xudp over packetaddr over none', () => {
  assert.equal(packetEncoding(vmessSchema.parse(base)), 'none');
  assert.equal(packetEncoding(vmessSchema.parse({ ...base, 'packet-encoding': 'packet' })), 'packetaddr');
  assert.equal(packetEncoding(vmessSchema.parse({ ...base, 'packet-addr': true, xudp: true })), 'xudp');
});

test('unsupported knobs warn; a transport it cannot build is a CONFIG error', () => {
  const lines: string[] = [];
  const deps = { log: createLogger('warning', (l) => void lines.push(l)) } as unknown as OutboundDeps;
  createVmess(vmessSchema.parse({ ...base, 'packet-encoding': 'packetaddr', 'routing-mark': 5, uuid: 'not-a-uuid' }), deps);
  assert.ok(lines.some((l) => l.includes('packetaddr not supported yet')));
  assert.ok(lines.some((l) => l.includes('routing-mark is not supported')));
  assert.ok(lines.some((l) => l.includes('uuid is not a UUID')));
  assert.throws(() => createVmess(vmessSchema.parse({ ...base, network: 'quic' }), deps), /proxy "vm"/);
});
