/**
 * The reloadable core with real traffic: 1,000 hashed tunnels through the mixed port while
 * `reload()` swaps the config under them; a broken config that changes nothing; listeners kept,
 * rebound and closed by the diff.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createLogger, type LogEntry } from '../../src/common/log.js';
import { ConfigError } from '../../src/core/config-issue.js';
import { Host } from '../../src/host/host.js';
import { freePort } from '../support/ports.js';
import { socks5UdpAssociate } from '../support/socks-client.js';
import { tcpEcho, udpEcho, type Local } from '../support/servers.js';
import { eventually } from '../cluster/load.js';
import { HashedTunnel, holdPort, openTunnels, replyCode } from './tunnels.js';

const TUNNELS = 1000;

/** Whether something accepts TCP on 127.0.0.1:port right now. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect({ port, host: '127.0.0.1' });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

describe('reload under load', () => {
  let echo: Local;
  let other: Local;
  let host: Host;
  let mixed: number;
  const lines: LogEntry[] = [];

  before(async () => {
    echo = await tcpEcho();
    other = await tcpEcho();
    mixed = await freePort();
    const log = createLogger('warning', () => {});
    log.subscribe((e) => lines.push(e));
    host = await Host.start(configOne(), { log });
  });
  after(async () => {
    await host?.close(0);
    await echo?.close();
    await other?.close();
  });

  const configOne = (): string =>
    [`mixed-port: ${mixed}`, 'log-level: warning', 'rules:', `  - DST-PORT,${other.port},DIRECT`, '  - MATCH,DIRECT', ''].join('\n');
  // the echo port is now REJECTed, the other port goes through a new select group over a new proxy
  const configTwo = (): string =>
    [
      `mixed-port: ${mixed}`,
      'log-level: info',
      'proxies:',
      `  - { name: added, type: socks5, server: 127.0.0.1, port: ${mixed} }`,
      'proxy-groups:',
      '  - { name: pick, type: select, proxies: [DIRECT, added] }',
      'rules:',
      `  - DST-PORT,${echo.port},REJECT`,
      `  - DST-PORT,${other.port},pick`,
      '  - MATCH,DIRECT',
      '',
    ].join('\n');

  test('1,000 live tunnels survive a swap byte for byte; new connections follow the new rules at once', async () => {
    const first = host.generation;
    assert.equal(await replyCode(mixed, echo.port), 0);
    const tunnels = await openTunnels(TUNNELS, 100, mixed, echo.port);
    assert.equal(tunnels.length, TUNNELS);
    // traffic both ways on every tunnel, before, during and after the swap
    const rounds = async (n: number): Promise<void> => {
      for (let r = 0; r < n; r++) await Promise.all(tunnels.map((t, i) => t.round(512 + ((i * 97 + r * 131) % 4096))));
    };
    await rounds(2);
    const during = rounds(3);
    const result = await host.reload(configTwo());
    // right after reload() returns: the echo port is refused (SOCKS5 reply 2 = REJECT)
    assert.equal(await replyCode(mixed, echo.port), 2);
    assert.equal(host.log.level, 'info');
    assert.ok(host.control.proxy('added'), 'the added proxy is listed');
    assert.deepEqual(host.control.proxy('pick')?.all, ['DIRECT', 'added']);
    assert.equal(result.generation, first.id + 1);
    assert.deepEqual(result.listeners.kept, ['DEFAULT-MIXED']);
    await during;
    await rounds(2);
    // the old generation still carries the 1,000 tunnels (plus nothing else)
    assert.equal(first.retiring, true);
    assert.equal(first.live, TUNNELS);
    assert.deepEqual(host.retiring, [first]);

    // a broken config: every error reported at once, nothing changed
    const broken = [
      `mixed-port: ${mixed}`,
      'log-level: debug',
      'proxies:',
      '  - { name: bad, type: ss, server: 127.0.0.1, port: 1, cipher: no-such-cipher, password: x }',
      'proxy-groups:',
      '  - { name: g, type: select, proxies: [missing] }',
      'rules:',
      '  - IP-CIDR,300.0.0.0/8,DIRECT',
      '  - MATCH,nowhere',
      '',
    ].join('\n');
    const err = await host.reload(broken).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof ConfigError, String(err));
    assert.ok(err.issues.length >= 4, `every error at once: ${err.message}`);
    for (const what of ['cipher', 'missing', '300.0.0.0', 'nowhere']) assert.match(err.message, new RegExp(what));
    assert.equal(host.generation.id, result.generation, 'still the second generation');
    assert.equal(host.log.level, 'info');
    assert.equal(await replyCode(mixed, echo.port), 2, 'the second config still routes');

    for (const t of tunnels) {
      const v = t.verify();
      assert.ok(v.ok, `tunnel intact: ${JSON.stringify(v)}`);
    }
    const bytes = tunnels.reduce((s, t) => s + t.verify().got, 0);
    assert.ok(bytes > TUNNELS * 7 * 512, `${bytes} bytes verified`);
    await Promise.all(tunnels.map((t) => t.end()));
    assert.ok(await eventually(() => host.tracker.size === 0, 10_000), `tracker empty (${host.tracker.size})`);
    await first.closed;
    assert.deepEqual(host.retiring, []);
    assert.equal(first.live, 0);
    assert.ok(lines.some((l) => /generation 1 retires with \d+ live connections/.test(l.message)));
  });

  test('selections carry over a reload when their group and member still exist', async () => {
    assert.equal(await host.control.select('pick', 'added'), true);
    assert.equal(await host.control.select('pick', 'nobody'), false);
    await host.reload(configTwo());
    assert.equal(host.control.proxy('pick')?.now, 'added');
    // a config whose group no longer has that member: back to its first member
    await host.reload(configTwo().replace('proxies: [DIRECT, added]', 'proxies: [DIRECT, REJECT]'));
    assert.equal(host.control.proxy('pick')?.now, 'DIRECT');
  });

  test('mode and log level change live through the control plane', async () => {
    await host.control.patchConfig({ mode: 'direct', logLevel: 'error' });
    assert.equal(host.control.config().mode, 'direct');
    assert.equal(host.log.level, 'error');
    assert.equal(await replyCode(mixed, echo.port), 0, 'direct mode ignores the REJECT rule');
    await host.control.patchConfig({ mode: 'Rule' });
    assert.equal(await replyCode(mixed, echo.port), 2);
    await assert.rejects(host.control.patchConfig({ mode: 'sideways' }), ConfigError);
  });
});

describe('listener diff', () => {
  let echo: Local;
  let host: Host;

  before(async () => {
    echo = await tcpEcho();
  });
  after(async () => {
    await host?.close(0);
    await echo?.close();
  });

  test('an unchanged port keeps its socket and connections, a changed one rebinds, a removed one closes', async () => {
    const [mixed, socksA, socksB, http] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const yaml = (socksPort: number, withHttp: boolean, extra: string[] = []): string =>
      [
        `mixed-port: ${mixed}`,
        'log-level: silent',
        'listeners:',
        `  - { name: s1, type: socks, listen: 127.0.0.1, port: ${socksPort} }`,
        ...(withHttp ? [`  - { name: h1, type: http, listen: 127.0.0.1, port: ${http} }`] : []),
        ...extra,
        'rules: ["MATCH,DIRECT"]',
        '',
      ].join('\n');
    host = await Host.start(yaml(socksA, true), { log: createLogger('silent') });
    const mixedInbound = host.inbound('DEFAULT-MIXED');
    const viaMixed = await HashedTunnel.open(mixed, echo.port);
    const viaSocks = await HashedTunnel.open(socksA, echo.port);
    await viaMixed.round(1000);
    await viaSocks.round(1000);

    const r = await host.reload(yaml(socksB, false));
    assert.deepEqual(r.listeners, { kept: ['DEFAULT-MIXED'], rebound: ['s1'], started: [], closed: ['h1'], failed: [] });
    assert.equal(host.inbound('DEFAULT-MIXED'), mixedInbound, 'the same listener object: never rebound');
    assert.equal(host.inbound('s1')?.address().port, socksB);
    assert.equal(host.inbound('h1'), undefined);
    // live connections on the kept and on the rebound listener both go on
    await viaMixed.round(2000);
    await viaSocks.round(2000);
    assert.ok(viaMixed.verify().ok && viaSocks.verify().ok);
    // new connections: the kept port and the new port accept, the old and removed ones refuse
    await (await HashedTunnel.open(mixed, echo.port)).end();
    await (await HashedTunnel.open(socksB, echo.port)).end();
    assert.equal(await accepts(socksA), false, 'the old socks port is closed');
    assert.equal(await accepts(http), false, 'the removed http listener is closed');

    // a reload whose new listener cannot bind changes nothing
    const held = await holdPort();
    const taken = held.port;
    try {
      const before = host.generation.id;
      const extra = [`  - { name: t1, type: socks, listen: 127.0.0.1, port: ${taken} }`, `  - { name: t2, type: http, listen: 127.0.0.1, port: 0 }`];
      await assert.rejects(host.reload(yaml(socksB, false, extra)), /EADDRINUSE/);
      assert.equal(host.generation.id, before);
      assert.equal(host.inbound('t1'), undefined);
      assert.equal(host.inbound('t2'), undefined, 'the listener that did bind was closed again');
      assert.equal(await accepts(socksB), true, 's1 still bound');
    } finally {
      held.release();
    }
    // PATCH-style port change: the mixed listener moves, its live tunnel stays
    const moved = await freePort();
    await host.control.patchConfig({ mixedPort: moved, mode: 'global' });
    assert.equal(host.control.config().mixedPort, moved);
    assert.equal(host.control.config().mode, 'global');
    assert.equal(await accepts(mixed), false);
    await (await HashedTunnel.open(moved, echo.port)).end();
    await viaMixed.round(100);
    assert.ok(viaMixed.verify().ok);
    assert.match(host.configText ?? '', new RegExp(`mixed-port: ${moved}`));
    await viaMixed.end();
    await viaSocks.end();
  });
});

describe('UDP across a reload', () => {
  let uecho: Local;
  let host: Host;

  before(async () => {
    uecho = await udpEcho();
  });
  after(async () => {
    await host?.close(0);
    await uecho?.close();
  });

  test('a live UDP session keeps its route; a new one follows the new rules', async () => {
    const mixed = await freePort();
    const yaml = (rule: string): string => [`mixed-port: ${mixed}`, 'log-level: silent', 'rules:', `  - ${rule}`, '  - MATCH,DIRECT', ''].join('\n');
    host = await Host.start(yaml(`DST-PORT,${uecho.port + 1},REJECT`), { log: createLogger('silent') });
    const old = await socks5UdpAssociate(mixed);
    try {
      old.send(Buffer.from('before'), '127.0.0.1', uecho.port);
      assert.equal((await old.receive()).data.toString(), 'before');
      const first = host.generation;
      await host.reload(yaml(`DST-PORT,${uecho.port},REJECT`));
      old.send(Buffer.from('after'), '127.0.0.1', uecho.port);
      assert.equal((await old.receive()).data.toString(), 'after', 'the session routed before the reload still relays');
      assert.equal(first.live, 1, 'and holds the old generation');
      const fresh = await socks5UdpAssociate(mixed);
      try {
        fresh.send(Buffer.from('new'), '127.0.0.1', uecho.port);
        await assert.rejects(fresh.receive(500), /no UDP reply/, 'a new session is REJECTed by the new rules');
      } finally {
        fresh.close();
      }
    } finally {
      old.close();
    }
    // the old session ends when its association does; then the old generation closes
    host.tracker.closeAll();
    await host.retiring[0]?.closed;
    assert.deepEqual(host.retiring, []);
  });
});

describe('library events', () => {
  test('connection opened / closed, log lines and config-reloaded reach listeners; none are wired without them', async () => {
    const echo = await tcpEcho();
    const mixed = await freePort();
    const yaml = [`mixed-port: ${mixed}`, 'log-level: info', 'rules:', '  - MATCH,DIRECT', ''].join('\n');
    const host = await Host.start(yaml, { log: createLogger('info', () => {}) });
    try {
      const opened: string[] = [];
      const closed: number[] = [];
      const logs: string[] = [];
      const reloads: number[] = [];
      host.events.on('connection-opened', (c) => opened.push(`${c.destination.host}:${c.destination.port} ${c.chains.join(',')}`));
      host.events.on('connection-closed', (c) => closed.push(c.upload));
      host.events.on('log', (l) => logs.push(l.message));
      host.events.on('config-reloaded', (r) => reloads.push(r.generation));
      await new Promise((r) => setImmediate(r));
      const t = await HashedTunnel.open(mixed, echo.port);
      await t.round(1234);
      await t.end();
      assert.ok(await eventually(() => closed.length === 1));
      assert.deepEqual(opened, [`127.0.0.1:${echo.port} DIRECT`]);
      assert.deepEqual(closed, [1234]);
      assert.ok(logs.some((m) => m.includes(`--> 127.0.0.1:${echo.port} match Match using DIRECT`)), logs.join('\n'));
      await host.reload(yaml);
      assert.deepEqual(reloads, [2]);
      host.events.removeAllListeners('log');
      await new Promise((r) => setImmediate(r));
      const n = logs.length;
      host.log.info('after unsubscribing');
      assert.equal(logs.length, n);
    } finally {
      await host.close(0);
      await echo.close();
    }
  });
});

describe('host services', () => {
  test('a service follows every swapped-in config, not a failed one, and closes with the host', async () => {
    const applied: string[] = [];
    let closed = 0;
    const service = {
      label: 'recorder',
      apply: (c: { general: { mode: string } }) => void applied.push(c.general.mode),
      close: () => void closed++,
    };
    const host = await Host.start('mode: global\nrules: ["MATCH,DIRECT"]\n', { log: createLogger('silent'), services: [service] });
    await host.reload('mode: direct\nrules: ["MATCH,DIRECT"]\n');
    await assert.rejects(host.reload('mode: rule\nrules: ["MATCH,nowhere"]\n'));
    assert.deepEqual(applied, ['global', 'direct']);
    await host.close(0);
    assert.equal(closed, 1);
  });
});
