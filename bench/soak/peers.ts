/**
 * The real servers a soak runs against, all on loopback: Debian's ss-server, microsocks,
 * tinyproxy, trojan (trojan-gfw) and nginx, v2ray 4.34 for VMess and VLESS, and the runner's
 * own TCP and UDP echo servers (the far end of every hashed exchange).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeCert, type BenchCert } from '../lib/target.js';
import { SECRET, startMicrosocks, startTinyproxy, startV2rayServer, type PeerEnv } from '../lib/peers.js';
import { spawnPeer, type BenchProc } from '../lib/proc.js';
import { freePort } from '../../test/support/ports.js';
import { startNginx, type Nginx } from '../../test/support/nginx.js';
import { tcpEcho, udpEcho, type Local } from '../../test/support/servers.js';

/** The Shadowsocks cipher of the ss row (ss-server speaks it too). */
export const SS_CIPHER = 'chacha20-ietf-poly1305';

/** Every started server and its port. */
export interface SoakPeers {
  readonly cert: BenchCert;
  readonly echo: Local;
  readonly udpEcho: Local;
  readonly nginx: Nginx;
  /** name of the bulk file nginx serves, and its bytes (for the hash check) */
  readonly bulkFile: string;
  readonly ports: { readonly ss: number; readonly socks5: number; readonly http: number; readonly vmess: number; readonly vless: number; readonly trojan: number };
  /** name → PID, for the report */
  readonly pids: Record<string, number>;
  close(): Promise<void>;
  /** SIGKILL every started process now, by PID (the runner's exit path) */
  killNow(): void;
}

/** ss-server with UDP relay on (-u) and a 10-minute idle timeout (-t 600: tunnels pause up to 6 s). */
async function startSs(env: PeerEnv): Promise<{ port: number; proc: BenchProc }> {
  const port = await freePort();
  const proc = await spawnPeer({
    live: env.live,
    name: 'ss-server',
    command: 'ss-server',
    args: ['-s', '127.0.0.1', '-p', String(port), '-k', SECRET, '-m', SS_CIPHER, '-u', '-t', '600', '--no-delay'],
    readyPort: port,
    logFile: join(env.dir, 'ss-server.log'),
  });
  return { port, proc };
}

/** trojan-gfw as a server (TLS with the run's certificate); non-trojan bytes go to `fallbackPort`. */
async function startTrojanServer(env: PeerEnv, fallbackPort: number): Promise<{ port: number; proc: BenchProc }> {
  const port = await freePort();
  const cfg = join(env.dir, 'trojan-server.json');
  writeFileSync(
    cfg,
    JSON.stringify({
      run_type: 'server',
      local_addr: '127.0.0.1',
      local_port: port,
      remote_addr: '127.0.0.1',
      remote_port: fallbackPort,
      password: [SECRET],
      log_level: 3,
      ssl: { cert: env.cert.certFile, key: env.cert.keyFile, alpn: ['http/1.1'], reuse_session: true, session_ticket: false },
      tcp: { no_delay: true, keep_alive: true, fast_open: false },
    }),
  );
  const proc = await spawnPeer({ live: env.live, name: 'trojan-server', command: 'trojan', args: ['-c', cfg], readyPort: port, logFile: join(env.dir, 'trojan.log') });
  return { port, proc };
}

/** Starts every server (bounded: each start waits at most 15 s); on failure stops what started. */
export async function startSoakPeers(dir: string, bulkBytes: number): Promise<SoakPeers> {
  mkdirSync(dir, { recursive: true });
  const cert = makeCert(dir);
  const env: PeerEnv = { dir, cert, live: new Set() };
  const locals: { close(): Promise<void> }[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all([...env.live].map((p) => p.stop()));
    await Promise.all(locals.map((l) => l.close()));
  };
  try {
    const echo = await tcpEcho();
    locals.push(echo);
    const uecho = await udpEcho();
    locals.push(uecho);
    const bulkFile = 'bulk.bin';
    const nginx = await startNginx({ [bulkFile]: bulkBytes });
    locals.push({ close: () => nginx.stop() });
    const [ss, socks5, http, vmess, vless] = await Promise.all([
      startSs(env),
      startMicrosocks(env, undefined),
      startTinyproxy(env, undefined),
      // v2ray's default policy (connIdle 300 s): a tunnel pauses up to 6 s between exchanges
      startV2rayServer(env, 'vmess', {}, undefined),
      startV2rayServer(env, 'vless', { tls: true }, undefined),
    ]);
    // trojan's fallback: nginx (answers whatever is not trojan, as a real deployment would)
    const trojan = await startTrojanServer(env, nginx.port);
    const pids: Record<string, number> = { nginx: nginx.pid };
    for (const p of env.live) pids[p.name] = p.pid;
    return {
      cert,
      echo,
      udpEcho: uecho,
      nginx,
      bulkFile,
      ports: { ss: ss.port, socks5: socks5.port, http: http.port, vmess: vmess.port, vless: vless.port, trojan: trojan.port },
      pids,
      close: stopAll,
      killNow: () => {
        for (const p of env.live) if (!p.exited()) p.proc.kill('SIGKILL');
        if (nginx.pid > 0) {
          try {
            process.kill(nginx.pid, 'SIGKILL');
          } catch {
            // gone
          }
        }
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
