import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trojanSchema } from './options.js';

const base = { name: 't1', type: 'trojan', server: 'example.com', port: 443, password: 'pw' };
const messages = (o: object): string[] => {
  const r = trojanSchema.safeParse(o);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

test('a plain mapping passes, with the TLS keys and a numeric password', () => {
  const r = trojanSchema.parse({ ...base, password: 12345, sni: 'a.example', alpn: ['h2'], 'skip-cert-verify': true, network: 'ws', 'ws-opts': { path: '/x' } });
  assert.equal(r.password, '12345');
  assert.deepEqual(messages({ ...base, 'ss-opts': { enabled: false } }), []);
});

test('ss-opts enabled and flow are refused, naming the proxy', () => {
  assert.deepEqual(messages({ ...base, 'ss-opts': { enabled: true, method: 'aes-128-gcm', password: 'x' } }), ['ss-opts: ss-opts not supported yet (proxy "t1")']);
  assert.deepEqual(messages({ ...base, flow: 'xtls-rprx-direct' }), ['flow: flow xtls-rprx-direct not supported yet (proxy "t1")']);
  assert.equal(messages({ name: 't', type: 'trojan', server: 'x', port: 1 }).length, 1);
});
