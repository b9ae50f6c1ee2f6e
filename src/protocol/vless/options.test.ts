import assert from 'node:assert/strict';
import { test } from 'node:test';
import { vlessPacketEncoding, vlessSchema } from './options.js';

const base = { name: 'v1', type: 'vless', server: 'example.com', port: 443, uuid: 'b831381d-6324-4d53-ad4f-8cda48b30811' };
const messages = (o: object): string[] => {
  const r = vlessSchema.safeParse(o);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

test('a plain mapping passes; weak YAML values are read as mihomo reads them', () => {
  const r = vlessSchema.parse({ ...base, port: '443', udp: 'true', tls: true, 'extra-key': 1 });
  assert.equal(r.port, 443);
  assert.equal(r.udp, true);
  assert.equal(vlessPacketEncoding(r), 'xudp');
  assert.equal(vlessPacketEncoding(vlessSchema.parse({ ...base, 'packet-encoding': 'none' })), 'none');
});

test('flow is refused by name, naming the proxy; over ws mihomo ignores it, so do we', () => {
  assert.deepEqual(messages({ ...base, flow: 'xtls-rprx-vision' }), ['flow: flow xtls-rprx-vision not supported yet (proxy "v1")']);
  assert.deepEqual(messages({ ...base, flow: 'xtls-rprx-vision', network: 'ws' }), []);
});

test('packetaddr and VLESS encryption are refused; missing uuid/server/port are errors', () => {
  assert.deepEqual(messages({ ...base, 'packet-encoding': 'packetaddr' }), ['packet-encoding: packet-encoding packetaddr not supported yet (proxy "v1")']);
  assert.deepEqual(messages({ ...base, 'packet-addr': true, xudp: true }), []);
  assert.equal(messages({ ...base, encryption: 'mlkem768x25519plus.native.0rtt.x' }).length, 1);
  assert.deepEqual(messages({ ...base, encryption: 'none' }), []);
  assert.equal(messages({ name: 'v', type: 'vless' }).length, 3);
  assert.equal(messages({ ...base, port: 70000 }).length, 1);
});
