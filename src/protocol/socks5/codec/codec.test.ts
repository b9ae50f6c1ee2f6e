import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ProxyError } from '../../../core/errors.js';
import { encodeSocksAddress } from '../../common/socks-address.js';
import { encodeGreeting, encodeRequest, encodeUserPass, parseAuthStatus, parseMethodChoice, parseReply, replyText, SOCKS5 } from './handshake.js';
import { decodeUdpFrame, encodeUdpFrame } from './udp-frame.js';

const hex = (b: Buffer) => b.toString('hex');

test('handshake messages as a client writes and reads them', () => {
  assert.equal(hex(encodeGreeting(false)), '050100');
  assert.equal(hex(encodeGreeting(true)), '050102');
  assert.equal(hex(encodeUserPass('u', 'pw')), `0101${Buffer.from('u').toString('hex')}02${Buffer.from('pw').toString('hex')}`);
  assert.equal(hex(encodeUserPass('', '')), '010000');
  assert.throws(() => encodeUserPass('x'.repeat(256), ''), /255 bytes/);
  assert.equal(hex(encodeRequest(SOCKS5.CMD_CONNECT, { host: '10.0.0.1', port: 22 })), '050100010a0000010016');
  assert.deepEqual(parseMethodChoice(Buffer.from([5, 2, 7])), { value: 2, used: 2 });
  assert.equal(parseMethodChoice(Buffer.from([5])), undefined);
  assert.throws(() => parseMethodChoice(Buffer.from('HTTP/1.1 400')), /not a SOCKS5 server \(version byte 72\)/);
  assert.deepEqual(parseAuthStatus(Buffer.from([1, 0])), { value: 0, used: 2 });
  assert.deepEqual(parseAuthStatus(Buffer.from([5, 1])), { value: 1, used: 2 });
  assert.equal(parseAuthStatus(Buffer.from([1])), undefined);
  const reply = Buffer.from('05000001c0a800011f90', 'hex');
  assert.deepEqual(parseReply(Buffer.concat([reply, Buffer.from('data')])), { value: { rep: 0, bound: { host: '192.168.0.1', port: 8080 } }, used: 10 });
  for (let i = 0; i < reply.length; i++) assert.equal(parseReply(reply.subarray(0, i)), undefined);
  assert.throws(() => parseReply(Buffer.from([4, 0, 0, 1])), /version byte 4/);
  assert.equal(replyText(5), 'connection refused (5)');
  assert.equal(replyText(200), 'unassigned reply (200)');
});

test('UDP frames: encode, decode, fragments and garbage dropped', () => {
  const addr = encodeSocksAddress({ host: '8.8.8.8', port: 53 });
  const frame = encodeUdpFrame(addr, Buffer.from('query'));
  assert.equal(hex(frame), `000000${hex(addr)}${Buffer.from('query').toString('hex')}`);
  const d = decodeUdpFrame(frame);
  assert.deepEqual(d, { from: { host: '8.8.8.8', port: 53 }, payloadOffset: 10 });
  assert.equal(frame.subarray(d!.payloadOffset).toString(), 'query');
  assert.deepEqual(decodeUdpFrame(encodeUdpFrame(addr, Buffer.alloc(0))), { from: { host: '8.8.8.8', port: 53 }, payloadOffset: 10 });
  const frag = Buffer.from(frame);
  frag[2] = 1;
  assert.equal(decodeUdpFrame(frag), undefined);
  for (let i = 0; i < 10; i++) assert.equal(decodeUdpFrame(frame.subarray(0, i)), undefined);
  assert.equal(decodeUdpFrame(Buffer.from([0, 0, 0, 9, 1, 2])), undefined);
});

test('random input: parsers answer undefined, a value, or a ProxyError; UDP decode never throws', () => {
  for (let i = 0; i < 3000; i++) {
    const lead = [Buffer.alloc(0), Buffer.from([5, 0, 0]), Buffer.from([0, 0, 0])][i % 3];
    const input = Buffer.concat([lead, randomBytes(Math.floor(Math.random() * 300))]);
    for (const parse of [parseMethodChoice, parseAuthStatus, parseReply]) {
      try {
        const step = parse(input);
        if (step) assert.ok(step.used > 0 && step.used <= input.length);
      } catch (e) {
        assert.ok(e instanceof ProxyError, String(e));
      }
    }
    const f = decodeUdpFrame(input);
    if (f) assert.ok(f.payloadOffset <= input.length);
  }
});
