import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRegistry } from '../protocol/index.js';
import { loadConfig } from './load.js';
import { boolLike, durationMsLike, intLike, listenPortLike, portLike, textListLike } from './values.js';

test('config sections read booleans with the same words as proxies', () => {
  const load = (yaml: string) => loadConfig(yaml, { registry: createRegistry() }).config;
  for (const [v, want] of [['"on"', true], ['yes', true], ['"T"', true], ['1', true], ['off', false], ['"0"', false], ['FALSE', false]] as const) {
    assert.equal(load(`allow-lan: ${v}\n`).general.allowLan, want, `allow-lan: ${v}`);
  }
  assert.throws(() => load('allow-lan: maybe\n'));
});

test('listening ports take 0; proxy ports do not; integers from strings as Go reads them', () => {
  assert.equal(listenPortLike.parse('0'), 0);
  assert.equal(portLike.safeParse('0').success, false);
  assert.deepEqual(['0x1bb', '0o17', '0b11', '-5', '+5', ' 7 '].map((v) => intLike.parse(v)), [443, 15, 3, -5, 5, 7]);
  for (const bad of ['', '0x', '1e3', '1_000', '--1', 'ten']) assert.equal(intLike.safeParse(bad).success, false, bad);
});

test('one boolean, one text list, one duration', () => {
  assert.equal(boolLike.safeParse(Number.NaN).success, false);
  assert.deepEqual(textListLike.parse('h2'), ['h2']);
  assert.deepEqual(textListLike.parse([1, 'x']), ['1', 'x']);
  assert.deepEqual(['500ms', '3s', '1m', 2, ' 1.5 '].map((v) => durationMsLike.parse(v)), [500, 3000, 60_000, 2000, 1500]);
  assert.equal(durationMsLike.safeParse('soon').success, false);
});
