import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgs } from '../cli/args.js';
import { withOverrides } from '../cli/overrides.js';
import { createRegistry } from '../protocol/index.js';
import { generalSchema } from './general.js';
import { loadConfig } from './load.js';
import { workerCount, workersSchema } from './workers.js';

test('workers: default 1, counts, auto = 0, numeric strings', () => {
  assert.equal(generalSchema.parse({}).workers, 1);
  assert.equal(workersSchema.parse(4), 4);
  assert.equal(workersSchema.parse(0), 0);
  assert.equal(workersSchema.parse('auto'), 0);
  assert.equal(workersSchema.parse(' Auto '), 0);
  assert.equal(workersSchema.parse('2'), 2);
  assert.equal(workerCount(0, 8), 8);
  assert.equal(workerCount(3, 8), 3);
});

test('workers: bad values are errors that name the key', () => {
  for (const bad of [-1, 1.5, 257, 'many', true, [2]]) assert.equal(workersSchema.safeParse(bad).success, false, JSON.stringify(bad));
  assert.throws(
    () => loadConfig('mixed-port: 7890\nworkers: lots\n', { registry: createRegistry() }),
    (err: { issues?: { path: string; message: string }[] }) => err.issues?.some((i) => i.path === 'workers') === true,
  );
  const { warnings } = loadConfig('mixed-port: 7890\nworkers: 2\n', { registry: createRegistry() });
  assert.deepEqual(warnings, [], 'a known key: no "unknown key" warning');
});

test('-workers overrides the config key; refuses what the key refuses', () => {
  assert.equal(parseArgs(['-workers', '3']).workers, 3);
  assert.equal(parseArgs(['-workers=auto']).workers, 0);
  assert.throws(() => parseArgs(['-workers', 'x']), /invalid value "x" for -workers/);
  assert.throws(() => parseArgs(['-workers', '999']), /-workers/);
  const { config } = loadConfig('mixed-port: 7890\nworkers: 2\n', { registry: createRegistry() });
  assert.equal(withOverrides(config, parseArgs(['-workers', '1'])).general.workers, 1);
  assert.equal(withOverrides(config, parseArgs([])).general.workers, 2);
});
