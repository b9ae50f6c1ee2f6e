import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AsnDb } from '../../src/geo/asn.js';
import { CountryDb } from '../../src/geo/country.js';
import { DatFile } from '../../src/geo/dat-file.js';
import { GeoDatabases } from '../../src/geo/geo-data.js';
import { CidrSet } from '../../src/geo/ip-set.js';
import { isLanIp } from '../../src/geo/lan.js';
import { openGeo } from '../../src/geo/open.js';
import {
  encodeGeoIp, encodeGeoSite, geoliteAsnSpec, ipinfoAsnSpec, maxmindSpec, metaSpec, singSpec, writeMmdb, type MmdbSpec,
} from './support/geo-files.js';

const dir = mkdtempSync(join(tmpdir(), 'clash-ts-geo-readers-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function mmdb(spec: MmdbSpec): Buffer {
  const file = join(dir, `db${n++}.mmdb`);
  writeMmdb(file, spec);
  return readFileSync(file);
}

describe('country mmdb layouts (written by libmaxmind-db-writer-perl)', () => {
  const meta = mmdb(metaSpec([['1.0.0.0/24', 'au'], ['2.0.0.0/8', ['cn', 'cloudflare']], ['2001:db8::/32', 'jp'], ['10.0.0.0/8', 'private']]));

  it('MetaCubeX Meta-geoip0: one code or several per IP', () => {
    const db = new CountryDb(meta);
    assert.equal(db.layout, 'meta');
    assert.deepEqual(db.codes('1.0.0.1'), ['au']);
    assert.deepEqual(db.codes('2.3.4.5'), ['cn', 'cloudflare']);
    assert.deepEqual(db.codes('2001:db8::1'), ['jp']);
    assert.deepEqual(db.codes('10.9.9.9'), ['private']);
    assert.deepEqual(db.codes('9.9.9.9'), []);
    assert.deepEqual(db.codes('not an ip'), []);
  });

  it('IPv4-mapped IPv6 reads as its IPv4 address, dotted or hex', () => {
    const db = new CountryDb(meta);
    assert.deepEqual(db.codes('::ffff:2.3.4.5'), ['cn', 'cloudflare']);
    assert.deepEqual(db.codes('::ffff:203:405'), ['cn', 'cloudflare']);
    assert.deepEqual(db.codes('::ffff:1.0.0.200'), ['au']);
  });

  it('GeoLite2-Country: country.iso_code, lower-cased', () => {
    const db = new CountryDb(mmdb(maxmindSpec([['1.0.0.0/24', 'AU'], ['2001:db8::/32', 'JP']])));
    assert.equal(db.layout, 'maxmind');
    assert.deepEqual(db.codes('1.0.0.9'), ['au']);
    assert.deepEqual(db.codes('2001:db8:1::'), ['jp']);
    assert.deepEqual(db.codes('1.0.1.0'), []);
  });

  it('sing-geoip: the record is the code; an IPv4-only database answers no IPv6', () => {
    const db = new CountryDb(mmdb({ ...singSpec([['1.0.0.0/24', 'au']]), ip_version: 4 }));
    assert.equal(db.layout, 'sing');
    assert.deepEqual(db.codes('1.0.0.9'), ['au']);
    assert.deepEqual(db.codes('::ffff:1.0.0.9'), ['au']);
    assert.deepEqual(db.codes('2001:db8::1'), []);
  });
});

describe('ASN.mmdb layouts', () => {
  it('GeoLite2-ASN and ipinfo give the same number and organisation', () => {
    for (const spec of [geoliteAsnSpec, ipinfoAsnSpec]) {
      const db = new AsnDb(mmdb(spec([['1.1.1.0/24', 13335, 'Cloudflare, Inc.'], ['2606:4700::/32', 13335, 'Cloudflare, Inc.']])));
      assert.deepEqual(db.lookup('1.1.1.1'), { asn: '13335', org: 'Cloudflare, Inc.' });
      assert.deepEqual(db.lookup('::ffff:1.1.1.1'), { asn: '13335', org: 'Cloudflare, Inc.' });
      assert.deepEqual(db.lookup('2606:4700::1'), { asn: '13335', org: 'Cloudflare, Inc.' });
      assert.equal(db.lookup('8.8.8.8'), undefined);
    }
  });

  it('another database_type is refused by name', () => {
    assert.throws(() => new AsnDb(mmdb(maxmindSpec([['1.0.0.0/24', 'AU']]))), /Unsupported ASN type: GeoLite2-Country/);
  });
});

describe('damaged databases are refused with a message, never a crash', () => {
  const good = mmdb(metaSpec([['1.0.0.0/24', 'au'], ['2001:db8::/32', 'jp']]));
  const site = encodeGeoSite({ cn: [{ type: 2, value: 'qq.com' }], google: [{ type: 3, value: 'www.google.com' }] });

  it('a truncated mmdb (every length from 0 to the whole file, in steps) is refused', () => {
    for (let len = 0; len < good.length; len += Math.max(1, Math.floor(good.length / 97))) {
      assert.throws(() => openGeo('mmdb', good.subarray(0, len)), /empty|MaxMind/, `length ${len}`);
    }
  });

  it('random bytes and an HTML page are refused as mmdb and as .dat', () => {
    const html = Buffer.from('<!DOCTYPE html><html><body>404 Not Found</body></html>');
    for (const data of [html, randomBytes(4096), Buffer.alloc(1000)]) {
      assert.throws(() => openGeo('mmdb', data), /MaxMind|empty/);
      assert.throws(() => openGeo('asn', data), /MaxMind|empty/);
      assert.throws(() => openGeo('geosite', data), /invalid geodata file/);
    }
  });

  it('random .dat input either opens or fails with "invalid geodata file" (500 tries)', () => {
    for (let i = 0; i < 500; i++) {
      const data = randomBytes(1 + (i % 300));
      try {
        new DatFile(data);
      } catch (err) {
        assert.match((err as Error).message, /^invalid geodata file/);
      }
    }
  });

  it('a truncated GeoSite.dat is refused at every cut inside an entry', () => {
    // a cut exactly between two entries is a shorter valid list (protobuf cannot tell): the
    // download checks the announced length for that
    const boundary = site.length - encodeGeoSite({ google: [{ type: 3, value: 'www.google.com' }] }).length;
    for (let len = 1; len < site.length; len++) {
      if (len === boundary) {
        assert.deepEqual(new DatFile(site.subarray(0, len)).codes(), ['cn']);
        continue;
      }
      assert.throws(() => new DatFile(site.subarray(0, len)), /invalid geodata file/, `length ${len}`);
    }
  });

  it('an mmdb whose data section is overwritten opens or answers nothing, never throws on lookup', () => {
    const bad = Buffer.from(good);
    bad.fill(0xff, 0, Math.floor(bad.length / 2));
    try {
      const db = new CountryDb(bad);
      for (const ip of ['1.0.0.1', '2001:db8::1', '3.3.3.3']) assert.ok(Array.isArray(db.codes(ip)));
    } catch (err) {
      assert.match((err as Error).message, /MaxMind/);
    }
  });
});

describe('GeoSite.dat categories', () => {
  const data = encodeGeoSite({
    CN: [
      { type: 2, value: 'qq.com' },
      { type: 3, value: 'exact.cn.example' },
      { type: 0, value: 'baidu' },
      { type: 1, value: '^ad[0-9]+\\.example\\.org$' },
      { type: 2, value: 'ads.cn.example', attrs: ['ads'] },
      { type: 2, value: 'both.cn.example', attrs: ['ads', 'cn'] },
    ],
    'GEOLOCATION-!CN': [{ type: 2, value: 'google.com' }],
  });
  const geo = new GeoDatabases({ geodataMode: false, geosite: new DatFile(data) });

  it('domain, full, keyword and regex entries match as mihomo does', () => {
    const cn = geo.site('cn');
    assert.ok(cn.has('qq.com'));
    assert.ok(cn.has('www.qq.com'));
    assert.ok(cn.has('a.b.qq.com'));
    assert.ok(!cn.has('notqq.com'));
    assert.ok(cn.has('exact.cn.example'));
    assert.ok(!cn.has('www.exact.cn.example'));
    assert.ok(cn.has('www.baidu.com'));
    assert.ok(cn.has('ad42.example.org'));
    assert.ok(!cn.has('ad.example.org'));
    assert.ok(!cn.has(''));
  });

  it('codes are found in any case; names with ! inside are plain names', () => {
    assert.ok(geo.site('CN').has('qq.com'));
    assert.ok(geo.site('geolocation-!cn').has('mail.google.com'));
    assert.ok(!geo.site('geolocation-!cn').has('qq.com'));
  });

  it('@attr keeps the entries carrying every attribute; a leading ! is the complement', () => {
    const ads = geo.site('cn@ads');
    assert.ok(ads.has('x.ads.cn.example'));
    assert.ok(ads.has('both.cn.example'));
    assert.ok(!ads.has('qq.com'));
    const both = geo.site('cn@ads@cn');
    assert.ok(both.has('both.cn.example'));
    assert.ok(!both.has('ads.cn.example'));
    const notCn = geo.site('!cn');
    assert.ok(notCn.has('example.net'));
    assert.ok(!notCn.has('qq.com'));
  });

  it('an unknown category throws naming it', () => {
    assert.throws(() => geo.site('nope'), /list nope not found in GeoSite.dat/);
  });
});

describe('GeoIP.dat codes (geodata-mode)', () => {
  const data = encodeGeoIp({
    cn: ['1.0.1.0/24', '1.0.2.0/23', '240e::/18'],
    private: ['10.0.0.0/8', 'fc00::/7'],
    notcn: { cidrs: ['1.0.1.0/24'], reverse: true },
    mapped: ['::ffff:505:0/112'],
  });
  const geo = new GeoDatabases({ geodataMode: true, geoip: new DatFile(data) });

  it('ranges answer for IPv4, IPv6 and IPv4-mapped IPv6', () => {
    const cn = geo.ipSet('cn');
    assert.ok(cn.has('1.0.1.5'));
    assert.ok(cn.has('1.0.3.255'));
    assert.ok(!cn.has('1.0.4.0'));
    assert.ok(!cn.has('1.0.0.255'));
    assert.ok(cn.has('240e:1::1'));
    assert.ok(!cn.has('2400::1'));
    assert.ok(cn.has('::ffff:1.0.1.5'));
    assert.ok(geo.ipSet('mapped').has('5.5.3.4'));
  });

  it('reverse_match and a leading ! answer the complement', () => {
    assert.ok(geo.ipSet('notcn').has('8.8.8.8'));
    assert.ok(!geo.ipSet('notcn').has('1.0.1.1'));
    assert.ok(geo.ipSet('!cn').has('8.8.8.8'));
    assert.ok(!geo.ipSet('!cn').has('1.0.1.1'));
  });

  it('ipCodes lists the codes asked so far, plus private for LAN', () => {
    geo.ipSet('cn');
    assert.deepEqual([...geo.ipCodes('1.0.1.1')].sort(), ['cn']);
    assert.ok(geo.ipCodes('192.168.1.1').includes('private'));
  });

  it('an unknown code throws naming it', () => {
    assert.throws(() => geo.ipSet('zz'), /country zz not found in GeoIP.dat/);
  });
});

describe('CidrSet against a naive scan', () => {
  it('2,000 random ranges, 20,000 random lookups agree (IPv4 and IPv6)', () => {
    const set = new CidrSet();
    const v4: [number, number][] = [];
    const v6: [bigint, bigint][] = [];
    const rnd = (k: number) => Math.floor(Math.random() * k);
    for (let i = 0; i < 2000; i++) {
      if (i % 2 === 0) {
        const prefix = 8 + rnd(25);
        const ip = randomBytes(4);
        set.add(ip, prefix);
        const w = ip.readUInt32BE(0);
        const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
        v4.push([(w & mask) >>> 0, (w | ~mask) >>> 0]);
      } else {
        const prefix = 16 + rnd(100);
        const ip = randomBytes(16);
        ip[0] = 0x20; // stay out of ::ffff:0:0/96
        set.add(ip, prefix);
        const x = BigInt(`0x${ip.toString('hex')}`);
        const hostBits = BigInt(128 - prefix);
        const lo = (x >> hostBits) << hostBits;
        v6.push([lo, lo + (1n << hostBits) - 1n]);
      }
    }
    set.seal();
    for (let i = 0; i < 20000; i++) {
      if (i % 2 === 0) {
        // half the probes inside a known range
        const base = i % 4 === 0 ? v4[rnd(v4.length)][0] + rnd(3) : randomBytes(4).readUInt32BE(0);
        const x = base >>> 0;
        const ip = `${x >>> 24}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`;
        assert.equal(set.has(ip), v4.some(([s, e]) => x >= s && x <= e), ip);
      } else {
        const base = i % 4 === 1 ? v6[rnd(v6.length)][0] + BigInt(rnd(3)) : BigInt(`0x20${randomBytes(15).toString('hex')}`);
        const hex = base.toString(16).padStart(32, '0');
        const ip = hex.match(/.{4}/g)!.join(':');
        assert.equal(set.has(ip), v6.some(([s, e]) => base >= s && base <= e), ip);
      }
    }
  });
});

describe('LAN ranges', () => {
  it('private, loopback, link-local, multicast and unspecified, IPv4-mapped too', () => {
    for (const ip of ['10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '127.0.0.1', '169.254.1.1', '224.0.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd00::1', 'ff02::1', '::ffff:192.168.0.1']) {
      assert.ok(isLanIp(ip), ip);
    }
    for (const ip of ['8.8.8.8', '172.32.0.1', '100.64.0.1', '2001:db8::1', '::ffff:8.8.8.8', 'example.com']) {
      assert.ok(!isLanIp(ip), ip);
    }
  });
});
