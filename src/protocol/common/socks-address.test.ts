import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { Address } from '../../core/address.js';
import { hasCode, ProxyError } from '../../core/errors.js';
import { decodePortAddress, encodePortAddress, portAddressSize } from './port-address.js';
import {
  encodeSocksAddress,
  readSocksAddress,
  socksAddressSize,
  UOT_FAMILIES,
  V2RAY_FAMILIES,
  writeSocksAddress,
  SOCKS_FAMILIES,
  type AddressFamilies,
} from './socks-address.js';

const hex = (b: Buffer): string => b.toString('hex');
const isProtocol = (e: unknown): boolean => hasCode(e, 'PROTOCOL');
const name = (s: string): string => Buffer.from(s).toString('hex');
/** A raw domain field (SOCKS numbering) holding `text`, port 80. */
const domainField = (text: string): Buffer => {
  const n = Buffer.from(text);
  return Buffer.concat([Buffer.from([3, n.length]), n, Buffer.from([0, 80])]);
};

test('encode: RFC 1928 bytes for IPv4, IPv6 and a domain', () => {
  assert.equal(hex(encodeSocksAddress({ host: '1.2.3.4', port: 80 })), '01010203040050');
  assert.equal(hex(encodeSocksAddress({ host: '::1', port: 443 })), `04${'00'.repeat(15)}0101bb`);
  assert.equal(hex(encodeSocksAddress({ host: '2001:db8::1', port: 1 })), `0420010db8${'00'.repeat(11)}010001`);
  assert.equal(hex(encodeSocksAddress({ host: 'ab.c', port: 65535 })), `0304${name('ab.c')}ffff`);
  // the port is taken modulo 2^16, as every writer did
  assert.equal(hex(encodeSocksAddress({ host: '1.2.3.4', port: 65536 + 7 })), '01010203040007');
});

test('encode: IPv4-mapped IPv6, in either text form, goes out as IPv4', () => {
  for (const host of ['::ffff:10.0.0.1', '::ffff:a00:1', '[::ffff:10.0.0.1]', '0:0:0:0:0:ffff:10.0.0.1']) {
    assert.equal(hex(encodeSocksAddress({ host, port: 1 })), '010a0000010001', host);
  }
  // ::10.0.0.1 (IPv4-compatible, deprecated) is not mapped: IPv6
  assert.equal(encodeSocksAddress({ host: '::10.0.0.1', port: 1 })[0], 4);
});

test('encode: a bracketed IP literal is encoded as the IP, a bracketed name stays a name', () => {
  assert.equal(hex(encodeSocksAddress({ host: '[::1]', port: 443 })), `04${'00'.repeat(15)}0101bb`);
  assert.equal(hex(encodeSocksAddress({ host: '[1.2.3.4]', port: 80 })), '01010203040050');
  assert.equal(hex(encodeSocksAddress({ host: '[x.y]', port: 1 })), `0305${name('[x.y]')}0001`);
  assert.equal(hex(encodeSocksAddress({ host: '[::1', port: 1 })), `0304${name('[::1')}0001`);
});

test('encode: names of 0, 255 and 256 bytes (UTF-8 bytes, not characters)', () => {
  assert.throws(() => encodeSocksAddress({ host: '', port: 1 }), isProtocol);
  const n255 = encodeSocksAddress({ host: 'a'.repeat(255), port: 1 });
  assert.equal(n255.length, 1 + 1 + 255 + 2);
  assert.equal(n255[1], 255);
  assert.throws(() => encodeSocksAddress({ host: 'a'.repeat(256), port: 1 }), isProtocol);
  // 'ü' is 2 bytes: 127 of them + 1 = 255 bytes fits, 128 = 256 bytes does not
  assert.equal(encodeSocksAddress({ host: `${'ü'.repeat(127)}a`, port: 1 })[1], 255);
  assert.throws(() => encodeSocksAddress({ host: 'ü'.repeat(128), port: 1 }), isProtocol);
  // a writer that refuses writes nothing past its buffer
  const out = Buffer.alloc(300, 0xee);
  assert.throws(() => writeSocksAddress(out, 0, { host: 'a'.repeat(256), port: 1 }), isProtocol);
  assert.ok(out.every((b) => b === 0xee));
});

const samples: Address[] = [
  { host: '1.2.3.4', port: 80 },
  { host: '0.0.0.0', port: 0 },
  { host: '2001:db8::8:800:200c:417a', port: 8080 },
  { host: '::', port: 1 },
  { host: '1:2:3:4:5:6:7:8', port: 2 },
  { host: 'example.com', port: 53 },
  { host: 'ü.example', port: 1 },
  { host: 'a'.repeat(255), port: 65535 },
];

test('write at an offset, size, encode and read round trip, for every family numbering', () => {
  for (const fam of [SOCKS_FAMILIES, UOT_FAMILIES, V2RAY_FAMILIES] as AddressFamilies[]) {
    for (const a of samples) {
      const size = socksAddressSize(a);
      const out = Buffer.alloc(3 + size + 4, 0xaa);
      assert.equal(writeSocksAddress(out, 3, a, fam), 3 + size);
      assert.deepEqual(out.subarray(3, 3 + size), encodeSocksAddress(a, fam));
      assert.deepEqual(readSocksAddress(out, 3, fam), { value: a, length: size }, a.host);
    }
  }
});

test('family numbering: the ATYP byte per family', () => {
  const atyp = (host: string, fam: AddressFamilies): number => encodeSocksAddress({ host, port: 1 }, fam)[0];
  assert.deepEqual([atyp('1.2.3.4', SOCKS_FAMILIES), atyp('::1', SOCKS_FAMILIES), atyp('a.b', SOCKS_FAMILIES)], [1, 4, 3]);
  assert.deepEqual([atyp('1.2.3.4', UOT_FAMILIES), atyp('::1', UOT_FAMILIES), atyp('a.b', UOT_FAMILIES)], [0, 1, 2]);
  assert.deepEqual([atyp('1.2.3.4', V2RAY_FAMILIES), atyp('::1', V2RAY_FAMILIES), atyp('a.b', V2RAY_FAMILIES)], [1, 3, 2]);
  // SOCKS ATYP 4 (IPv6) is unknown in the UoT numbering, UoT's 2 (domain) in SOCKS'
  assert.throws(() => readSocksAddress(encodeSocksAddress({ host: '::1', port: 1 }), 0, UOT_FAMILIES), isProtocol);
  assert.throws(() => readSocksAddress(encodeSocksAddress({ host: 'a.b', port: 1 }, UOT_FAMILIES), 0), /unknown address type 2/);
});

test('read: every truncation is undefined, at any offset', () => {
  for (const a of [...samples, { host: 'x', port: 9 }]) {
    for (const fam of [SOCKS_FAMILIES, UOT_FAMILIES]) {
      const full = Buffer.concat([Buffer.from([7, 7]), encodeSocksAddress(a, fam)]);
      for (let n = 0; n < full.length; n++) assert.equal(readSocksAddress(full.subarray(0, n), 2, fam), undefined, `${a.host} cut at ${n}`);
      assert.ok(readSocksAddress(full, 2, fam));
    }
  }
  // an offset at or past the end is a truncation too
  assert.equal(readSocksAddress(Buffer.from([1, 2]), 2), undefined);
  assert.equal(readSocksAddress(Buffer.from([1, 2]), 5), undefined);
});

test('read: IPv4-mapped IPv6 on the wire decodes as IPv4; IPv6 text is RFC 5952', () => {
  const mapped = Buffer.from(`04${'00'.repeat(10)}ffff7f0000010050`, 'hex');
  assert.deepEqual(readSocksAddress(mapped, 0), { value: { host: '127.0.0.1', port: 80 }, length: 19 });
  const v6 = (h: string): string => readSocksAddress(Buffer.from(`04${h}0000`, 'hex'), 0)!.value.host;
  assert.equal(v6('20010db8000000000001000000000001'), '2001:db8::1:0:0:1');
  assert.equal(v6('00'.repeat(16)), '::');
  assert.equal(v6('fe800000000000010002000300040005'), 'fe80::1:2:3:4:5');
  assert.equal(v6('00000000000000000000fffe7f000001'), '::fffe:7f00:1'); // not the mapped prefix
  assert.equal(v6('00000000000000000001ffff7f000001'), '::1:ffff:7f00:1');
});

test('read: a domain field holding an IP literal decodes to that IP, unbracketed', () => {
  const host = (text: string): string => readSocksAddress(domainField(text), 0)!.value.host;
  assert.equal(host('[::1]'), '::1');
  assert.equal(host('::1'), '::1');
  assert.equal(host('[2001:db8::1]'), '2001:db8::1');
  assert.equal(host('1.2.3.4'), '1.2.3.4');
  assert.equal(host('[1.2.3.4]'), '1.2.3.4');
  assert.equal(host('[::ffff:1.2.3.4]'), '1.2.3.4');
  assert.equal(host('::ffff:102:304'), '1.2.3.4');
  // anything that is not an IP literal stays as sent
  assert.equal(host('[example.com]'), '[example.com]');
  assert.equal(host('[::1'), '[::1');
  assert.equal(host('a:b'), 'a:b');
  assert.equal(host('example.com'), 'example.com');
  assert.equal(readSocksAddress(domainField('[::1]'), 0)!.length, 2 + 5 + 2);
});

test('read: names of 0 and 255 bytes; unknown ATYP', () => {
  assert.throws(() => readSocksAddress(Buffer.from([3, 0, 0, 80]), 0), (e: unknown) => isProtocol(e) && /empty domain/.test(String(e)));
  // the empty-domain error comes as soon as the length byte is there
  assert.throws(() => readSocksAddress(Buffer.from([3, 0]), 0), isProtocol);
  const long = domainField('z'.repeat(255));
  assert.deepEqual(readSocksAddress(long, 0), { value: { host: 'z'.repeat(255), port: 80 }, length: 259 });
  for (const atyp of [0, 2, 5, 9, 255]) {
    assert.throws(() => readSocksAddress(Buffer.from([atyp, 1, 2, 3, 4, 5, 6]), 0), (e: unknown) => isProtocol(e) && /unknown address type/.test(String(e)));
  }
  // the ATYP alone decides: an unknown one is an error even before the rest arrives
  assert.throws(() => readSocksAddress(Buffer.from([9]), 0), isProtocol);
});

test('random bytes: undefined, a value within the input, or a ProxyError, for every numbering', () => {
  for (let i = 0; i < 5000; i++) {
    const b = randomBytes(i % 300);
    if (i % 4 === 0 && b.length > 0) b[0] = [1, 3, 4, 0][(i >> 2) % 4];
    for (const fam of [SOCKS_FAMILIES, UOT_FAMILIES, V2RAY_FAMILIES]) {
      try {
        const r = readSocksAddress(b, 0, fam);
        if (r) assert.ok(r.length <= b.length && r.length >= 5 && r.value.port >= 0);
      } catch (e) {
        assert.ok(e instanceof ProxyError && e.code === 'PROTOCOL', String(e));
      }
      try {
        const r = decodePortAddress(b, 0);
        if (r) assert.ok(r.length <= b.length);
      } catch (e) {
        assert.ok(e instanceof ProxyError && e.code === 'PROTOCOL', String(e));
      }
    }
  }
});

test('the V2Ray port-first form shares the semantics', () => {
  assert.equal(hex(encodePortAddress({ host: '::ffff:10.0.0.1', port: 53 })), '0035010a000001');
  assert.equal(hex(encodePortAddress({ host: '[::1]', port: 1 })), `000103${'00'.repeat(15)}01`);
  assert.equal(hex(encodePortAddress({ host: 'ab', port: 2 })), `00020202${name('ab')}`);
  assert.throws(() => encodePortAddress({ host: '', port: 1 }), isProtocol);
  assert.throws(() => encodePortAddress({ host: 'a'.repeat(256), port: 1 }), isProtocol);
  for (const a of samples) {
    const b = Buffer.concat([Buffer.from([1]), encodePortAddress(a), Buffer.from('tail')]);
    assert.equal(portAddressSize(a), b.length - 5);
    assert.deepEqual(decodePortAddress(b, 1), { value: a, length: b.length - 5 });
    for (let n = 0; n < b.length - 4; n++) assert.equal(decodePortAddress(b.subarray(0, n), 1), undefined, `${a.host} cut at ${n}`);
  }
  const mapped = Buffer.from(`005003${'00'.repeat(10)}ffff7f000001`, 'hex');
  assert.deepEqual(decodePortAddress(mapped, 0)?.value, { host: '127.0.0.1', port: 80 });
  const bracketed = Buffer.concat([Buffer.from([0, 80, 2, 5]), Buffer.from('[::1]')]);
  assert.deepEqual(decodePortAddress(bracketed, 0)?.value, { host: '::1', port: 80 });
  assert.throws(() => decodePortAddress(Buffer.from([0, 80, 4, 1, 2, 3, 4]), 0), isProtocol);
  assert.throws(() => decodePortAddress(Buffer.from([0, 80, 2, 0]), 0), isProtocol);
});
