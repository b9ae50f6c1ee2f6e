import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ProxyError } from '../core/errors.js';
import { encodeSocksAddress } from '../protocol/common/socks-address.js';
import {
  decodeUdpHeader,
  encodeReply,
  encodeSocks4Reply,
  encodeUdpHeader,
  parseAddress,
  parseGreeting,
  parseRequest,
  parseSocks4Request,
  parseUserPass,
  SOCKS4_MAX_FIELD,
  type Parsed,
} from './socks-codec.js';
import { socks5ReplyFor } from './socks-reply.js';

/** Every strict prefix of a complete message must ask for more. */
function assertTruncationsNeedMore<T>(msg: Buffer, parse: (b: Buffer) => Parsed<T>): void {
  for (let n = 0; n < msg.length; n++) assert.equal(parse(msg.subarray(0, n)).kind, 'more', `prefix of ${n} bytes`);
}

function ok<T>(p: Parsed<T>): { value: T; length: number } {
  assert.equal(p.kind, 'ok', JSON.stringify(p));
  return p as { value: T; length: number };
}

describe('socks-codec', () => {
  it('greeting', () => {
    const msg = Buffer.from([5, 2, 0, 2]);
    assertTruncationsNeedMore(msg, parseGreeting);
    const g = ok(parseGreeting(Buffer.concat([msg, Buffer.from('extra')])));
    assert.deepEqual([...g.value.methods], [0, 2]);
    assert.equal(g.length, 4);
    assert.equal(parseGreeting(Buffer.from([4, 1, 0])).kind, 'bad');
    assert.equal(parseGreeting(Buffer.from([5, 0])).kind, 'bad');
  });

  it('RFC 1929 user/password, including empty and 255-byte fields', () => {
    const long = 'x'.repeat(255);
    const msg = Buffer.concat([Buffer.from([1, 255]), Buffer.from(long), Buffer.from([0])]);
    assertTruncationsNeedMore(msg, parseUserPass);
    const v = ok(parseUserPass(msg));
    assert.deepEqual(v.value, { username: long, password: '' });
    assert.equal(v.length, msg.length);
    assert.equal(parseUserPass(Buffer.from([2, 0, 0])).kind, 'bad');
  });

  it('requests with IPv4, IPv6 and domain addresses round-trip through the shared address codec', () => {
    for (const dest of [
      { host: '1.2.3.4', port: 80 },
      { host: '2001:db8::1', port: 443 },
      { host: '::1', port: 1 },
      { host: 'example.com', port: 65535 },
    ]) {
      const msg = Buffer.concat([Buffer.from([5, 1, 0]), encodeSocksAddress(dest)]);
      assertTruncationsNeedMore(msg, parseRequest);
      const r = ok(parseRequest(Buffer.concat([msg, Buffer.from('payload')])));
      assert.deepEqual(r.value, { command: 1, address: dest });
      assert.equal(r.length, msg.length);
    }
  });

  it('IPv4-mapped IPv6 parses as IPv4 (the shared codec, tested in full beside it)', () => {
    const mapped = Buffer.from([4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1, 0, 53]);
    assert.deepEqual(ok(parseAddress(mapped, 0)).value, { host: '10.0.0.1', port: 53 });
  });

  it('bad address types and empty domains carry REP 0x08', () => {
    const p = parseRequest(Buffer.from([5, 1, 0, 7, 0, 0]));
    assert.equal(p.kind, 'bad');
    assert.equal(p.kind === 'bad' && p.reply, 8);
    const e = parseRequest(Buffer.from([5, 1, 0, 3, 0, 0, 80]));
    assert.equal(e.kind === 'bad' && e.reply, 8);
  });

  it('SOCKS4 and SOCKS4a', () => {
    const v4 = Buffer.from([4, 1, 0, 80, 10, 1, 2, 3, ...Buffer.from('me'), 0]);
    assertTruncationsNeedMore(v4, parseSocks4Request);
    assert.deepEqual(ok(parseSocks4Request(v4)).value, { command: 1, address: { host: '10.1.2.3', port: 80 }, userId: 'me' });
    const v4a = Buffer.from([4, 1, 1, 187, 0, 0, 0, 9, 0, ...Buffer.from('host.test'), 0, 0x41]);
    assertTruncationsNeedMore(v4a.subarray(0, v4a.length - 1), parseSocks4Request);
    const r = ok(parseSocks4Request(v4a));
    assert.deepEqual(r.value, { command: 1, address: { host: 'host.test', port: 443 }, userId: '' });
    assert.equal(r.length, v4a.length - 1);
    // oversized user id, with and without its NUL yet
    const huge = Buffer.concat([Buffer.from([4, 1, 0, 80, 1, 1, 1, 1]), Buffer.alloc(SOCKS4_MAX_FIELD + 1, 0x61)]);
    assert.equal(parseSocks4Request(huge).kind, 'bad');
    assert.equal(parseSocks4Request(Buffer.concat([huge, Buffer.from([0])])).kind, 'bad');
    assert.equal(parseSocks4Request(Buffer.from([4, 1, 0, 80, 0, 0, 0, 1, 0, 0])).kind, 'bad', 'empty 4a host');
  });

  it('replies', () => {
    assert.deepEqual(encodeReply(0, { host: '127.0.0.1', port: 1080 }), Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 4, 56]));
    assert.deepEqual(encodeReply(5, { host: '::ffff:127.0.0.1', port: 1 }), Buffer.from([5, 5, 0, 1, 127, 0, 0, 1, 0, 1]));
    assert.equal(encodeReply(0, { host: '::1', port: 2 }).length, 22);
    assert.deepEqual(encodeSocks4Reply(0x5a, 80, '1.2.3.4'), Buffer.from([0, 0x5a, 0, 80, 1, 2, 3, 4]));
    assert.throws(() => encodeReply(0, { host: 'a'.repeat(256), port: 1 }), ProxyError);
  });

  it('UDP header encode/decode', () => {
    const from = { host: 'dns.test', port: 53 };
    const dgram = Buffer.concat([encodeUdpHeader(from), Buffer.from('payload')]);
    const h = decodeUdpHeader(dgram)!;
    assert.deepEqual(h.address, from);
    assert.equal(h.frag, 0);
    assert.equal(dgram.subarray(h.payloadOffset).toString(), 'payload');
    const frag = Buffer.from(dgram);
    frag[2] = 1;
    assert.equal(decodeUdpHeader(frag)!.frag, 1);
    const rsv = Buffer.from(dgram);
    rsv[0] = 1;
    assert.equal(decodeUdpHeader(rsv), undefined);
    for (let n = 0; n < h.payloadOffset; n++) assert.equal(decodeUdpHeader(dgram.subarray(0, n)), undefined);
  });

  it('random input never throws and never claims more bytes than given', () => {
    const parsers: ((b: Buffer) => Parsed<unknown>)[] = [parseGreeting, parseUserPass, parseRequest, parseSocks4Request, (b) => parseAddress(b, 0)];
    for (let i = 0; i < 3000; i++) {
      const b = randomBytes(i % 600);
      if (i % 3 === 0 && b.length > 0) b[0] = 5;
      if (i % 3 === 1 && b.length > 0) b[0] = 4;
      for (const p of parsers) {
        const r = p(b);
        if (r.kind === 'ok') assert.ok(r.length <= b.length && r.length > 0);
      }
      const h = decodeUdpHeader(b);
      if (h) assert.ok(h.payloadOffset <= b.length);
    }
  });

  it('maps errors to SOCKS5 REP codes', () => {
    const errno = (code: string): Error => Object.assign(new Error(code), { code });
    assert.equal(socks5ReplyFor(new ProxyError('REJECTED', 'x')), 2);
    assert.equal(socks5ReplyFor(errno('ECONNREFUSED')), 5);
    assert.equal(socks5ReplyFor(errno('EHOSTUNREACH')), 4);
    assert.equal(socks5ReplyFor(errno('ENETUNREACH')), 3);
    assert.equal(socks5ReplyFor(errno('ETIMEDOUT')), 6);
    assert.equal(socks5ReplyFor(new ProxyError('DIAL_TIMEOUT', 'x')), 6);
    assert.equal(socks5ReplyFor(new ProxyError('DIAL_FAILED', 'x', { cause: errno('ECONNREFUSED') })), 5);
    assert.equal(socks5ReplyFor(new ProxyError('DIAL_FAILED', 'x', { cause: new AggregateError([errno('ENETUNREACH')]) })), 3);
    assert.equal(socks5ReplyFor(new Error('other')), 1);
    const loop: Error & { cause?: unknown } = new Error('loop');
    loop.cause = loop;
    assert.equal(socks5ReplyFor(loop), 1);
  });
});
