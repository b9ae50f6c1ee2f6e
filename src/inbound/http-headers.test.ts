import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseBasicCredentials } from './auth.js';
import { endToEndHeaders, parseConnectTarget, parseForwardTarget, removeHeader } from './http-headers.js';

describe('http-headers', () => {
  it('strips hop-by-hop headers and those Connection names, keeping case, order and duplicates', () => {
    const raw = [
      'Host', 'a.test',
      'Connection', 'keep-alive, X-Foo',
      'X-Foo', '1',
      'Proxy-Connection', 'keep-alive',
      'Proxy-Authorization', 'Basic eA==',
      'Keep-Alive', 'timeout=5',
      'TE', 'trailers',
      'Trailer', 'X-T',
      'Transfer-Encoding', 'chunked',
      'Upgrade', 'websocket',
      'Set-Cookie', 'a=1',
      'set-cookie', 'b=2',
    ];
    assert.deepEqual(endToEndHeaders(raw), ['Host', 'a.test', 'Set-Cookie', 'a=1', 'set-cookie', 'b=2']);
    const up = endToEndHeaders(['Connection', 'Upgrade, HTTP2-Settings', 'Upgrade', 'h2c', 'Proxy-Authorization', 'x', 'HTTP2-Settings', 'AAA'], true);
    assert.deepEqual(up, ['Connection', 'Upgrade, HTTP2-Settings', 'Upgrade', 'h2c', 'HTTP2-Settings', 'AAA']);
    const flat = ['Host', 'a', 'host', 'b', 'X', 'y'];
    removeHeader(flat, 'host');
    assert.deepEqual(flat, ['X', 'y']);
  });

  it('parses absolute-form targets without normalising the path', () => {
    assert.deepEqual(parseForwardTarget('http://example.com/a/../b?q=1#frag'), {
      address: { host: 'example.com', port: 80 },
      path: '/a/../b?q=1',
      authority: 'example.com',
    });
    assert.deepEqual(parseForwardTarget('HTTP://user:pw@Example.com.:8080'), {
      address: { host: 'Example.com', port: 8080 },
      path: '/',
      authority: 'Example.com.:8080',
    });
    assert.deepEqual(parseForwardTarget('http://[::1]:81?x')?.address, { host: '::1', port: 81 });
    assert.deepEqual(parseForwardTarget('http://[::1]/')?.address, { host: '::1', port: 80 });
    assert.equal(parseForwardTarget('http://[::1]/')?.path, '/');
    assert.deepEqual(parseForwardTarget('http://10.0.0.1/x')?.address, { host: '10.0.0.1', port: 80 });
    for (const bad of [undefined, '/path', '*', 'https://a/', 'http://', 'http:///x', 'http://a:0/', 'http://a:99999/', 'http://a b/', 'http://[zz]/', 'ftp://a/']) {
      assert.equal(parseForwardTarget(bad), undefined, String(bad));
    }
  });

  it('parses CONNECT targets', () => {
    assert.deepEqual(parseConnectTarget('example.com:443'), { host: 'example.com', port: 443 });
    assert.deepEqual(parseConnectTarget('[2001:db8::1]:443'), { host: '2001:db8::1', port: 443 });
    assert.deepEqual(parseConnectTarget('example.com.:443'), { host: 'example.com', port: 443 });
    for (const bad of [undefined, 'example.com', ':443', 'a:0', 'a:65536', '::1:443', '[::1]']) {
      assert.equal(parseConnectTarget(bad), undefined, String(bad));
    }
  });

  it('decodes Basic credentials', () => {
    const b64 = (s: string): string => Buffer.from(s).toString('base64');
    assert.deepEqual(parseBasicCredentials(`Basic ${b64('u:p:w')}`), { username: 'u', password: 'p:w' });
    assert.deepEqual(parseBasicCredentials(`basic  ${b64(':')}`), { username: '', password: '' });
    for (const bad of [undefined, '', 'Bearer x', `Basic ${b64('nocolon')}`, 'Basic !!!']) {
      assert.equal(parseBasicCredentials(bad), undefined, String(bad));
    }
  });

  it('random input never throws', () => {
    for (let i = 0; i < 2000; i++) {
      const s = randomBytes(i % 200).toString('latin1');
      parseForwardTarget(`http://${s}`);
      parseConnectTarget(s);
      parseBasicCredentials(`Basic ${s}`);
    }
  });
});
