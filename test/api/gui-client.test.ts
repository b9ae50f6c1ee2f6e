/**
 * What a GUI client (Clash Verge Rev, FlClash) does to the built CLI: start it with a controller
 * and a secret, push a whole new config with PUT /configs?force=true, flip the mode with PATCH,
 * while hashed tunnels carry data through it: every byte of every tunnel must come back. Both
 * as one process and as a cluster (the primary serves the ClusterControl).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startCli, type RunningCli } from '../support/cli.js';
import { freePort } from '../support/ports.js';
import { tcpEcho, type Local } from '../support/servers.js';
import { openTunnels } from '../host/tunnels.js';
import { curl, json } from './client.js';

const SECRET = 'gui-secret';
const AUTH = ['-H', `Authorization: Bearer ${SECRET}`];

for (const workers of [1, 2]) {
  describe(`a GUI client drives the CLI (workers: ${workers})`, { timeout: 90_000 }, () => {
    let echo: Local;
    let cli: RunningCli;
    let mixed: number;
    let api: number;
    const yaml = (rule: string) =>
      [`mixed-port: ${mixed}`, `external-controller: 127.0.0.1:${api}`, `secret: ${SECRET}`, `workers: ${workers}`, 'rules:', rule, '  - MATCH,DIRECT', ''].join('\n');

    before(async () => {
      echo = await tcpEcho();
      mixed = await freePort();
      api = await freePort();
      cli = await startCli(yaml('  - DST-PORT,1,REJECT'), 1, ['-d', mkdtempSync(join(tmpdir(), 'clash-ts-gui-'))]);
      await cli.waitForLine(/RESTful API listening at/, 15_000);
      await cli.waitForLine(/Initial configuration complete/, 15_000);
    });
    after(async () => {
      await cli?.stop();
      await echo?.close();
    });

    test('PUT /configs?force=true and PATCH mode with live tunnels: every byte survives', async () => {
      const base = `http://127.0.0.1:${api}`;
      const tunnels = await openTunnels(40, 10, mixed, echo.port);
      const rounds = async (n: number) => {
        for (let r = 0; r < n; r++) await Promise.all(tunnels.map((t, i) => t.round(700 + ((i * 53 + r * 17) % 3000))));
      };
      await rounds(2);
      const during = rounds(4);
      const put = await curl([...AUTH, '-X', 'PUT', '-H', 'Content-Type: application/json', '-d', JSON.stringify({ path: '', payload: yaml('  - DST-PORT,2,REJECT') }), `${base}/configs?force=true`]);
      assert.equal(put.status, 204, put.body);
      const patch = await curl([...AUTH, '-X', 'PATCH', '-d', '{"mode":"global"}', `${base}/configs`]);
      assert.equal(patch.status, 204, patch.body);
      await during;
      await rounds(2);
      assert.equal(json(await curl([...AUTH, `${base}/configs`])).mode, 'global');
      assert.equal(json(await curl([...AUTH, `${base}/rules`])).rules[0].payload, '2');
      for (const t of tunnels) assert.equal(t.verify().ok, true, JSON.stringify(t.verify()));
      await Promise.all(tunnels.map((t) => t.end()));
    });
  });
}
