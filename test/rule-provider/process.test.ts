/**
 * Process rules against a real process: curl goes through our mixed port (CONNECT) and rules on
 * its name, path, uid route it (REJECT answers the CONNECT with 502, DIRECT gets the page);
 * find-process-mode off never looks; with `always` the connection view carries the process.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { createLogger, type LogEntry } from '../../src/common/log.js';
import { Host } from '../../src/host/host.js';
import { eventually } from '../cluster/load.js';
import { freePort } from '../support/ports.js';
import { httpServer, type Local } from '../support/servers.js';

let web: Local;
const hosts: Host[] = [];
const CURL = realpathSync('/usr/bin/curl');

before(async () => {
  web = await httpServer();
});
after(async () => {
  await Promise.all(hosts.map((h) => h.close(0)));
  await web?.close();
});

async function start(rules: string[], extra = ''): Promise<{ host: Host; port: number; log: LogEntry[] }> {
  const port = await freePort();
  const log: LogEntry[] = [];
  const logger = createLogger('info', () => undefined);
  logger.subscribe((e) => log.push(e));
  const host = await Host.start(`mixed-port: ${port}\n${extra}rules:\n${rules.map((r) => `  - ${r}`).join('\n')}\n`, { log: logger });
  hosts.push(host);
  return { host, port, log };
}

/** curl through the proxy (CONNECT): the proxy's answer to the CONNECT, e.g. 200 or 502. */
function curlConnect(proxyPort: number, path = '/data/100', extra: string[] = [], uid?: number): Promise<string> {
  return new Promise((resolve) => {
    execFile(
      'curl',
      ['-s', '-o', '/dev/null', '-w', '%{http_connect}', '--max-time', '10', '-p', '-x', `http://127.0.0.1:${proxyPort}`, ...extra, `http://127.0.0.1:${web.port}${path}`],
      uid === undefined ? {} : { uid, gid: uid },
      (_err, stdout) => resolve(stdout.trim()),
    );
  });
}

describe('process rules', { timeout: 60_000 }, () => {
  test('PROCESS-NAME,curl,REJECT rejects curl; another name lets it through', async () => {
    const a = await start(['PROCESS-NAME,curl,REJECT', 'MATCH,DIRECT']);
    assert.equal(await curlConnect(a.port), '502');
    assert.ok(await eventually(() => a.log.some((e) => /match ProcessName\(curl\) using REJECT/.test(e.message))), a.log.map((e) => e.message).join('\n'));
    const b = await start(['PROCESS-NAME,wget,REJECT', 'MATCH,DIRECT']);
    assert.equal(await curlConnect(b.port), '200');
  });

  test('PROCESS-PATH, the -REGEX forms and UID route curl to DIRECT ahead of MATCH,REJECT', async () => {
    // mihomo treats uid 0 as unknown: as root, curl runs as nobody for the UID rules
    const own = process.getuid?.() ?? 0;
    const uid = own === 0 ? 65534 : own;
    const as = own === 0 ? uid : undefined;
    for (const r of [`PROCESS-PATH,${CURL}`, 'PROCESS-NAME-REGEX,^CU.L$', 'PROCESS-PATH-REGEX,/curl$', `UID,${uid}`, `UID,1/${uid - 1}-${uid + 1}`]) {
      const h = await start([`${r},DIRECT`, 'MATCH,REJECT']);
      const got = await curlConnect(h.port, undefined, [], as);
      // on a miss, say what the lookup saw (the route log line names the rule that matched)
      assert.equal(got, '200', `${r}: ${h.log.map((e) => e.message).join(' | ')}`);
    }
    const wrong = await start([`UID,${uid + 1}-${uid + 5},DIRECT`, 'MATCH,REJECT']);
    assert.equal(await curlConnect(wrong.port, undefined, [], as), '502');
  });

  test('find-process-mode off never looks the process up', async () => {
    const h = await start(['PROCESS-NAME,curl,REJECT', 'MATCH,DIRECT'], 'find-process-mode: off\n');
    assert.equal(await curlConnect(h.port), '200');
  });

  test('with find-process-mode always the connection shows its process', async () => {
    const h = await start(['MATCH,DIRECT'], 'find-process-mode: always\n');
    // the connection as it opens (a short download may be over between two polls of the list)
    const opened: ReturnType<typeof h.host.control.connections> = [];
    h.host.events.on('connection-opened', (v) => opened.push(v));
    const done = curlConnect(h.port, '/data/200000', ['--limit-rate', '50K']);
    assert.ok(await eventually(() => opened.some((c) => c.process !== undefined), 8000), JSON.stringify(opened));
    const c = opened.find((x) => x.process)!;
    assert.equal(c.process!.name, 'curl');
    assert.equal(c.process!.path, CURL);
    assert.equal(c.process!.uid, process.getuid?.() ?? 0);
    await h.host.control.closeAllConnections();
    await done;
  });
});
