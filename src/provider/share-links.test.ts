import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createRegistry } from '../protocol/index.js';
import { selectProxies } from './payload.js';
import { decodeBase64, parseShareLinks } from './share-links.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const NO_FILTER = { name: 'p', filter: [], excludeFilter: '', excludeType: [], override: {} };

describe('share links', () => {
  it('reads ss (SIP002 base64 and plain userinfo, legacy form, plugin), vmess JSON, vless and trojan', () => {
    const vmess = { v: '2', ps: 'vm 1', add: 'example.com', port: '443', id: 'b831381d-6324-4d53-ad4f-8cda48b30811', aid: '0', scy: 'auto', net: 'ws', host: 'h.example', path: '/ws', tls: 'tls', sni: 's.example' };
    const text = [
      `ss://${Buffer.from('aes-256-gcm:pw1').toString('base64url')}@1.2.3.4:8388#ss%20one`,
      `ss://2022-blake3-aes-128-gcm:${encodeURIComponent('YWJjZGVmZ2hpamtsbW5vcA==')}@[::1]:8389#ss-2022`,
      `ss://${b64('chacha20-ietf-poly1305:pw3@5.6.7.8:443')}#legacy`,
      `ss://${Buffer.from('aes-128-gcm:pw4').toString('base64url')}@9.9.9.9:80/?plugin=${encodeURIComponent('obfs-local;obfs=http;obfs-host=cdn.example')}#obfs`,
      `vmess://${b64(JSON.stringify(vmess))}`,
      'vless://b831381d-6324-4d53-ad4f-8cda48b30811@v.example:443?security=tls&sni=v.example&type=grpc&serviceName=svc&flow=xtls-rprx-vision#vl',
      'trojan://secret@t.example:443?sni=t.example&allowInsecure=1#tj',
      'hysteria2://pw@h.example:443#hy',
    ].join('\n');
    const r = parseShareLinks(b64(text));
    assert.deepEqual(r.warnings, ['line 8: hysteria2:// share links are not supported yet, skipped']);
    assert.deepEqual(r.proxies.map((p) => [p.name, p.type, p.server, p.port]), [
      ['ss one', 'ss', '1.2.3.4', 8388],
      ['ss-2022', 'ss', '::1', 8389],
      ['legacy', 'ss', '5.6.7.8', 443],
      ['obfs', 'ss', '9.9.9.9', 80],
      ['vm 1', 'vmess', 'example.com', 443],
      ['vl', 'vless', 'v.example', 443],
      ['tj', 'trojan', 't.example', 443],
    ]);
    assert.equal(r.proxies[0].cipher, 'aes-256-gcm');
    assert.equal(r.proxies[0].password, 'pw1');
    assert.equal(r.proxies[1].password, 'YWJjZGVmZ2hpamtsbW5vcA==');
    assert.equal(r.proxies[2].password, 'pw3');
    assert.deepEqual([r.proxies[3].plugin, r.proxies[3]['plugin-opts']], ['obfs', { mode: 'http', host: 'cdn.example' }]);
    assert.deepEqual([r.proxies[4].network, r.proxies[4]['ws-opts'], r.proxies[4].tls, r.proxies[4].servername], ['ws', { path: '/ws', headers: { Host: 'h.example' } }, true, 's.example']);
    assert.deepEqual([r.proxies[5].flow, r.proxies[5]['grpc-opts']], ['xtls-rprx-vision', { 'grpc-service-name': 'svc' }]);
    assert.deepEqual([r.proxies[6].password, r.proxies[6].sni, r.proxies[6]['skip-cert-verify']], ['secret', 't.example', true]);
  });

  it('gives mappings that validate as proxies of those types', () => {
    const text = [
      `ss://${Buffer.from('aes-256-gcm:pw1').toString('base64url')}@1.2.3.4:8388#a`,
      `vmess://${b64(JSON.stringify({ ps: 'b', add: 'x.example', port: 443, id: 'b831381d-6324-4d53-ad4f-8cda48b30811', aid: 0, net: 'tcp' }))}`,
      'vless://b831381d-6324-4d53-ad4f-8cda48b30811@v.example:443?security=tls&sni=v.example#c',
      'trojan://secret@t.example:443?sni=t.example#d',
    ].join('\n');
    const r = parseShareLinks(text);
    const sel = selectProxies(r.proxies, NO_FILTER, createRegistry(), new Set(), ['proxies']);
    assert.deepEqual(sel.warnings, []);
    assert.deepEqual(sel.proxies.map((p) => p.name), ['a', 'b', 'c', 'd']);
  });

  it('skips truncated, oversized and random input with a warning, never throwing', () => {
    const good = `trojan://pw@t.example:443#ok`;
    const cases = [
      'ss://', 'ss://@:', `ss://${b64('aes-256-gcm')}@h:1`, 'vmess://', `vmess://${b64('{"ps":"x"')}`, `vmess://${b64('[]')}`,
      'vless://@h:1', 'vless://u@h:99999', 'trojan://@h:443', 'trojan://pw@:443', 'ss://%zz@h:1', `vmess://${'A'.repeat(20_000)}`,
    ];
    const r = parseShareLinks([...cases, good].join('\n'));
    assert.deepEqual(r.proxies.map((p) => p.name), ['ok']);
    assert.equal(r.warnings.length, cases.length, r.warnings.join('\n'));
    for (const w of r.warnings) assert.match(w, /^line \d+: /);
    assert.match(r.warnings[cases.length - 1], /longer than/);
    for (let i = 0; i < 300; i++) {
      const junk = randomBytes(1 + (i % 200));
      const variants = [junk.toString('latin1'), `ss://${junk.toString('base64')}`, `vmess://${junk.toString('base64')}`, `trojan://${junk.toString('latin1')}`, `vless://${junk.toString('hex')}@`];
      for (const v of variants) {
        const out = parseShareLinks(v);
        assert.ok(Array.isArray(out.proxies) && Array.isArray(out.warnings));
      }
    }
    // a huge list is bounded
    const many = parseShareLinks(Array.from({ length: 10_050 }, () => good).join('\n'));
    assert.equal(many.proxies.length, 10_000);
    assert.ok(many.warnings.some((w) => /only the first 10000/.test(w)));
  });

  it('decodes base64 in either alphabet, padded or not', () => {
    assert.equal(decodeBase64(Buffer.from('a?b>c').toString('base64url')), 'a?b>c');
    assert.equal(decodeBase64('YWJj'), 'abc');
    assert.equal(decodeBase64('YWI'), 'ab');
    assert.equal(decodeBase64('not base64!'), undefined);
  });
});
