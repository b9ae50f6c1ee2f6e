import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { createLogger, type LogEntry } from '../common/log.js';
import { buildTransport, transportShape, type TransportContext } from './build.js';

function ctx(extra: Partial<TransportContext> = {}): { ctx: TransportContext; warnings: string[] } {
  const log = createLogger('debug', () => undefined);
  const warnings: string[] = [];
  log.subscribe((e: LogEntry) => e.level === 'warning' && warnings.push(e.message));
  return { ctx: { server: 'srv.example', port: 443, proxyName: 'p1', log, ...extra }, warnings };
}

const schema = z.looseObject(transportShape);

test('the shape parses mihomo spellings weakly (strings for bools, one string for a list)', () => {
  const o = schema.parse({ network: 'ws', tls: 'true', alpn: 'h2', 'ws-opts': { 'max-early-data': '2048', headers: { Host: 'h' } }, 'h2-opts': { host: 'one' } });
  assert.equal(o.tls, true);
  assert.deepEqual(o.alpn, ['h2']);
  assert.equal(o['ws-opts']?.['max-early-data'], 2048);
  assert.deepEqual(o['h2-opts']?.host, ['one']);
  assert.equal(schema.safeParse({ 'ws-opts': { headers: 5 } }).success, false);
});

test('layers per network, in order: tls first', () => {
  const n = (cfg: Parameters<typeof buildTransport>[0]) => buildTransport(cfg, ctx().ctx).layers.length;
  assert.equal(n({}), 0);
  assert.equal(n({ tls: true }), 1);
  assert.equal(n({ network: 'ws' }), 1);
  assert.equal(n({ network: 'ws', tls: true }), 2);
  assert.equal(n({ network: 'h2' }), 2); // h2 always runs over TLS
  assert.equal(n({ network: 'grpc' }), 1);
  assert.equal(n({ network: 'grpc', tls: true }), 2);
  assert.equal(n({ network: 'http' }), 1);
  assert.equal(n({ network: 'ws', 'ws-opts': { 'v2ray-http-upgrade': true } }), 1);
  assert.equal(buildTransport({}, ctx({ tlsDefault: true }).ctx).layers.length, 1);
  assert.equal(buildTransport({ network: 'TCP' }, ctx().ctx).network, 'tcp');
});

test('keys we cannot honour: warnings or errors, never silence', () => {
  const a = ctx();
  buildTransport({ 'client-fingerprint': 'chrome' }, a.ctx);
  assert.match(a.warnings.join('\n'), /proxy "p1": client-fingerprint chrome not supported/);
  const b = ctx({ tlsDefault: true });
  buildTransport({ tls: false }, b.ctx);
  assert.match(b.warnings.join('\n'), /tls: false ignored/);
  const refused: [Parameters<typeof buildTransport>[0], RegExp][] = [
    [{ 'reality-opts': { 'public-key': 'k' } }, /proxy "p1": reality-opts not supported yet/],
    [{ 'ech-opts': { enable: true } }, /ech-opts not supported yet/],
    [{ network: 'kcp' }, /network "kcp" not supported/],
    [{ network: 'xhttp' }, /network "xhttp" not supported/],
  ];
  for (const [cfg, re] of refused) assert.throws(() => buildTransport(cfg, ctx().ctx), (e: Error & { code?: string }) => e.code === 'CONFIG' && re.test(e.message));
  // an empty reality-opts (templates leave it) is not REALITY: mihomo ignores it too
  buildTransport({ 'reality-opts': {} }, ctx().ctx);
});
