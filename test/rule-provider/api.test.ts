/** GET /providers/rules and PUT /providers/rules/:name through the REST controller, with curl. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ControllerService } from '../../src/api/service.js';
import { createLogger } from '../../src/common/log.js';
import { Host } from '../../src/host/host.js';
import { curl, json } from '../api/client.js';
import { eventually } from '../cluster/load.js';
import { freePort } from '../support/ports.js';

const home = mkdtempSync(join(tmpdir(), 'clash-ts-rule-api-'));
let host: Host | undefined;
after(async () => {
  await host?.close(0);
  rmSync(home, { recursive: true, force: true });
});

test('rule providers in the API: mihomo shape, PUT updates, 404 and 503', async () => {
  writeFileSync(join(home, 'ips.txt'), '10.0.0.0/8\n192.168.0.0/16\n');
  const api = await freePort();
  const log = createLogger('silent', () => undefined);
  const ctl = new ControllerService({ log, homeDir: home, configFile: join(home, 'config.yaml'), restart: async () => undefined });
  host = await Host.start(
    [
      `external-controller: 127.0.0.1:${api}`,
      'rule-providers:',
      '  ips: { type: file, behavior: ipcidr, format: text, path: ips.txt }',
      '  ads: { type: inline, behavior: domain, payload: [+.ads.test, tracker.test] }',
      '  gone: { type: file, behavior: classical, path: missing.yaml }',
      'rules:',
      '  - RULE-SET,ads,REJECT',
      '  - RULE-SET,ips,DIRECT,no-resolve',
      '  - RULE-SET,gone,DIRECT',
      '  - MATCH,DIRECT',
      '',
    ].join('\n'),
    { log, homeDir: home, services: [ctl] },
  );
  ctl.serve(host.control);
  const base = `http://127.0.0.1:${api}`;
  assert.ok(await eventually(() => host!.generation.ruleSets.get('ips')!.loaded));
  const all = json(await curl([`${base}/providers/rules`])).providers;
  assert.deepEqual(Object.keys(all).sort(), ['ads', 'gone', 'ips']);
  const { updatedAt, ...ips } = all.ips;
  assert.ok(Date.parse(updatedAt) > 0);
  assert.deepEqual(ips, { name: 'ips', type: 'Rule', vehicleType: 'File', behavior: 'IPCIDR', format: 'TextRule', ruleCount: 2 });
  assert.deepEqual(
    { ...all.ads, updatedAt: undefined },
    { name: 'ads', type: 'Rule', vehicleType: 'Inline', behavior: 'Domain', format: '', ruleCount: 2, payload: ['+.ads.test', 'tracker.test'], updatedAt: undefined },
  );
  assert.equal(all.gone.ruleCount, 0);
  const rules = json(await curl([`${base}/rules`])).rules;
  assert.deepEqual(rules[1], { type: 'RuleSet', payload: 'ips', proxy: 'DIRECT', size: -1 });

  writeFileSync(join(home, 'ips.txt'), '10.0.0.0/8\n');
  assert.equal((await curl(['-X', 'PUT', `${base}/providers/rules/ips`])).status, 204);
  assert.equal(json(await curl([`${base}/providers/rules`])).providers.ips.ruleCount, 1);
  assert.equal((await curl(['-X', 'PUT', `${base}/providers/rules/ads`])).status, 204);
  assert.equal((await curl(['-X', 'PUT', `${base}/providers/rules/nope`])).status, 404);
  const failed = await curl(['-X', 'PUT', `${base}/providers/rules/gone`]);
  assert.equal(failed.status, 503);
  assert.match(json(failed).message, /ENOENT|no such file/);
});
