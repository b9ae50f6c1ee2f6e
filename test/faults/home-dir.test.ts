// Fault: the home dir turns read-only under a running CLI (a bind mount remounted read-only;
// we run as root, which file modes do not stop). A select-group choice cannot be written to
// selected.json: one clear warning per interval, the choice still applies, the proxy serves on.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startCli, type RunningCli } from '../support/cli.js';
import { freePort } from '../support/ports.js';
import { readN, socks5Connect } from '../support/socks-client.js';
import { pattern, sha256, tcpServer, tempHome } from './probe.js';

let cli: RunningCli | undefined;
let echo: Awaited<ReturnType<typeof tcpServer>>;
let home: string;
let mounted = false;
let ctlPort: number;

before(async () => {
  echo = await tcpServer((s) => s.pipe(s));
  home = join(tempHome('ro'), 'home');
  mkdirSync(home);
  execFileSync('mount', ['--bind', home, home]);
  mounted = true;
  ctlPort = await freePort();
  cli = await startCli(
    [
      `mixed-port: ${await freePort()}`,
      `external-controller: 127.0.0.1:${ctlPort}`,
      'proxies:',
      '  - { name: d2, type: direct }',
      'proxy-groups:',
      '  - { name: sel, type: select, proxies: [DIRECT, d2] }',
      'rules:',
      '  - MATCH,sel',
      '',
    ].join('\n'),
    1,
    ['-d', home],
  );
  await cli.waitForLine(/RESTful API listening at/);
});

after(async () => {
  await cli?.stop();
  if (mounted) execFileSync('umount', [home]);
  await echo?.close();
});

async function select(member: string): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${ctlPort}/proxies/sel`, { method: 'PUT', body: JSON.stringify({ name: member }), headers: { 'content-type': 'application/json' } });
  return r.status;
}

test('home dir read-only: selections fail to save with one warning per interval, the proxy keeps serving', async () => {
  execFileSync('mount', ['-o', 'remount,ro,bind', home]);
  for (const m of ['d2', 'DIRECT', 'd2']) assert.equal(await select(m), 204);
  const warnings = cli!.lines.filter((l) => /level=warning/.test(l) && /cannot write .*selected\.json/.test(l));
  assert.equal(warnings.length, 1, `warnings:\n${cli!.lines.slice(-6).join('\n')}`);
  assert.match(warnings[0], /read-only file system|EROFS/i);
  const now = (await (await fetch(`http://127.0.0.1:${ctlPort}/proxies/sel`)).json()) as { now: string };
  assert.equal(now.now, 'd2', 'the choice holds in memory');
  const port = cli!.ports.get('Mixed(http+socks)')!;
  const s = await socks5Connect(port, '127.0.0.1', echo.port);
  const body = pattern(0, 64 << 10);
  s.write(body);
  assert.equal(sha256(await readN(s, body.length)), sha256(body));
  s.destroy();
  await cli!.waitForLine(/--> 127\.0\.0\.1:\d+ match Match using sel\[d2\]/, 3000);
  assert.equal(cli!.proc.exitCode, null);
});
