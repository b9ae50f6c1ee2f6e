import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '../core/config-issue.js';
import { ProxyRegistry } from '../protocol/registry.js';
import { loadConfig } from './load.js';
import { SNIFFER_DEFAULTS } from './sniffer.js';

const load = (text: string) => loadConfig(text, { registry: new ProxyRegistry() });
const errorsOf = (text: string): string[] => {
  try {
    load(text);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => i.message);
    throw err;
  }
  return [];
};

describe('sniffer: config', () => {
  test('absent: mihomo defaults, disabled; no warning', () => {
    const r = load('mixed-port: 0\n');
    assert.deepEqual(r.config.sniffer, SNIFFER_DEFAULTS);
    assert.equal(r.config.sniffer.enable, false);
    assert.ok(!r.warnings.some((w) => w.message.includes('sniffer')));
  });

  test('the sniff form: types in any case, ports and ranges, per-sniffer override', () => {
    const r = load(
      [
        'sniffer:',
        '  enable: true',
        '  override-destination: false',
        '  force-dns-mapping: false',
        '  parse-pure-ip: false',
        '  sniff:',
        '    QUIC:',
        '    tls: { ports: [443, "8443"] }',
        '    HTTP:',
        '      ports: [80, 8080-8880]',
        '      override-destination: true',
        '  force-domain: [+.v2ex.com]',
        '  skip-domain: [Mijia Cloud, "geosite:cn"]',
        '  skip-src-address: [192.168.0.3/32]',
        '  skip-dst-address: [10.0.0.0/8, "fd00::/8"]',
        '',
      ].join('\n'),
    );
    const s = r.config.sniffer;
    assert.equal(s.enable, true);
    assert.equal(s.forceDnsMapping, false);
    assert.equal(s.parsePureIp, false);
    assert.deepEqual(s.sniff, [
      { type: 'QUIC', ports: [], overrideDestination: false },
      { type: 'TLS', ports: [{ from: 443, to: 443 }, { from: 8443, to: 8443 }], overrideDestination: false },
      { type: 'HTTP', ports: [{ from: 80, to: 80 }, { from: 8080, to: 8880 }], overrideDestination: true },
    ]);
    assert.deepEqual(s.forceDomain, ['+.v2ex.com']);
    assert.deepEqual(s.skipDomain, ['Mijia Cloud']);
    assert.deepEqual(s.skipDstAddress, ['10.0.0.0/8', 'fd00::/8']);
    assert.ok(r.warnings.some((w) => w.message.includes('geosite:cn in sniffer.skip-domain is not supported yet')));
  });

  test('the older sniffing list with port-whitelist, and its deprecation warning', () => {
    const r = load('sniffer:\n  enable: true\n  sniffing: [tls, http]\n  port-whitelist: ["80", "443", 8000-9000]\n');
    assert.deepEqual(
      r.config.sniffer.sniff.map((x) => [x.type, x.ports.length, x.overrideDestination]),
      [
        ['TLS', 3, true],
        ['HTTP', 3, true],
      ],
    );
    assert.ok(r.warnings.some((w) => w.message === 'Deprecated: Use Sniff instead'));
    // `sniff` wins over `sniffing`
    assert.deepEqual(load('sniffer:\n  enable: true\n  sniffing: [tls]\n  sniff: { HTTP: {} }\n').config.sniffer.sniff.map((x) => x.type), ['HTTP']);
  });

  test('errors: an unknown sniffer, a bad port, a bad prefix, a non-boolean', () => {
    assert.ok(errorsOf('sniffer:\n  enable: true\n  sniff: { SSH: {} }\n').some((m) => m.includes('not find the sniffer[SSH]')));
    assert.ok(errorsOf('sniffer:\n  sniffing: [smtp]\n').some((m) => m.includes('not find the sniffer[smtp]')));
    assert.ok(errorsOf('sniffer:\n  sniff: { TLS: { ports: [70000] } }\n').some((m) => m.includes('invalid port range')));
    assert.ok(errorsOf('sniffer:\n  sniff: { TLS: { ports: [1-2-3] } }\n').some((m) => m.includes('invalid port range')));
    assert.ok(errorsOf('sniffer:\n  skip-dst-address: [10.0.0.0/33]\n').some((m) => m.includes('invalid IP prefix')));
    assert.ok(errorsOf('sniffer:\n  enable: perhaps\n').length > 0);
    assert.ok(errorsOf('sniffer: [1, 2]\n').length > 0);
  });

  test('an unknown key warns', () => {
    const r = load('sniffer:\n  enable: false\n  sniff-everything: true\n');
    assert.ok(r.warnings.some((w) => w.message === 'unknown key sniffer.sniff-everything, ignored'));
  });
});
