import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, type ConfigIssue } from '../core/config-issue.js';
import { ProxyRegistry } from '../protocol/registry.js';
import { loadConfig } from './load.js';

const load = (text: string) => loadConfig(text, { registry: new ProxyRegistry() });

function errorsOf(text: string): readonly ConfigIssue[] {
  try {
    load(text);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.issues;
  }
  assert.fail('expected the config to be refused');
}

/** name, type, listen, port, udp of each listener */
const brief = (text: string) => load(text).config.listeners.map((l) => [l.name, l.type, l.listen, l.port, l.udp]);

describe('listeners from the *-port keys', () => {
  it('derives DEFAULT-MIXED, DEFAULT-HTTP and DEFAULT-SOCKS on loopback without allow-lan', () => {
    assert.deepEqual(brief('mixed-port: 7890\nport: 7891\nsocks-port: 7892\n'), [
      ['DEFAULT-MIXED', 'mixed', '127.0.0.1', 7890, true],
      ['DEFAULT-HTTP', 'http', '127.0.0.1', 7891, false],
      ['DEFAULT-SOCKS', 'socks', '127.0.0.1', 7892, true],
    ]);
    const l = load('mixed-port: 7890').config.listeners[0];
    assert.equal(l.applyLanPolicy, true);
    assert.equal(l.users, undefined);
    assert.equal(l.path, 'mixed-port');
    assert.equal(l.line, 1);
  });

  it('binds every interface with allow-lan and bind-address *', () => {
    assert.deepEqual(brief('allow-lan: true\nmixed-port: 7890\n'), [['DEFAULT-MIXED', 'mixed', '::', 7890, true]]);
    assert.deepEqual(brief("allow-lan: true\nbind-address: '*'\nport: 8080\n"), [['DEFAULT-HTTP', 'http', '::', 8080, false]]);
  });

  it('binds bind-address with allow-lan, and ignores it without', () => {
    assert.deepEqual(brief('allow-lan: true\nbind-address: 10.0.0.5\nsocks-port: 1080\n'), [
      ['DEFAULT-SOCKS', 'socks', '10.0.0.5', 1080, true],
    ]);
    assert.deepEqual(brief('allow-lan: false\nbind-address: 10.0.0.5\nsocks-port: 1080\n'), [
      ['DEFAULT-SOCKS', 'socks', '127.0.0.1', 1080, true],
    ]);
  });

  it('starts nothing for a port of 0 or an absent port', () => {
    assert.deepEqual(brief('mixed-port: 0\nport: 0\n'), []);
    assert.deepEqual(brief('mode: rule\n'), []);
  });

  it('rejects invalid ports with path and line', () => {
    const issues = errorsOf('mode: rule\nmixed-port: 70000\nport: -1\nsocks-port: abc\n');
    assert.deepEqual(issues.map((i) => [i.path, i.line]), [['mixed-port', 2], ['port', 3], ['socks-port', 4]]);
  });
});

describe('listeners: entries', () => {
  it('reads mixed, http and socks entries with mihomo defaults', () => {
    const { config } = load(`
listeners:
  - name: in-mixed
    type: mixed
    port: 10801
  - name: in-http
    type: http
    listen: 127.0.0.1
    port: "10802"
    udp: true
  - name: in-socks
    type: socks
    listen: "::1"
    port: 0
    udp: false
    users:
      - { username: u, password: p }
  - name: open
    type: mixed
    port: 10803
    users: []
`);
    const ls = config.listeners;
    assert.deepEqual(ls.map((l) => [l.name, l.type, l.listen, l.port, l.udp, l.applyLanPolicy]), [
      ['in-mixed', 'mixed', '0.0.0.0', 10801, true, true],
      ['in-http', 'http', '127.0.0.1', 10802, false, true],
      ['in-socks', 'socks', '::1', 0, false, false],
      ['open', 'mixed', '0.0.0.0', 10803, true, false],
    ]);
    assert.equal(ls[0].users, undefined, 'absent users: the global authentication applies');
    assert.deepEqual(ls[2].users, [{ username: 'u', password: 'p' }]);
    assert.deepEqual(ls[3].users, [], 'users: [] turns authentication off');
    assert.deepEqual(ls.map((l) => [l.path, l.line]), [['listeners[0]', 3], ['listeners[1]', 6], ['listeners[2]', 11], ['listeners[3]', 18]]);
  });

  it('reports unsupported and unknown types, unsafe options and bad fields', () => {
    const issues = errorsOf(`
listeners:
  - { name: t, type: tun }
  - { name: x, type: warp, port: 1 }
  - { name: s, type: mixed, port: 1, certificate: c.pem, private-key: k.pem }
  - { name: r, type: socks, port: 2, proxy: DIRECT }
  - { type: mixed, port: 3 }
  - { name: b, type: http, listen: localhost, port: 4 }
  - { name: p, type: mixed, port: 7890-7892 }
  - { name: m }
  - just-a-string
`);
    assert.deepEqual(
      issues.map((i) => [i.path, i.line, i.message]),
      [
        ['listeners[0].type', 3, 'listener type tun not supported yet'],
        ['listeners[1].type', 4, 'unknown listener type warp'],
        ['listeners[2].certificate', 5, 'listener option certificate not supported yet'],
        ['listeners[2].private-key', 5, 'listener option private-key not supported yet'],
        ['listeners[3].proxy', 6, 'listener option proxy not supported yet'],
        ['listeners[4].name', 7, 'missing'],
        ['listeners[5].listen', 8, 'expected an IP address'],
        ['listeners[6].port', 9, 'port ranges not supported yet'],
        ['listeners[7].type', 10, 'missing type'],
        ['listeners[8]', 11, 'expected a mapping'],
      ],
    );
  });

  it('warns about unknown listener options', () => {
    const { warnings } = load('listeners:\n  - { name: a, type: mixed, port: 0, flavour: x }\n');
    assert.deepEqual(warnings, [{ path: 'listeners[0].flavour', line: 2, message: 'unknown listener option flavour, ignored' }]);
  });

  it('refuses duplicate names and ports, but allows port 0 twice and distinct hosts', () => {
    const issues = errorsOf(`
mixed-port: 7890
listeners:
  - { name: DEFAULT-MIXED, type: mixed, port: 0 }
  - { name: a, type: http, port: 7890 }
  - { name: b, type: socks, listen: 127.0.0.2, port: 9000 }
  - { name: c, type: socks, listen: 127.0.0.3, port: 9000 }
  - { name: d, type: socks, listen: 127.0.0.3, port: 9000 }
  - { name: e, type: socks, port: 0 }
`);
    assert.deepEqual(issues.map((i) => [i.path, i.line]), [['listeners[0]', 4], ['listeners[1]', 5], ['listeners[4]', 8]]);
    assert.match(issues[0].message, /duplicate listener name DEFAULT-MIXED \(also mixed-port\)/);
    assert.match(issues[1].message, /port 7890 already used by listener DEFAULT-MIXED/);
    assert.match(issues[2].message, /port 9000 already used by listener c/);
  });
});

describe('the compact inbound: form', () => {
  it('reads the seed form inbound.mixed with listen host:port', () => {
    const { config, warnings } = load(`
log-level: warning
mode: rule
inbound:
  mixed:
    listen: "0.0.0.0:7890"
    udp: true
dns:
  enable: false
rules:
  - MATCH,DIRECT
`);
    assert.deepEqual(warnings, []);
    assert.equal(config.general.logLevel, 'warning');
    assert.deepEqual(config.listeners, [
      { name: 'DEFAULT-MIXED', type: 'mixed', listen: '0.0.0.0', port: 7890, udp: true, users: undefined, applyLanPolicy: true, path: 'inbound.mixed', line: 5 },
    ]);
  });

  it('reads http and socks, with [v6]:port and :port', () => {
    assert.deepEqual(brief('inbound:\n  http: { listen: "[::1]:8080" }\n  socks: { listen: ":1080", udp: false }\n'), [
      ['DEFAULT-HTTP', 'http', '::1', 8080, false],
      ['DEFAULT-SOCKS', 'socks', '0.0.0.0', 1080, false],
    ]);
  });

  it('reports bad entries and clashes with mixed-port', () => {
    const issues = errorsOf('mixed-port: 7890\ninbound:\n  mixed: { listen: "0.0.0.0:7890" }\n  tun: {}\n  socks: { listen: nope }\n');
    assert.deepEqual(issues.map((i) => [i.path, i.line]), [['inbound.mixed', 3], ['inbound.tun', 4], ['inbound.socks.listen', 5]]);
    assert.match(issues[0].message, /duplicate listener name DEFAULT-MIXED/);
    assert.match(issues[1].message, /inbound type tun not supported yet/);
  });
});
