/**
 * DNS in the running core: with dns.enable every dial resolves through the configured
 * nameservers (dnsmasq logs the query), dig against dns.listen, GET /dns/query's source, and a
 * reload that swaps the nameservers and keeps (or moves) the listener.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../src/common/log.js';
import { Host } from '../../src/host/host.js';
import { curl } from '../e2e/curl.js';
import { httpServer, type Local } from '../support/servers.js';
import { freePort } from '../support/ports.js';
import { dig } from './dig.js';
import { startDnsmasq, startUnbound, type Dnsmasq, type Unbound } from './peers.js';

let dnsmasq: Dnsmasq;
let unbound: Unbound;
let web: Local;

before(async () => {
  // web.test is this host's loopback in dnsmasq and in unbound (where other.test differs)
  dnsmasq = await startDnsmasq({ 'web.test': '127.0.0.1', 'other.test': '10.0.0.5', 'probe.test': '127.0.0.1' }, '', ['--log-queries']);
  unbound = await startUnbound({ 'web.test': '127.0.0.1', 'other.test': '10.1.1.5' });
  web = await httpServer();
  mixed = await freePort();
});

after(async () => {
  await dnsmasq?.stop();
  await unbound?.stop();
  await web?.close();
});

let mixed = 0;
function yaml(ns: string, listen: number, rules = ['MATCH,DIRECT'], extra: string[] = []): string {
  return [
    `mixed-port: ${mixed}`,
    'log-level: debug',
    'dns:',
    '  enable: true',
    `  listen: 127.0.0.1:${listen}`,
    `  nameserver: [${ns}]`,
    ...extra,
    'rules:',
    ...rules.map((r) => `  - ${r}`),
  ].join('\n');
}

const mixedPort = (h: Host) => h.inbound('DEFAULT-MIXED')!.address().port;

describe('DNS in the host', () => {
  test('a DIRECT dial by name resolves through the configured nameserver', async () => {
    const dnsPort = await freePort();
    const host = await Host.start(yaml(`127.0.0.1:${dnsmasq.port}`, dnsPort), { log: createLogger('silent') });
    try {
      const r = await curl(['--socks5-hostname', `127.0.0.1:${mixedPort(host)}`, `http://web.test:${web.port}/data/100`]);
      assert.equal(r.status, 200, r.stderr);
      assert.match(dnsmasq.output(), /query\[A\] web\.test from 127\.0\.0\.1/);
      // the rules' IP resolution and /dns/query use the same resolver
      const q = await host.control.dnsExchange!('other.test', 'A');
      assert.deepEqual(q.answer.map((a) => a.data), ['10.0.0.5']);
      const mx = await host.control.dnsExchange!('other.test', 'MX');
      assert.equal(mx.status, 0);
      // a health check (URL test through DIRECT) resolves through the same DNS
      const before = (dnsmasq.output().match(/query\[A\] probe\.test/g) ?? []).length;
      const delay = await host.control.delay('DIRECT', { url: `http://probe.test:${web.port}/data/1`, timeoutMs: 5000 });
      assert.equal(typeof delay, 'number');
      assert.ok((dnsmasq.output().match(/query\[A\] probe\.test/g) ?? []).length > before, 'the URL test asked dnsmasq');
    } finally {
      await host.close(0);
    }
  });

  test('dig against dns.listen (UDP and TCP); a reload swaps the nameservers and keeps the listener; a new listen rebinds', async () => {
    const dnsPort = await freePort();
    const host = await Host.start(yaml(`127.0.0.1:${dnsmasq.port}`, dnsPort), { log: createLogger('silent') });
    try {
      assert.deepEqual((await dig(dnsPort, 'other.test')).answers, ['10.0.0.5']);
      assert.deepEqual((await dig(dnsPort, 'other.test', 'A', ['+tcp'])).answers, ['10.0.0.5']);
      const nx = await dig(dnsPort, 'missing.test');
      assert.equal(nx.status, 'NXDOMAIN');
      await host.reload(yaml(`tls://127.0.0.1:${unbound.dotPort}#skip-cert-verify=true`, dnsPort));
      assert.deepEqual((await dig(dnsPort, 'other.test')).answers, ['10.1.1.5'], 'the new generation answers (its own cache)');
      const next = await freePort();
      await host.reload(yaml(`tls://127.0.0.1:${unbound.dotPort}#skip-cert-verify=true`, next));
      assert.deepEqual((await dig(next, 'other.test')).answers, ['10.1.1.5']);
      assert.equal(host.dnsServer!.address().udp!.port, next);
      await host.reload(yaml(`127.0.0.1:${dnsmasq.port}`, next).replace('  enable: true', '  enable: false'));
      assert.equal(host.dnsServer!.address().udp, undefined, 'dns.enable false: no listener');
    } finally {
      await host.close(0);
    }
  });

  test('a #proxy nameserver is dialed through that proxy (a socks5 proxy of our own: its log shows the DNS server)', async () => {
    // a second core is the SOCKS5 proxy; it logs each connection it carries
    const lines: string[] = [];
    const log = createLogger('info');
    log.subscribe((e) => lines.push(e.message));
    const proxy = await Host.start(`mixed-port: ${await freePort()}\nrules:\n  - MATCH,DIRECT`, { log });
    const dnsPort = await freePort();
    const host = await Host.start(
      [
        'proxies:',
        `  - { name: via, type: socks5, server: 127.0.0.1, port: ${mixedPort(proxy)} }`,
        'dns:',
        '  enable: true',
        `  listen: 127.0.0.1:${dnsPort}`,
        `  nameserver: ['tcp://127.0.0.1:${unbound.port}#via']`,
        'rules:',
        '  - MATCH,DIRECT',
      ].join('\n'),
      { log: createLogger('silent') },
    );
    try {
      assert.deepEqual((await dig(dnsPort, 'other.test')).answers, ['10.1.1.5']);
      assert.ok(lines.some((l) => l.includes(`127.0.0.1:${unbound.port}`)), lines.join('\n'));
    } finally {
      await host.close(0);
      await proxy.close(0);
    }
  });

  test('#RULES (and respect-rules) routes the query by the rules: a DST-PORT rule sends it through the proxy', async () => {
    const lines: string[] = [];
    const log = createLogger('info');
    log.subscribe((e) => lines.push(e.message));
    const proxy = await Host.start(`mixed-port: ${await freePort()}\nrules:\n  - MATCH,DIRECT`, { log });
    const dnsPort = await freePort();
    const text = (ns: string, extra: string[] = []) =>
      [
        'proxies:',
        `  - { name: via, type: socks5, server: 127.0.0.1, port: ${mixedPort(proxy)} }`,
        'dns:',
        '  enable: true',
        `  listen: 127.0.0.1:${dnsPort}`,
        `  nameserver: ['${ns}']`,
        ...extra,
        'rules:',
        `  - DST-PORT,${unbound.port},via`,
        '  - MATCH,DIRECT',
      ].join('\n');
    const host = await Host.start(text(`tcp://127.0.0.1:${unbound.port}#RULES`), { log: createLogger('silent') });
    try {
      assert.deepEqual((await dig(dnsPort, 'other.test')).answers, ['10.1.1.5']);
      assert.ok(lines.some((l) => l.includes(`127.0.0.1:${unbound.port}`)), lines.join('\n'));
      lines.length = 0;
      await host.reload(text(`tcp://127.0.0.1:${unbound.port}`, ['  respect-rules: true', `  proxy-server-nameserver: [127.0.0.1:${dnsmasq.port}]`]));
      assert.deepEqual((await dig(dnsPort, 'web.test')).answers, ['127.0.0.1']);
      assert.ok(lines.some((l) => l.includes(`127.0.0.1:${unbound.port}`)), 'respect-rules: the same route');
    } finally {
      await host.close(0);
      await proxy.close(0);
    }
  });

  test('a -t style check builds the DNS (a missing #proxy is a config error) and binds nothing', async () => {
    const checked = await Host.check(yaml(`127.0.0.1:${dnsmasq.port}`, 1));
    assert.equal(checked.config.dns.enable, true);
    await assert.rejects(Host.check(yaml(`127.0.0.1:${dnsmasq.port}#nosuchproxy`, 1)), /proxy nosuchproxy not found/);
  });
});

