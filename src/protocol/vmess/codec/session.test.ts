import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COMMAND, OPTION, SECURITY } from './request.js';
import { autoSecurity, newSession } from './session.js';

const dest = { host: '1.2.3.4', port: 80 };

test('options as mihomo chooses them per cipher and command', () => {
  const s = (security: 'aes-128-gcm' | 'chacha20-poly1305' | 'none' | 'zero', command: 1 | 2 | 3 = COMMAND.TCP, extra = false) =>
    newSession({ security, command, destination: dest, globalPadding: extra, authenticatedLength: extra }).request;
  assert.equal(s('aes-128-gcm').option, OPTION.CHUNK_STREAM | OPTION.CHUNK_MASKING);
  assert.equal(s('aes-128-gcm').security, SECURITY.AES_128_GCM);
  assert.equal(s('chacha20-poly1305', COMMAND.TCP, true).option, 0x1d);
  // none and zero: the same bytes on the wire; only UDP gets the chunk stream
  for (const c of ['none', 'zero'] as const) {
    assert.equal(s(c).security, SECURITY.NONE);
    assert.equal(s(c).option, 0);
    assert.equal(s(c, COMMAND.MUX).option, 0);
    assert.equal(s(c, COMMAND.UDP).option, OPTION.CHUNK_STREAM);
    assert.equal(s(c, COMMAND.TCP, true).option, 0, 'padding/auth-length only with AEAD ciphers');
  }
});

test('auto picks AES-GCM where Go would (amd64, arm64, s390x)', () => {
  assert.equal(autoSecurity('x64'), 'aes-128-gcm');
  assert.equal(autoSecurity('arm64'), 'aes-128-gcm');
  assert.equal(autoSecurity('arm'), 'chacha20-poly1305');
  assert.equal(autoSecurity('mips'), 'chacha20-poly1305');
});

test('each session has fresh keys; the response keys are SHA-256 derived', () => {
  const a = newSession({ security: 'auto', command: COMMAND.TCP, destination: dest, globalPadding: false, authenticatedLength: false });
  const b = newSession({ security: 'auto', command: COMMAND.TCP, destination: dest, globalPadding: false, authenticatedLength: false });
  assert.notDeepEqual(a.request.bodyKey, b.request.bodyKey);
  assert.equal(a.response.key.length, 16);
  assert.notDeepEqual(a.response.key, a.request.bodyKey);
});
