import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ProxyError } from '../../../core/errors.js';
import { MAX_RESPONSE_HEAD, parseConnectResponse, parseResponseHead } from './response-head.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

test('a 200 head: status, reason, headers; bytes after the head are not counted', () => {
  const head = 'HTTP/1.1 200 Connection established\r\nProxy-Agent: x/1\r\nVia: 1.1 p\r\n\r\n';
  const step = parseResponseHead(b(`${head}TUNNELLED`));
  assert.ok(step);
  assert.equal(step.used, head.length);
  assert.deepEqual(step.value, {
    version: '1.1',
    status: 200,
    reason: 'Connection established',
    headers: [
      ['Proxy-Agent', 'x/1'],
      ['Via', '1.1 p'],
    ],
  });
});

test('bare LF line ends, HTTP/1.0, a missing reason (the standard one is used)', () => {
  const step = parseResponseHead(b('HTTP/1.0 407\nProxy-Authenticate: Basic\n\n'));
  assert.ok(step);
  assert.deepEqual([step.value.version, step.value.status, step.value.reason, step.used], ['1.0', 407, 'Proxy Authentication Required', 40]);
});

test('every truncation of a valid head asks for more, never throws', () => {
  const full = b('HTTP/1.1 200 OK\r\nA: b\r\n\r\n');
  for (let i = 0; i < full.length; i++) assert.equal(parseResponseHead(full.subarray(0, i)), undefined, `prefix ${i}`);
  assert.ok(parseResponseHead(full));
});

test('garbage is refused at once, with PROTOCOL', () => {
  for (const text of ['SSH-2.0-OpenSSH\r\n', 'X', 'http/1.1 200 OK\r\n\r\n', '\x05\x00', 'HTTP/1.1 20 OK\r\n\r\n', 'HTTP/1.1 abc\r\n\r\n', 'HTTP/1.1 099 x\r\n\r\n']) {
    assert.throws(() => parseResponseHead(b(text)), (e: unknown) => e instanceof ProxyError && e.code === 'PROTOCOL', text);
  }
});

test('an oversized head is refused, complete or not', () => {
  const long = b(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(MAX_RESPONSE_HEAD)}`);
  assert.throws(() => parseResponseHead(long), /longer than/);
  assert.throws(() => parseResponseHead(Buffer.concat([long, b('\r\n\r\n')])), /longer than/);
  // just under the bound is fine
  const ok = b(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(MAX_RESPONSE_HEAD - 30)}\r\n\r\n`);
  assert.ok(parseResponseHead(ok));
});

test('interim 1xx answers are skipped; 101 is final', () => {
  const text = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\n\r\nrest';
  const step = parseConnectResponse(b(text));
  assert.ok(step);
  assert.equal(step.value.status, 200);
  assert.equal(b(text).subarray(step.used).toString(), 'rest');
  assert.equal(parseConnectResponse(b('HTTP/1.1 100 Continue\r\n\r\n')), undefined);
  assert.equal(parseConnectResponse(b('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 2')), undefined);
  assert.equal(parseConnectResponse(b('HTTP/1.1 101 Switching\r\n\r\n'))?.value.status, 101);
  assert.throws(() => parseConnectResponse(b('HTTP/1.1 100 Continue\r\n\r\n'.repeat(20))), /interim/);
});

test('random input: undefined, a value, or a ProxyError; nothing else', () => {
  const prefixes = ['', 'HTTP/', 'HTTP/1.1 ', 'HTTP/1.1 200 OK\r\n'];
  for (let i = 0; i < 2000; i++) {
    const input = Buffer.concat([b(prefixes[i % prefixes.length]), randomBytes(Math.floor(Math.random() * 200))]);
    try {
      const step = parseConnectResponse(input);
      if (step) assert.ok(step.used > 0 && step.used <= input.length);
    } catch (e) {
      assert.ok(e instanceof ProxyError, String(e));
    }
  }
});
