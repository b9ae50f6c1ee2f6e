import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../common/log.js';
import { buildPlugin } from './index.js';

const ctx = { server: '127.0.0.1', port: 8388, log: createLogger('silent'), proxyName: 'p1' };

test('obfs http/tls and v2ray-plugin websocket build', () => {
  for (const [p, o] of [
    ['obfs', { mode: 'http' }],
    ['obfs', { mode: 'tls', host: 'a.example' }],
    ['v2ray-plugin', { mode: 'websocket' }],
    ['v2ray-plugin', { mode: 'websocket', tls: 'true', mux: 'false', headers: { Host: 'h' }, 'skip-cert-verify': true }],
  ] as const) {
    assert.equal(typeof buildPlugin(p, o, ctx).wrap, 'function');
  }
});

test('unknown plugins, modes and bad options are CONFIG errors naming the proxy', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['simple-obfs', {}, /proxy "p1": unknown plugin "simple-obfs" \(supported: obfs, v2ray-plugin\)/],
    ['obfs', {}, /obfs mode "" not supported/],
    ['obfs', { mode: 'websocket' }, /obfs mode "websocket" not supported/],
    ['v2ray-plugin', { mode: 'quic' }, /v2ray-plugin mode "quic" not supported/],
    ['v2ray-plugin', { mode: 'websocket', headers: 'x' }, /plugin-opts: headers/],
    ['shadow-tls', {}, /plugin shadow-tls not supported yet/],
  ];
  for (const [p, o, re] of cases) assert.throws(() => buildPlugin(p, o, ctx), (e: Error & { code?: string }) => e.code === 'CONFIG' && re.test(e.message));
});
