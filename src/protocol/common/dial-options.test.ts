import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { test } from 'node:test';
import { PROXY_TYPE_KEYS, typesOf } from '../../../test/support/proxy-mappings.js';
import { createLogger } from '../../common/log.js';
import { loadConfig } from '../../config/load.js';
import type { Metadata } from '../../core/metadata.js';
import type { Resolver } from '../../core/resolver.js';
import { createSystemDialer } from '../../transport/system-dialer.js';
import { createRegistry } from '../index.js';
import type { OutboundDeps } from '../registry.js';

// One table of dial keys over every proxy type that takes them: each key behaves the same on
// direct, http, socks5, ss, vmess, vless and trojan (they all build their dialer with
// proxyDialer from common/dial-options.ts).

const registry = createRegistry();
const dialTypes = typesOf(registry).filter(([, k]) => k.dial);

// srv.test has both families
const resolver: Resolver = {
  resolve4: async () => ['127.0.0.1'],
  resolve6: async () => ['::1'],
  resolveIp: async () => '127.0.0.1',
};

/** A server on both families that records which family each connection came from, and drops it. */
async function recordingServer(): Promise<{ server: Server; port: number; families: string[] }> {
  const families: string[] = [];
  const server = createServer((s) => {
    families.push(s.remoteAddress === '::1' ? 'IPv6' : 'IPv4');
    s.on('error', () => undefined);
    s.destroy();
  });
  await new Promise<void>((r) => server.listen({ port: 0, host: '::', ipv6Only: false }, r));
  return { server, port: (server.address() as { port: number }).port, families };
}

function depsWithLog(): { deps: OutboundDeps; warnings: string[] } {
  const warnings: string[] = [];
  const log = createLogger('debug', (line) => {
    if (line.includes('level=warning')) warnings.push(line);
  });
  return { deps: { resolver, log, dialer: createSystemDialer({ resolver }) }, warnings };
}

function build(type: string, extra: Record<string, unknown>, deps: OutboundDeps) {
  const def = registry.get(type)!;
  const o = def.schema.parse({ ...PROXY_TYPE_KEYS[type].base, ...extra });
  return def.create(o, deps);
}

const meta = (port: number): Metadata => ({
  id: 't',
  network: 'tcp',
  inbound: { type: 'SOCKS5', name: 'test', port: 0 },
  source: { host: '127.0.0.1', port: 1 },
  // DIRECT dials the destination itself; the others dial their server (srv.test:port)
  destination: { host: 'srv.test', port },
});

/** Which family the outbound's first connection used (the server drops it at once). */
async function familyOf(type: string, extra: Record<string, unknown>, deps: OutboundDeps): Promise<string> {
  const { server, port, families } = await recordingServer();
  const out = build(type, { ...extra, port }, deps);
  try {
    const s = await out.dialTcp(meta(port), { signal: AbortSignal.timeout(3000) }).catch(() => undefined);
    s?.destroy();
    for (let i = 0; i < 100 && families.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(families.length > 0, `${type}: a connection reached the server`);
    return families[0];
  } finally {
    await out.close();
    server.close();
  }
}

const WARNS: readonly [key: string, value: unknown][] = [
  ['interface-name', 'eth0'],
  ['routing-mark', 255],
  ['tfo', true],
  ['mptcp', 'yes'],
];

test('every type that dials takes the dial keys (the registry is fully described)', () => {
  assert.deepEqual(dialTypes.map(([t]) => t).sort(), ['direct', 'http', 'socks5', 'ss', 'trojan', 'vless', 'vmess']);
});

test('keys Node cannot honour load, and warn once per proxy, naming proxy and key, on every type', () => {
  for (const [type] of dialTypes) {
    for (const [key, value] of WARNS) {
      const { deps, warnings } = depsWithLog();
      build(type, { [key]: value }, deps);
      assert.equal(warnings.length, 1, `${type} ${key}: ${warnings.join(' | ')}`);
      assert.match(warnings[0], new RegExp(`proxy \\\\?"p\\\\?": ${key} is not supported here and is ignored`), type);
      const yaml = `proxies:\n  - ${JSON.stringify({ ...PROXY_TYPE_KEYS[type].base, [key]: value })}\n`;
      assert.equal(loadConfig(yaml, { registry }).config.proxies.length, 1, `${type} ${key} loads`);
    }
    const { deps, warnings } = depsWithLog();
    build(type, Object.fromEntries(WARNS), deps);
    assert.equal(warnings.length, 4, `${type}: all four at once`);
  }
});

test('values that turn a key off, or leave it empty, warn about nothing on every type', () => {
  for (const [type] of dialTypes) {
    const { deps, warnings } = depsWithLog();
    build(type, { 'interface-name': '', 'routing-mark': 0, tfo: false, mptcp: 'off', 'ip-version': '' }, deps);
    build(type, { 'ip-version': 'ipv4-prefer' }, deps);
    assert.deepEqual(warnings, [], type);
  }
});

test('ip-version ipv4 / ipv6 give a one-family dialer on every type; unknown is dual with a warning', async () => {
  for (const [type] of dialTypes) {
    const { deps, warnings } = depsWithLog();
    assert.equal(await familyOf(type, { 'ip-version': 'ipv4' }, deps), 'IPv4', `${type} ipv4`);
    assert.equal(await familyOf(type, { 'ip-version': 'ipv6' }, deps), 'IPv6', `${type} ipv6`);
    assert.deepEqual(warnings, [], `${type}: no warnings for known versions, none per dial`);
    await familyOf(type, { 'ip-version': 'ipv5' }, deps);
    assert.equal(warnings.length, 1, `${type} ipv5`);
    assert.match(warnings[0], /proxy \\?"p\\?": unknown ip-version \\?"ipv5\\?", using dual/, type);
  }
});
