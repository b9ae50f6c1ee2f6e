import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sniffHttp } from '../../src/sniffer/http.js';
import { sniffTls, sniffClientHelloMessage } from '../../src/sniffer/tls.js';
import { DomainPatterns } from '../../src/sniffer/domain-pattern.js';
import { captureClientHello, handshakeOf, reframe } from './hello.js';

describe('TLS ClientHello SNI', () => {
  test('a real ClientHello (Node/OpenSSL) names its servername', async () => {
    const hello = await captureClientHello('sniffed.example.test');
    assert.deepEqual(sniffTls(hello), { kind: 'host', host: 'sniffed.example.test' });
    assert.deepEqual(sniffClientHelloMessage(handshakeOf(hello)), { kind: 'host', host: 'sniffed.example.test' });
  });

  test('every prefix asks for more, never a wrong answer; the input is not changed', async () => {
    const hello = await captureClientHello('prefix.example.test');
    const copy = Buffer.from(hello);
    for (let n = 0; n < hello.length; n++) {
      const r = sniffTls(hello.subarray(0, n));
      assert.equal(r.kind, 'more', `prefix ${n}`);
      if (r.kind === 'more') assert.ok(r.atLeast > n && r.atLeast <= hello.length, `prefix ${n} asks for ${r.atLeast}`);
    }
    assert.deepEqual(hello, copy);
  });

  test('a ClientHello over several TLS records is put together', async () => {
    const hello = await captureClientHello('records.example.test');
    for (const size of [1, 7, 100, 256]) {
      const framed = reframe(hello, size);
      assert.deepEqual(sniffTls(framed), { kind: 'host', host: 'records.example.test' }, `records of ${size}`);
      const cut = sniffTls(framed.subarray(0, framed.length - 1));
      assert.equal(cut.kind, 'more');
    }
  });

  test('no SNI, not TLS, not a ClientHello: failures', async () => {
    const none = await captureClientHello(undefined);
    assert.deepEqual(sniffTls(none), { kind: 'fail', reason: 'no server name' });
    assert.equal(sniffTls(Buffer.from('GET / HTTP/1.1\r\n')).kind, 'fail');
    assert.equal(sniffTls(Buffer.from([0x16, 0x03])).kind, 'more');
    assert.equal(sniffTls(Buffer.from([0x17, 0x03, 0x03, 0x00, 0x10])).kind, 'fail');
    const serverHello = Buffer.from(reframe(await captureClientHello('a.test'), 4096));
    serverHello[5] = 0x02;
    assert.deepEqual(sniffTls(serverHello), { kind: 'fail', reason: 'not client hello' });
  });

  test('a name with a trailing dot, odd bytes, or an IP is refused', async () => {
    const hello = await captureClientHello('abcdefgh.test');
    const at = hello.indexOf('abcdefgh.test');
    const dot = Buffer.from(hello);
    dot.write('abcdefgh.tes.', at, 'latin1');
    assert.equal(sniffTls(dot).kind, 'fail');
    const space = Buffer.from(hello);
    space.write('abc efgh.test', at, 'latin1');
    assert.equal(sniffTls(space).kind, 'fail');
    const ip = Buffer.from(hello);
    ip.write('10.100.200.25', at, 'latin1');
    assert.deepEqual(sniffTls(ip), { kind: 'fail', reason: 'host is ip' });
  });
});

describe('HTTP Host', () => {
  test('Host header, lower-cased, port dropped; any method case', () => {
    assert.deepEqual(sniffHttp(Buffer.from('GET / HTTP/1.1\r\nUser-Agent: x\r\nHost: WWW.Example.TEST:8080\r\n\r\n')), { kind: 'host', host: 'www.example.test' });
    assert.deepEqual(sniffHttp(Buffer.from('post /a HTTP/1.1\r\nhost:b.test\r\n\r\n')), { kind: 'host', host: 'b.test' });
    assert.deepEqual(sniffHttp(Buffer.from('OPTIONS * HTTP/1.1\nHOST: c.test\n\n')), { kind: 'host', host: 'c.test' });
  });

  test('an IP Host fails; no Host fails at the blank line; not HTTP fails', () => {
    assert.deepEqual(sniffHttp(Buffer.from('GET / HTTP/1.1\r\nHost: 10.0.0.1:80\r\n\r\n')), { kind: 'fail', reason: 'host is ip' });
    assert.deepEqual(sniffHttp(Buffer.from('GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n')), { kind: 'fail', reason: 'host is ip' });
    assert.deepEqual(sniffHttp(Buffer.from('GET / HTTP/1.1\r\nAccept: */*\r\n\r\nHost: late.test\r\n')), { kind: 'fail', reason: 'no host header' });
    assert.deepEqual(sniffHttp(Buffer.from('SSH-2.0-OpenSSH_9.2\r\n')), { kind: 'fail', reason: 'not an HTTP method' });
  });

  test('a head arriving in pieces asks for more until the Host line is whole', () => {
    const req = Buffer.from('GET /x HTTP/1.1\r\nAccept: */*\r\nHost: split.test\r\n\r\n');
    const hostEnd = req.indexOf('split.test') + 'split.test'.length + 2;
    for (let n = 0; n < hostEnd; n++) assert.equal(sniffHttp(req.subarray(0, n)).kind, 'more', `prefix ${n}`);
    assert.deepEqual(sniffHttp(req.subarray(0, hostEnd)), { kind: 'host', host: 'split.test' });
  });

  test('a head without Host that never ends is given up at 8 KiB', () => {
    const big = Buffer.concat([Buffer.from('GET / HTTP/1.1\r\n'), Buffer.alloc(9000, 'a')]);
    assert.equal(sniffHttp(big).kind, 'fail');
  });
});

describe('force-domain / skip-domain patterns', () => {
  test('exact, +., ., * as mihomo', () => {
    const p = new DomainPatterns(['exact.test', '+.suffix.test', '.below.test', '*.one.test', 'www.*.mid.test', 'UPPER.Test']);
    assert.ok(p.has('exact.test') && !p.has('a.exact.test'));
    assert.ok(p.has('suffix.test') && p.has('a.b.suffix.test') && !p.has('xsuffix.test'));
    assert.ok(!p.has('below.test') && p.has('a.below.test'));
    assert.ok(p.has('a.one.test') && !p.has('one.test') && !p.has('a.b.one.test'));
    assert.ok(p.has('www.x.mid.test') && !p.has('www.mid.test'));
    assert.ok(p.has('upper.test') && p.has('EXACT.TEST'));
    assert.ok(!new DomainPatterns([]).has('x.test'));
  });
});
