import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProxyError } from '../../../core/errors.js';
import { encodeConnectRequest, isHeaderName, isHeaderValue } from './connect-request.js';

test('the request mihomo sends: CONNECT line, Host, User-Agent, Proxy-Connection', () => {
  assert.equal(
    encodeConnectRequest({ host: 'example.com', port: 443 }).toString(),
    'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nUser-Agent: Go-http-client/1.1\r\nProxy-Connection: Keep-Alive\r\n\r\n',
  );
});

test('IPv6 destinations are bracketed', () => {
  assert.match(encodeConnectRequest({ host: '2001:db8::1', port: 80 }).toString(), /^CONNECT \[2001:db8::1\]:80 HTTP\/1\.1\r\nHost: \[2001:db8::1\]:80\r\n/);
});

test('configured headers replace defaults of any case; auth is Basic base64(user:pass) in UTF-8', () => {
  const text = encodeConnectRequest(
    { host: '1.2.3.4', port: 22 },
    {
      headers: [
        ['user-agent', 'curl/8'],
        ['X-Token', 'abc'],
      ],
      auth: { username: 'ü', password: 'p:w' },
    },
  ).toString();
  assert.equal(text.match(/user-agent/gi)?.length, 1);
  assert.match(text, /\r\nuser-agent: curl\/8\r\n/);
  assert.match(text, /\r\nX-Token: abc\r\n/);
  assert.match(text, new RegExp(`\\r\\nProxy-Authorization: Basic ${Buffer.from('ü:p:w').toString('base64')}\\r\\n\\r\\n$`));
});

test('a destination that could smuggle a header is refused before anything is sent', () => {
  for (const host of ['evil.com\r\nX-Injected: 1', 'a b', '', 'tab\there', 'nul\0']) {
    assert.throws(() => encodeConnectRequest({ host, port: 80 }), (e: unknown) => e instanceof ProxyError && e.code === 'PROTOCOL', JSON.stringify(host));
  }
  assert.throws(() => encodeConnectRequest({ host: 'a', port: 1 }, { headers: [['X', 'a\r\nB: c']] }), /invalid header/);
});

test('header name and value checks', () => {
  assert.ok(isHeaderName('X-Forwarded-For'));
  for (const n of ['', 'a b', 'a:b', 'ü', 'a\r\n']) assert.equal(isHeaderName(n), false, n);
  assert.ok(isHeaderValue('anything at all; even ü'));
  for (const v of ['a\rb', 'a\nb', 'a\0b']) assert.equal(isHeaderValue(v), false);
});
