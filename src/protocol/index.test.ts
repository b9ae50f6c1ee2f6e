import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRegistry } from './index.js';
import { MIHOMO_PROXY_TYPES } from './registry.js';

test('the registry knows the built protocols, all of them mihomo types', () => {
  const r = createRegistry();
  for (const t of ['direct', 'reject', 'http', 'socks5', 'ss', 'vmess', 'vless', 'trojan']) assert.ok(r.get(t), t);
  for (const t of r.types()) assert.ok(MIHOMO_PROXY_TYPES.includes(t));
  assert.equal(r.get('direct')?.schema.safeParse({ name: 'd', type: 'direct' }).success, true);
  assert.notEqual(createRegistry(), r); // no shared state between registries
});
