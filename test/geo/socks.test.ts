import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger, type LogEntry } from '../../src/common/log.js';
import { Host } from '../../src/host/host.js';
import { freePort } from '../support/ports.js';
import { tcpEcho, type Local } from '../support/servers.js';
import { socks5Connect } from '../support/socks-client.js';
import { encodeGeoSite, metaSpec, writeMmdb } from './support/geo-files.js';

/** One round trip through the proxy: the echo answers exactly what was sent. */
async function echoes(proxyPort: number, host: string, port: number): Promise<boolean> {
  const sock = await socks5Connect(proxyPort, host, port);
  try {
    const data = Buffer.from(`hello ${host}`);
    sock.write(data);
    const chunks: Buffer[] = [];
    let got = 0;
    sock.on('data', (c: Buffer) => {
      chunks.push(c);
      got += c.length;
      if (got >= data.length) sock.end();
    });
    await once(sock, 'end');
    return Buffer.concat(chunks).equals(data);
  } finally {
    sock.destroy();
  }
}

async function refused(proxyPort: number, host: string, port: number): Promise<number | undefined> {
  try {
    (await socks5Connect(proxyPort, host, port)).destroy();
    return undefined;
  } catch (err) {
    return (err as { rep?: number }).rep;
  }
}

describe('GEOIP / GEOSITE through the SOCKS inbound', () => {
  const home = mkdtempSync(join(tmpdir(), 'clash-ts-geo-socks-'));
  let host: Host;
  let echo1: Local;
  let echo2: Local;
  let port: number;
  const logs: LogEntry[] = [];

  before(async () => {
    // 127.0.0.2 is "zz" in this tiny database; everything else has no code
    writeMmdb(join(home, 'geoip.metadb'), metaSpec([['127.0.0.2/32', 'zz'], ['1.0.0.0/24', 'au']]));
    writeFileSync(join(home, 'GeoSite.dat'), encodeGeoSite({ blocked: [{ type: 2, value: 'blocked.test' }] }));
    echo1 = await tcpEcho('127.0.0.1');
    echo2 = await tcpEcho('127.0.0.2');
    port = await freePort();
    const log = createLogger('info', () => {});
    log.subscribe((e) => logs.push(e));
    host = await Host.start(
      `mixed-port: ${port}\nmode: rule\nrules:\n  - GEOSITE,blocked,REJECT\n  - GEOIP,ZZ,REJECT\n  - GEOIP,LAN,DIRECT\n  - MATCH,REJECT\n`,
      { homeDir: home, log },
    );
  });
  after(async () => {
    await host?.close(0);
    await echo1?.close();
    await echo2?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('GEOIP,LAN lets 127.0.0.1 through DIRECT; GEOIP,ZZ rejects 127.0.0.2', async () => {
    assert.ok(await echoes(port, '127.0.0.1', echo1.port));
    assert.equal(await refused(port, '127.0.0.2', echo2.port), 2);
  });

  it('GEOSITE rejects a category domain before anything resolves it', async () => {
    assert.equal(await refused(port, 'www.blocked.test', echo1.port), 2);
    assert.equal(await refused(port, 'blocked.test', echo1.port), 2);
  });

  it('the log names the rules as mihomo does', async () => {
    const lines = logs.map((e) => e.message);
    assert.ok(lines.some((l) => /--> 127\.0\.0\.1:\d+ match GeoIP\(lan\) using DIRECT/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /--> 127\.0\.0\.2:\d+ match GeoIP\(zz\) using REJECT/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /--> www\.blocked\.test:\d+ match GeoSite\(blocked\) using REJECT/.test(l)), lines.join('\n'));
  });
});
