// Faults: signals to the built CLI. SIGTERM with 500 live tunnels: the listener closes first
// (new connections refused), live tunnels keep relaying and may finish within the 3 s grace,
// the rest are closed at its end, and the exit code is 0. SIGHUP: the config file is read again
// and applied (mihomo's behaviour); a broken file is logged and the running config stays.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { startCli } from '../support/cli.js';
import { freePort } from '../support/ports.js';
import { readN, socks5Connect } from '../support/socks-client.js';
import { pattern, sha256, tcpServer, tempHome } from './probe.js';

const TUNNELS = 500;

let echo: Awaited<ReturnType<typeof tcpServer>>;

before(async () => {
  echo = await tcpServer((s) => s.pipe(s));
});

after(async () => {
  await echo?.close();
});

function config(mixedPort: number, extra: string[] = []): string {
  return [`mixed-port: ${mixedPort}`, ...extra, 'rules:', '  - MATCH,DIRECT', ''].join('\n');
}

/** Whether a new TCP connection to the port is accepted (and answered) or refused / closed. */
function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => resolve(false));
    s.once('connect', () => s.write(Buffer.from([5, 1, 0])));
    s.once('data', () => {
      s.destroy();
      resolve(true);
    });
    s.once('close', () => resolve(false));
  });
}

/** Sends `n` bytes and reads them back; resolves with their sha256 match. */
async function roundTrip(s: net.Socket, offset: number, n: number): Promise<boolean> {
  const b = pattern(offset, n);
  s.write(b);
  return sha256(await readN(s, n)) === sha256(b);
}

test(`SIGTERM with ${TUNNELS} live tunnels: listener closed first, tunnels drain within the grace, exit 0`, async () => {
  const port = await freePort();
  const cli = await startCli(config(port), 1, ['-d', tempHome('term')]);
  const tunnels: net.Socket[] = [];
  for (let i = 0; i < TUNNELS; i += 50) {
    tunnels.push(...(await Promise.all(Array.from({ length: 50 }, () => socks5Connect(port, '127.0.0.1', echo.port)))));
  }
  const ok = await Promise.all(tunnels.map((s, i) => roundTrip(s, i, 4096)));
  assert.equal(ok.filter(Boolean).length, TUNNELS, 'every tunnel echoes before the signal');

  const t0 = Date.now();
  cli.proc.kill('SIGTERM');
  await cli.waitForLine(/received SIGTERM/, 3000);
  // the listener goes first: new connections are refused while the old tunnels still relay
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(await reachable(port), false, 'a new connection was accepted after SIGTERM');
  // half the tunnels finish their work within the grace: every byte still arrives
  const half = tunnels.slice(0, TUNNELS / 2);
  const during = await Promise.all(half.map((s, i) => roundTrip(s, i * 13, 16 << 10)));
  assert.equal(during.filter(Boolean).length, half.length, 'tunnels relayed intact during the grace');
  for (const s of half) s.end();
  // the other half stays open: the core closes them at the grace's end, then exits 0
  // (their FIN or reset is seen only while reading: these sockets were left paused by readN)
  const rest = tunnels.slice(TUNNELS / 2).map(
    (s) =>
      new Promise<number>((r) => {
        const at = (): void => r(Date.now() - t0);
        s.once('end', at);
        s.once('close', at);
        s.resume();
      }),
  );
  const code = await cli.exited;
  const closedAt = await Promise.all(rest);
  const exitedAfter = Date.now() - t0;
  assert.equal(code, 0, `exit code ${code}; stderr: ${cli.stderr()}`);
  assert.ok(Math.min(...closedAt) >= 2500, `a lingering tunnel was closed ${Math.min(...closedAt)} ms after SIGTERM, before the grace`);
  assert.ok(exitedAfter < 6000, `exited ${exitedAfter} ms after SIGTERM`);
  for (const s of tunnels) s.destroy();
});

test('SIGTERM with nothing live exits 0 at once', async () => {
  const port = await freePort();
  const cli = await startCli(config(port), 1, ['-d', tempHome('term0')]);
  await cli.waitForLine(/Initial configuration complete/);
  const t0 = Date.now();
  cli.proc.kill('SIGTERM');
  assert.equal(await cli.exited, 0);
  assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
});

test('SIGHUP reloads the config file; a broken file is logged and the running config stays', async () => {
  const port = await freePort();
  const port2 = await freePort();
  const cli = await startCli(config(port), 1, ['-d', tempHome('hup')]);
  try {
    // a live tunnel across the reload keeps working (its generation retires when it ends)
    const live = await socks5Connect(port, '127.0.0.1', echo.port);
    assert.ok(await roundTrip(live, 0, 1000));

    writeFileSync(cli.configFile, config(port, [`socks-port: ${port2}`]));
    cli.proc.kill('SIGHUP');
    await cli.waitForLine(/reloaded/, 10_000);
    assert.equal(await reachable(port2), true, 'the socks-port added by the file is served after SIGHUP');
    assert.ok(await roundTrip(live, 5, 1000), 'the tunnel across the reload');

    writeFileSync(cli.configFile, 'mixed-port: [not a port\n');
    cli.proc.kill('SIGHUP');
    const line = await cli.waitForLine(/reload of .* failed/, 10_000);
    assert.match(line, /level=error/);
    assert.equal(cli.proc.exitCode, null, 'still running');
    assert.equal(await reachable(port), true);
    assert.equal(await reachable(port2), true, 'the running config stayed');
    live.destroy();
  } finally {
    assert.equal(await cli.stop(), 0);
  }
});

test('two SIGHUPs in a row with an unchanged file: still serving, never killed', async () => {
  const port = await freePort();
  const cli = await startCli(config(port), 1, ['-d', tempHome('hup2')]);
  await cli.waitForLine(/Initial configuration complete/);
  cli.proc.kill('SIGHUP');
  cli.proc.kill('SIGHUP');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(cli.proc.exitCode, null);
  assert.equal(cli.proc.signalCode, null);
  const s = await socks5Connect(port, '127.0.0.1', echo.port);
  assert.ok(await roundTrip(s, 1, 100));
  s.destroy();
  await once(s, 'close');
  assert.equal(await cli.stop(), 0);
});
