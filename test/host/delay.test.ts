/**
 * URL tests through real outbounds (DIRECT, a SOCKS5 proxy that is our own mixed port) against
 * local HTTP and HTTPS test servers: delays, expected statuses, timeouts, unified-delay, the
 * history the control plane shows.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../src/common/log.js';
import { ProxyError } from '../../src/core/errors.js';
import { Host } from '../../src/host/host.js';
import { testCerts } from '../support/certs.js';
import { freePort } from '../support/ports.js';

/** HEAD /slow answers after 150 ms; /first-slow delays only the first answer on a connection; /hang never answers. */
function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const sock = req.socket as net.Socket & { answered?: number };
  sock.answered = (sock.answered ?? 0) + 1;
  const reply = (status: number) => {
    res.writeHead(status, { 'Content-Length': '0' });
    res.end();
  };
  if (req.url === '/hang') return;
  if (req.url === '/slow') setTimeout(() => reply(204), 150);
  else if (req.url === '/first-slow') setTimeout(() => reply(204), sock.answered === 1 ? 250 : 0);
  else if (req.url === '/teapot') reply(418);
  else reply(204);
}

describe('URL tests through the control plane', () => {
  let server: http.Server;
  let tlsServer: https.Server;
  let base: string;
  let tlsBase: string;
  let host: Host;

  before(async () => {
    server = http.createServer(handler).listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    const c = testCerts();
    tlsServer = https.createServer({ cert: c.certPem, key: c.keyPem }, handler).listen(0, '127.0.0.1');
    await once(tlsServer, 'listening');
    tlsBase = `https://localhost:${(tlsServer.address() as net.AddressInfo).port}`;
    const mixed = await freePort();
    const yaml = [
      `mixed-port: ${mixed}`,
      'log-level: silent',
      'proxies:',
      `  - { name: self, type: socks5, server: 127.0.0.1, port: ${mixed} }`,
      'proxy-groups:',
      '  - { name: g, type: select, proxies: [self, DIRECT, REJECT] }',
      'rules:',
      '  - MATCH,DIRECT',
      '',
    ].join('\n');
    host = await Host.start(yaml, { log: createLogger('silent'), probeCa: c.caPem });
  });
  after(async () => {
    await host?.close(0);
    server?.closeAllConnections();
    server?.close();
    tlsServer?.closeAllConnections();
    tlsServer?.close();
  });

  test('a delay through DIRECT and through a SOCKS5 proxy, recorded in the history', async () => {
    const d = await host.control.delay('DIRECT', { url: `${base}/slow`, timeoutMs: 3000 });
    assert.ok(d !== undefined && d >= 150 && d < 2000, `DIRECT: ${d} ms`);
    const s = await host.control.delay('self', { url: `${base}/slow`, timeoutMs: 3000, expected: '204' });
    assert.ok(s !== undefined && s >= 150, `self: ${s} ms`);
    const v = host.control.proxy('self')!;
    assert.equal(v.history.length, 1);
    assert.equal(v.history[0].delay, s);
    assert.equal(v.alive, true);
    // a group tests its current member, under its own name
    const g = await host.control.delay('g', { url: `${base}/`, timeoutMs: 3000 });
    assert.ok(g !== undefined && g > 0);
    assert.equal(host.control.proxy('g')!.history.length, 1);
  });

  test('https through the proxy; an unexpected status and a timeout fail and mark the proxy dead', async () => {
    const t = await host.control.delay('self', { url: `${tlsBase}/`, timeoutMs: 3000, expected: '200/204' });
    assert.ok(t !== undefined && t > 0);
    await assert.rejects(host.control.delay('self', { url: `${base}/teapot`, timeoutMs: 3000, expected: '200-299' }), (e: unknown) => e instanceof ProxyError && /418/.test(e.message));
    assert.equal(host.control.proxy('self')!.alive, false);
    assert.equal(host.control.proxy('self')!.history.at(-1)!.delay, 0);
    const started = Date.now();
    await assert.rejects(host.control.delay('DIRECT', { url: `${base}/hang`, timeoutMs: 300 }), (e: unknown) => e instanceof ProxyError && e.code === 'DIAL_TIMEOUT');
    assert.ok(Date.now() - started < 2000);
    await assert.rejects(host.control.delay('REJECT', { url: `${base}/`, timeoutMs: 300 }));
    assert.equal(await host.control.delay('nobody', { url: `${base}/`, timeoutMs: 300 }), undefined);
    await assert.rejects(host.control.delay('DIRECT', { url: 'ftp://x/', timeoutMs: 300 }), (e: unknown) => e instanceof ProxyError && e.code === 'CONFIG');
    await assert.rejects(host.control.delay('DIRECT', { url: `${base}/`, timeoutMs: 300, expected: '20x' }), (e: unknown) => e instanceof ProxyError && e.code === 'CONFIG');
  });

  test('a group delay tests every member; the ones that fail are absent', async () => {
    const r = await host.control.groupDelay('g', { url: `${base}/`, timeoutMs: 2000 });
    assert.deepEqual(Object.keys(r ?? {}).sort(), ['DIRECT', 'self']);
    assert.equal(await host.control.groupDelay('self', { url: `${base}/`, timeoutMs: 2000 }), undefined, 'not a group');
  });

  test('unified-delay reports the second request on the connection', async () => {
    const plain = await host.control.delay('DIRECT', { url: `${base}/first-slow`, timeoutMs: 3000 });
    assert.ok(plain !== undefined && plain >= 250, `plain: ${plain}`);
    await host.reload(host.configText!.replace('log-level: silent', 'log-level: silent\nunified-delay: true'));
    const unified = await host.control.delay('DIRECT', { url: `${base}/first-slow`, timeoutMs: 3000 });
    assert.ok(unified !== undefined && unified < 200, `unified: ${unified}`);
    // the history of a proxy that still exists survived the reload
    assert.ok(host.control.proxy('DIRECT')!.history.length >= 4);
  });
});
