import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../core/config-issue.js';
import { ProxyRegistry } from '../protocol/registry.js';
import { DEFAULT_CONFIG_YAML, loadConfig } from './load.js';

/** A registry with one fake protocol, `fake`, whose schema checks server/port/cipher. */
function fakeRegistry(): ProxyRegistry {
  return new ProxyRegistry().register({
    type: 'fake',
    schema: z.object({
      name: z.string(),
      type: z.literal('fake'),
      server: z.string(),
      port: z.number().int().min(1).max(65535),
      cipher: z.enum(['aes-128-gcm', 'chacha20-ietf-poly1305']),
      udp: z.boolean().default(false),
    }),
    create() {
      throw new Error('not used in config tests');
    },
  });
}

const registry = fakeRegistry();
const load = (text: string) => loadConfig(text, { registry });

/** The issues of a load that must fail. */
function errorsOf(text: string): readonly ConfigIssue[] {
  try {
    load(text);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.issues;
  }
  assert.fail('expected the config to be refused');
}

describe('loadConfig: defaults', () => {
  it('an empty file gives mihomo defaults and no listener', () => {
    for (const text of ['', '   \n', '# only a comment\n', '---\n']) {
      const { config, warnings } = load(text);
      assert.deepEqual(warnings, []);
      assert.equal(config.general.mode, 'rule');
      assert.equal(config.general.logLevel, 'info');
      assert.equal(config.general.ipv6, true);
      assert.equal(config.general.allowLan, false);
      assert.equal(config.general.bindAddress, '*');
      assert.deepEqual(config.general.authentication, []);
      assert.deepEqual(config.general.skipAuthPrefixes, []);
      assert.deepEqual(config.general.lanAllowedIps, ['0.0.0.0/0', '::/0']);
      assert.deepEqual(config.general.lanDisallowedIps, []);
      assert.equal(config.general.externalController, undefined);
      assert.equal(config.general.externalUi, undefined);
      assert.equal(config.general.secret, '');
      assert.deepEqual(config.listeners, []);
      assert.deepEqual(config.proxies, []);
      assert.deepEqual(config.proxyGroups, []);
      assert.deepEqual(config.rules, []);
      assert.equal(config.dns.enable, false);
    }
  });

  it('keys with no value mean their default', () => {
    const { config } = load('mode:\nproxies:\nrules:\nmixed-port:\n');
    assert.equal(config.general.mode, 'rule');
    assert.deepEqual(config.listeners, []);
  });

  it('the embedded default config loads as documented', () => {
    const { config, warnings } = load(DEFAULT_CONFIG_YAML);
    assert.deepEqual(warnings, []);
    assert.equal(config.general.mode, 'rule');
    assert.equal(config.general.allowLan, false);
    assert.equal(config.general.logLevel, 'info');
    assert.equal(config.general.externalController, '127.0.0.1:9090');
    assert.equal(config.listeners.length, 1);
    assert.deepEqual(
      { ...config.listeners[0], line: undefined },
      { name: 'DEFAULT-MIXED', type: 'mixed', listen: '127.0.0.1', port: 7890, udp: true, users: undefined, applyLanPolicy: true, path: 'mixed-port', line: undefined },
    );
    assert.deepEqual(config.rules.map((r) => [r.type, r.target]), [['MATCH', 'DIRECT']]);
  });

  it('the result is deep-frozen', () => {
    const { config, warnings } = load('authentication: ["a:b"]\nrules: ["MATCH,DIRECT"]\nmixed-port: 1\n');
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.general));
    assert.ok(Object.isFrozen(config.general.authentication));
    assert.ok(Object.isFrozen(config.general.authentication[0]));
    assert.ok(Object.isFrozen(config.listeners[0]));
    assert.ok(Object.isFrozen(config.rules[0].params));
    assert.ok(Object.isFrozen(warnings));
    assert.throws(() => {
      (config.general as { mode: string }).mode = 'direct';
    }, TypeError);
  });
});

describe('loadConfig: general keys', () => {
  it('reads every general and controller key', () => {
    const { config, warnings } = load(`
mode: global
log-level: debug
ipv6: false
allow-lan: true
bind-address: 192.168.1.2
authentication: ["alice:pw1", "bob:p:w:2"]
skip-auth-prefixes: [127.0.0.1/8, "::1/128"]
lan-allowed-ips: [192.168.0.0/16]
lan-disallowed-ips: [192.168.0.1/32]
external-controller: 0.0.0.0:9093
external-controller-unix: mihomo.sock
external-controller-cors: { allow-origins: [https://board.example], allow-private-network: false }
external-ui: ui
external-ui-name: zash
secret: s3cret
dns: { enable: false, nameserver: [1.1.1.1] }
warm-pool: { min: 1, max: 4, max-idle: 2 }
workers: 3
tcp-idle-timeout: 90s
unified-delay: true
`);
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.general, {
      mode: 'global',
      logLevel: 'debug',
      ipv6: false,
      allowLan: true,
      bindAddress: '192.168.1.2',
      authentication: [
        { username: 'alice', password: 'pw1' },
        { username: 'bob', password: 'p:w:2' },
      ],
      skipAuthPrefixes: ['127.0.0.1/8', '::1/128'],
      lanAllowedIps: ['192.168.0.0/16'],
      lanDisallowedIps: ['192.168.0.1/32'],
      unifiedDelay: true,
      externalController: '0.0.0.0:9093',
      externalControllerUnix: 'mihomo.sock',
      externalControllerCors: { allowOrigins: ['https://board.example'], allowPrivateNetwork: false },
      externalUi: 'ui',
      externalUiName: 'zash',
      secret: 's3cret',
      warmPool: { enable: true, min: 1, max: 4, maxIdleMs: 2000 },
      workers: 3,
      storeSelected: true,
      maxConnections: 0,
      maxConnectionsPerIp: 0,
      tcpIdleTimeoutMs: 90_000,
    });
    assert.equal(config.dns.enable, false);
  });

  it('mode and log-level are case-insensitive', () => {
    assert.equal(load('mode: Rule').config.general.mode, 'rule');
    assert.equal(load('mode: GLOBAL').config.general.mode, 'global');
    assert.equal(load('mode: Direct').config.general.mode, 'direct');
    assert.equal(load('log-level: Warning').config.general.logLevel, 'warning');
    assert.equal(load('log-level: SILENT').config.general.logLevel, 'silent');
  });

  it('accepts YAML 1.1 booleans and a numeric secret', () => {
    const { config } = load('allow-lan: yes\nipv6: off\nsecret: 1234\n');
    assert.equal(config.general.allowLan, true);
    assert.equal(config.general.ipv6, false);
    assert.equal(config.general.secret, '1234');
  });

  it('warns about an authentication entry without a colon (mihomo skips it)', () => {
    const { config, warnings } = load('authentication:\n  - nocolon\n  - "u:p"\n');
    assert.deepEqual(config.general.authentication, [{ username: 'u', password: 'p' }]);
    assert.deepEqual(warnings, [{ path: 'authentication[0]', line: 2, message: 'expected "user:pass", entry ignored' }]);
  });

  it('dns: the section is read as mihomo reads it (defaults, nameserver entries)', () => {
    const { config, warnings } = load('dns:\n  enable: true\n  enhanced-mode: fake-ip\n  nameserver: [8.8.8.8, "tls://1.1.1.1#skip-cert-verify=true"]\n');
    assert.equal(config.dns.enable, true);
    assert.equal(config.dns.enhancedMode, 'fake-ip');
    assert.equal(config.dns.fakeIpRange, '198.18.0.1/16');
    assert.equal(config.dns.ipv6, false);
    assert.deepEqual(config.dns.nameserver.map((n) => [n.net, n.host, n.port, n.skipCertVerify]), [['udp', '8.8.8.8', 53, false], ['tls', '1.1.1.1', 853, true]]);
    assert.deepEqual(warnings, []);
  });

  it('reports each invalid general value with path and line', () => {
    const issues = errorsOf(`
mode: fast
log-level: loud
ipv6: maybe
allow-lan: sometimes
skip-auth-prefixes: [1.2.3.4/33]
lan-allowed-ips: [nonsense]
external-controller: "9090"
dns: { enable: perhaps }
`);
    assert.deepEqual(
      issues.map((i) => [i.path, i.line]),
      [
        ['mode', 2],
        ['log-level', 3],
        ['ipv6', 4],
        ['allow-lan', 5],
        ['skip-auth-prefixes[0]', 6],
        ['lan-allowed-ips[0]', 7],
        ['external-controller', 8],
        ['dns.enable', 9],
      ],
    );
    assert.match(issues[4].message, /invalid IP prefix "1.2.3.4\/33"/);
  });
});

describe('loadConfig: top-level keys', () => {
  it('warns once per unknown key and per known-but-unsupported key', () => {
    const { warnings } = load(`
mixed-port: 7890
my-anchors: &a { x: 1 }
inbound-tfo: true
tcp-concurrent: true
geodata-mode: true
profile: { store-selected: true }
sniffer: { enable: false }
tun: { enable: false }
hosts: { a.example: 1.2.3.4 }
`);
    assert.deepEqual(
      warnings.map((w) => [w.path, w.line, w.message]),
      [
        ['my-anchors', 3, 'unknown key my-anchors, ignored'],
        ['inbound-tfo', 4, 'inbound-tfo is not supported yet, ignored'],
        ['tcp-concurrent', 5, 'tcp-concurrent is not supported yet, ignored'],
        ['tun', 9, 'tun is not supported yet, ignored'],
      ],
    );
  });

  it('refuses keys whose absence would route traffic wrongly', () => {
    const issues = errorsOf(`
tun: { enable: true }
iptables: { enable: true }
interface-name: eth0
routing-mark: 6666
Proxy: []
`);
    assert.deepEqual(
      issues.map((i) => [i.path, i.line]),
      [['tun', 2], ['iptables', 3], ['interface-name', 4], ['routing-mark', 5], ['Proxy', 6]],
    );
    assert.equal(issues[0].message, 'tun is not supported yet (enable: true)');
    assert.equal(errorsOf('tun: { enable: yes }\n')[0].path, 'tun');
    assert.match(issues[4].message, /rename it to proxies/);
  });

  it('passes YAML warnings on with their lines', () => {
    const { config, warnings } = load('mode: rule\nsecret: !custom s\n');
    assert.equal(config.general.secret, 's');
    assert.deepEqual(warnings, [{ path: '', line: 2, message: 'YAML: Unresolved tag: !custom' }]);
  });

  it('refuses a top level that is not a mapping', () => {
    for (const text of ['- a\n- b\n', 'just a string', '42']) {
      const issues = errorsOf(text);
      assert.equal(issues.length, 1);
      assert.match(issues[0].message, /must be a mapping/);
    }
  });

  it('turns YAML syntax errors into issues with lines', () => {
    const issues = errorsOf('mode: rule\nproxies:\n  - name: a\n   type: b\n');
    assert.ok(issues.length >= 1);
    assert.equal(issues[0].line, 4);
    assert.match(issues[0].message, /^YAML: /);
    const dup = errorsOf('mode: rule\nmode: global\n');
    assert.equal(dup[0].line, 2);
    const alias = errorsOf('rules: [*nowhere]\n');
    assert.match(alias[0].message, /YAML/);
  });
});
