/**
 * The process lookup as the rule engine drives it, against a /proc-shaped tree on disk (the
 * same files the kernel offers: net/tcp lines, pid dirs whose fd links name sockets): a process
 * rule waits for one asynchronous lookup, also nested in AND, and the
 * lookup runs only when such a rule is reached. The real-kernel case is
 * test/rule-provider/process.test.ts (curl through the proxy).
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Metadata } from '../core/metadata.js';
import type { Rule } from '../core/rule.js';
import { RuleEngine } from './engine.js';
import { parseRule } from './parse.js';
import { findSocket, ProcessFinder } from './process-lookup.js';

let proc: string;
const UID = process.getuid?.() ?? 0;

before(async () => {
  proc = await mkdtemp(join(tmpdir(), 'clash-ts-proc-'));
  await mkdir(join(proc, 'net'));
  // 127.0.0.1:40000 to our listener :8080 (inode 777), the same local port to elsewhere (inode
  // 779, another process: listed first) and, as a remote address only, 127.0.0.1:40001
  const head = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
  const row = (sl: number, local: string, rem: string, inode: number) => `   ${sl}: ${local} ${rem} 01 00000000:00000000 00:00000000 00000000  ${UID}        0 ${inode} 1 0000000000000000 20 4 30 10 -1\n`;
  await writeFile(join(proc, 'net', 'tcp'), head + row(0, '0100007F:9C40', '0100007F:0050', 779) + row(1, '0100007F:9C40', '0100007F:1F90', 777) + row(2, '0100007F:1F90', '0100007F:9C41', 778));
  await writeFile(join(proc, 'net', 'tcp6'), head);
  for (const [pid, inode, exe] of [[100, 779, '/usr/bin/other'], [200, 777, '/usr/bin/curl']] as const) {
    await mkdir(join(proc, String(pid), 'fd'), { recursive: true });
    for (let fd = 0; fd < 40; fd++) await symlink(fd === 33 ? `socket:[${inode}]` : `/dev/null${fd}`, join(proc, String(pid), 'fd', String(fd)));
    await symlink(exe, join(proc, String(pid), 'exe'));
  }
});
after(async () => {
  await rm(proc, { recursive: true, force: true });
});

const meta = (port: number): Metadata => ({
  id: '1',
  network: 'tcp',
  inbound: { type: 'SOCKS5', name: 'in', port: 8080 },
  source: { host: '127.0.0.1', port },
  destination: { host: 'a.test', port: 443 },
});

function rule(raw: string, finder: ProcessFinder): Rule {
  const f = raw.split(',');
  const type = f[0];
  if (type === 'MATCH') return parseRule({ raw, type, payload: '', target: f[1], params: [] });
  if (type === 'AND') return parseRule({ raw, type, payload: f.slice(1, -1).join(','), target: f[f.length - 1], params: [] }, { processes: finder });
  return parseRule({ raw, type, payload: f[1], target: f[2], params: [] }, { processes: finder });
}

async function route(finder: ProcessFinder, rules: string[], port: number): Promise<string | undefined> {
  const engine = new RuleEngine(rules.map((r) => rule(r, finder)));
  const m = meta(port);
  finder.arm(m);
  const got = await engine.match(m, { resolveIp: async () => undefined, findProcess: (x) => finder.lookup(x) });
  return got?.rule.target;
}

test('findSocket: the local address of a line, never its remote one; the listener port picks among sharers', async () => {
  assert.deepEqual(await findSocket('tcp', '127.0.0.1', 40000, proc, 8080), { uid: UID, inode: 777 });
  assert.deepEqual(await findSocket('tcp', '127.0.0.1', 40000, proc), { uid: UID, inode: 779 });
  assert.equal(await findSocket('tcp', '127.0.0.1', 40001, proc), undefined);
});

test('PROCESS-NAME waits for one asynchronous lookup; nested in AND too; a miss goes on', async () => {
  const f = new ProcessFinder('strict', { proc });
  assert.equal(await route(f, ['PROCESS-NAME,curl,A', 'MATCH,B'], 40000), 'A');
  assert.equal(f.scans, 1);
  assert.equal(await route(f, ['AND,((DST-PORT,443),(PROCESS-PATH,/usr/bin/curl)),C', 'MATCH,B'], 40000), 'C');
  assert.equal(f.scans, 1, 'the same socket within the cache time: no second walk');
  const g = new ProcessFinder('strict', { proc });
  assert.equal(await route(g, ['PROCESS-NAME,wget,A', 'MATCH,B'], 40000), 'B');
  assert.equal(await route(g, ['PROCESS-NAME,curl,A', 'MATCH,B'], 40002), 'B', 'no such socket: no process');
});

test('the lookup runs only when a process rule is reached; off never looks', async () => {
  const f = new ProcessFinder('strict', { proc });
  assert.equal(await route(f, ['DOMAIN,a.test,D', 'PROCESS-NAME,curl,A', 'MATCH,B'], 40000), 'D');
  assert.equal(f.scans, 0);
  const off = new ProcessFinder('off', { proc });
  assert.equal(await route(off, ['PROCESS-NAME,curl,A', 'MATCH,B'], 40000), 'B');
  assert.equal(off.scans, 0);
});

test('find outside the engine never reads /proc; after a lookup it answers', async () => {
  const f = new ProcessFinder('strict', { proc });
  const m = meta(40000);
  assert.equal(f.find(m), undefined);
  assert.equal((await f.lookup(m))?.name, 'curl');
  assert.equal(f.find(m)?.pid, 200);
  assert.equal(f.scans, 1);
});
