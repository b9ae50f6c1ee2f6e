import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PROXY_TYPE_KEYS, typesOf, type TypeKeys } from '../../test/support/proxy-mappings.js';
import { createRegistry } from './index.js';

// One table of YAML values, run through every registered proxy type's schema: a value means
// the same whichever type it is written on (config/values.ts is the one set of value schemas).

const ERROR = Symbol('error');
type Row = readonly [input: unknown, expected: unknown];

const BOOL: readonly Row[] = [
  [true, true], [false, false],
  ['yes', true], ['Yes', true], ['YES', true], ['no', false], ['on', true], ['off', false], ['Off', false], ['y', true], ['n', false],
  ['true', true], ['True', true], ['TRUE', true], ['t', true], ['T', true], ['1', true],
  ['false', false], ['False', false], ['f', false], ['F', false], ['0', false], [' true ', true], ['', false],
  [1, true], [0, false], [2, true], [-1, true],
  ['maybe', ERROR], ['2', ERROR], ['yes please', ERROR], [[true], ERROR], [{}, ERROR], [null, ERROR],
];

const PORT: readonly Row[] = [
  [443, 443], ['443', 443], [' 443 ', 443], ['0x1bb', 443], ['0443', 443], [1, 1], [65535, 65535],
  [0, ERROR], ['0', ERROR], [70000, ERROR], ['70000', ERROR], [-1, ERROR], [443.5, ERROR], ['443.5', ERROR],
  ['https', ERROR], ['', ERROR], [true, ERROR], [null, ERROR],
];

const TEXT: readonly Row[] = [
  ['secret', 'secret'], [123456, '123456'], [1.5, '1.5'], [true, 'true'], [false, 'false'],
  [[1], ERROR], [{}, ERROR], [null, ERROR],
];

const NAME: readonly Row[] = [['p', 'p'], [123, '123'], [true, 'true'], ['', ERROR], [null, ERROR], [[], ERROR]];

const INT: readonly Row[] = [[255, 255], ['255', 255], ['-1', -1], ['0x10', 16], [0, 0], ['mark', ERROR], [1.5, ERROR], [true, ERROR]];

/** Which keys of a type take which table. */
function keysOf(k: TypeKeys): [key: string, rows: readonly Row[]][] {
  const out: [string, readonly Row[]][] = [['name', NAME]];
  if (k.udp) out.push(['udp', BOOL]);
  if (k.remote) out.push(['port', PORT], ['server', TEXT.filter(([i]) => i !== '')]);
  if (k.password) out.push(['password', TEXT]);
  if (k.dial) out.push(['tfo', BOOL], ['mptcp', BOOL], ['interface-name', TEXT], ['ip-version', TEXT], ['routing-mark', INT]);
  return out;
}

test('the same values give the same outcome on every proxy type', () => {
  const registry = createRegistry();
  let checked = 0;
  for (const [type, keys] of typesOf(registry)) {
    const schema = registry.get(type)!.schema;
    for (const [key, rows] of keysOf(keys)) {
      for (const [input, expected] of rows) {
        const label = `${type}: ${key}: ${JSON.stringify(input)}`;
        const r = schema.safeParse({ ...keys.base, [key]: input });
        if (expected === ERROR) {
          assert.equal(r.success, false, `${label} must be an error`);
          assert.ok(r.error!.issues.some((i) => i.path[0] === key), `${label}: the error names the key`);
        } else {
          assert.equal(r.success, true, `${label} must load: ${r.error?.message}`);
          assert.deepEqual((r.data as Record<string, unknown>)[key], expected, label);
        }
        checked++;
      }
    }
  }
  assert.ok(checked > 500, `${checked} checks`);
});

test('the cases the issue names, on every type that has the key', () => {
  const registry = createRegistry();
  const parse = (type: string, extra: Record<string, unknown>) => registry.get(type)!.schema.safeParse({ ...PROXY_TYPE_KEYS[type].base, ...extra });
  for (const [type, k] of typesOf(registry)) {
    if (k.udp) {
      assert.equal((parse(type, { udp: 'yes' }).data as { udp?: boolean }).udp, true, `${type} udp: "yes"`);
      assert.equal(parse(type, { udp: 'maybe' }).success, false, `${type} udp: "maybe"`);
    }
    if (k.password) assert.equal((parse(type, { password: 123456 }).data as { password?: string }).password, '123456', type);
    if (k.remote) assert.equal(parse(type, { port: 70000 }).success, false, `${type} port: 70000`);
  }
});
