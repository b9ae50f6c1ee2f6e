import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ProxyError } from '../../../core/errors.js';
import { readSocksAddress } from '../../common/socks-address.js';
import { encodeTrojanRequest, TROJAN_CMD, trojanPasswordKey } from './header.js';
import { encodeTrojanPacket, TROJAN_MAX_PAYLOAD, TrojanPacketDecoder } from './packet.js';

// SHA-224("password"), computed with `openssl dgst -sha224`
const KEY = 'd63dc919e201d7bc4c825630d2cf25fdc93d4b2f0d46706d29038d01';

test('the user key is the hex SHA-224 of the password', () => {
  assert.equal(trojanPasswordKey('password').toString('latin1'), KEY);
});

test('CONNECT to a domain, with the first bytes appended', () => {
  const got = encodeTrojanRequest(trojanPasswordKey('password'), TROJAN_CMD.CONNECT, { host: 'example.com', port: 443 }, Buffer.from('GET'));
  const want = Buffer.concat([
    Buffer.from(KEY, 'latin1'),
    Buffer.from('0d0a' + '01' + '03' + '0b', 'hex'),
    Buffer.from('example.com'),
    Buffer.from('01bb' + '0d0a', 'hex'),
    Buffer.from('GET'),
  ]);
  assert.equal(got.toString('hex'), want.toString('hex'));
});

test('UDP ASSOCIATE to IPv6; UDP frames carry address, length, CRLF', () => {
  const got = encodeTrojanRequest(trojanPasswordKey('password'), TROJAN_CMD.UDP_ASSOCIATE, { host: '::1', port: 53 });
  assert.equal(got.subarray(56).toString('hex'), '0d0a' + '03' + '04' + '00'.repeat(15) + '01' + '0035' + '0d0a');
  assert.equal(encodeTrojanPacket({ host: '127.0.0.1', port: 53 }, Buffer.from('abc')).toString('hex'), '01' + '7f000001' + '0035' + '0003' + '0d0a' + '616263');
  const big = encodeTrojanPacket({ host: '1.1.1.1', port: 1 }, Buffer.alloc(TROJAN_MAX_PAYLOAD + 5));
  const d = new TrojanPacketDecoder();
  assert.deepEqual(d.push(big).map((p) => p.data.length), [TROJAN_MAX_PAYLOAD, 5]);
});

test('packet decoder: frames split anywhere come out whole with their source', () => {
  const wire = Buffer.concat([
    encodeTrojanPacket({ host: 'example.com', port: 7 }, Buffer.from('one')),
    encodeTrojanPacket({ host: '2001:db8::1', port: 8 }, Buffer.from('two')),
  ]);
  for (let cut = 0; cut <= wire.length; cut++) {
    const d = new TrojanPacketDecoder();
    const out = [...d.push(wire.subarray(0, cut)), ...d.push(wire.subarray(cut))];
    assert.deepEqual(out.map((p) => [p.data.toString(), p.from.host, p.from.port]), [['one', 'example.com', 7], ['two', '2001:db8::1', 8]]);
    assert.equal(d.buffered, 0);
  }
  assert.throws(() => new TrojanPacketDecoder().push(Buffer.from('017f00000100350003aaaa616263', 'hex')), ProxyError);
});

test('random input: packets or a PROTOCOL error, never a crash', () => {
  for (let i = 0; i < 2000; i++) {
    const b = randomBytes(1 + (i % 200));
    try {
      new TrojanPacketDecoder().push(b);
      const a = readSocksAddress(b, 0);
      if (a) assert.ok(a.length <= b.length);
    } catch (e) {
      assert.ok(e instanceof ProxyError && e.code === 'PROTOCOL');
    }
  }
});
