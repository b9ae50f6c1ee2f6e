import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, type ConfigIssue } from '../core/config-issue.js';
import { ProxyRegistry } from '../protocol/registry.js';
import { loadConfig, type ListenerConfig } from './load.js';

/** a mixed / http / socks listener */
type Basic = Extract<ListenerConfig, { readonly udp: boolean }>;

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
const brief = (text: string) => load(text).config.listeners.map((l) => [l.name, l.type, l.listen, l.port, (l as Basic).udp]);

describe('listeners from the *-port keys', () => {
  it('derives DEFAULT-MIXED, DEFAULT-HTTP and DEFAULT-SOCKS on loopback without allow-lan', () => {
    assert.deepEqual(brief('mixed-port: 7890\nport: 7891\nsocks-port: 7892\n'), [
      ['DEFAULT-MIXED', 'mixed', '127.0.0.1', 7890, true],
      ['DEFAULT-HTTP', 'http', '127.0.0.1', 7891, false],
      ['DEFAULT-SOCKS', 'socks', '127.0.0.1', 7892, true],
    ]);
    const l = load('mixed-port: 7890').config.listeners[0] as Basic;
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
    const ls = config.listeners as readonly Basic[];
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

describe('server listeners (vless, trojan, vmess, shadowsocks)', () => {
  it('reads mihomo keys: users, ws-path, grpc-service-name, certificate, cipher/password', () => {
    const { config, warnings } = load(`
listeners:
  - name: vl
    type: vless
    port: 10001
    users: [{ username: a, uuid: 7d5d5a7e-9d7c-4d6e-8f5b-2f3a1b2c3d4e, flow: "" }]
    ws-path: /ws
    certificate: ./c.pem
    private-key: ./k.pem
  - { name: tr, type: trojan, listen: 127.0.0.1, port: 10002, users: [{ username: b, password: 123 }], grpc-service-name: gun }
  - { name: vm, type: vmess, port: 10003, users: [{ uuid: u1, alterId: 0 }] }
  - { name: ss, type: shadowsocks, port: 10004, cipher: aes-128-gcm, password: pw }
`);
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      config.listeners.map((l) => ({ ...l, line: undefined, path: undefined })),
      [
        { name: 'vl', type: 'vless', listen: '0.0.0.0', port: 10001, users: [{ name: 'a', secret: '7d5d5a7e-9d7c-4d6e-8f5b-2f3a1b2c3d4e' }], wsPath: '/ws', certificate: './c.pem', privateKey: './k.pem', line: undefined, path: undefined },
        { name: 'tr', type: 'trojan', listen: '127.0.0.1', port: 10002, users: [{ name: 'b', secret: '123' }], grpcServiceName: 'gun', line: undefined, path: undefined },
        { name: 'vm', type: 'vmess', listen: '0.0.0.0', port: 10003, users: [{ name: '0', secret: 'u1' }], line: undefined, path: undefined },
        { name: 'ss', type: 'shadowsocks', listen: '0.0.0.0', port: 10004, users: [], cipher: 'aes-128-gcm', password: 'pw', line: undefined, path: undefined },
      ],
    );
  });

  it('refuses what it cannot honour, naming the key', () => {
    const issues = errorsOf(`
listeners:
  - { name: a, type: vless, port: 1, users: [{ uuid: x, flow: xtls-rprx-vision }] }
  - { name: b, type: vless, port: 2, users: [{ uuid: x }], reality-config: { dest: x } }
  - { name: c, type: trojan, port: 3 }
  - { name: d, type: vmess, port: 4, users: [{ uuid: x, alterId: 64 }] }
  - { name: e, type: vmess, port: 5, users: [{ uuid: x }], decryption: none }
  - { name: f, type: trojan, port: 6, users: [{ password: p }], certificate: c.pem }
  - { name: g, type: shadowsocks, port: 7, password: p }
  - { name: h, type: tuic, port: 8 }
`);
    assert.deepEqual(
      issues.map((i) => [i.path, i.message]),
      [
        ['listeners[0].users[0].flow', 'flow xtls-rprx-vision not supported yet'],
        ['listeners[1].reality-config', 'listener option reality-config not supported yet'],
        ['listeners[2].users', 'a trojan listener needs at least one user'],
        ['listeners[3].users[0].alterId', 'legacy VMess (alterId > 0) not supported yet; use alterId 0'],
        ['listeners[4].decryption', 'listener option decryption not supported yet'],
        ['listeners[5]', 'certificate and private-key go together'],
        ['listeners[6].cipher', 'missing'],
        ['listeners[7].type', 'listener type tuic not supported yet'],
      ],
    );
  });

  it('warns about keys it ignores', () => {
    const { warnings } = load('listeners:\n  - { name: s, type: shadowsocks, port: 1, cipher: aes-128-gcm, password: p, udp: true, mux-option: {} }\n');
    assert.deepEqual(
      warnings.map((w) => [w.path, w.message]),
      [
        ['listeners[0].mux-option', 'listener option mux-option not supported yet, ignored'],
        ['listeners[0].udp', 'UDP relay on shadowsocks listeners not supported yet, ignored'],
      ],
    );
  });
});
