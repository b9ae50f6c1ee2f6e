/**
 * The warm-pool bench's end-to-end check: the built CLI (dist/main.js) in the client namespace
 * with a trojan proxy to trojan-gfw in the server namespace, the C load generator through its
 * SOCKS port fetching 1 KiB from nginx behind trojan, one new connection per request at a fixed
 * rate; the pool off, then on (same run, same link).
 */
import { runLoad, type LoadResult } from './loadgen.js';
import { startClashIn, startNginxIn, type NsPlace } from './netns-peers.js';
import { SECRET, type PeerEnv } from './peers.js';

/** One contender's outcome. */
export interface E2eResult {
  readonly pool: boolean;
  readonly rate: number;
  readonly load: LoadResult;
}

/** Runs pool off then on against the trojan server at `trojan` (from the client namespace). */
export async function runE2e(
  env: PeerEnv,
  lg: string,
  client: string,
  server: NsPlace,
  trojanPort: number,
  poolMax: number,
  rate: number,
  seconds: number,
): Promise<E2eResult[]> {
  const nginx = await startNginxIn(env, { ns: server.ns, host: '127.0.0.1' });
  const at: NsPlace = { ns: client, host: '127.0.0.1' };
  const proxy = `{ name: bench, type: trojan, server: ${server.host}, port: ${trojanPort}, password: ${SECRET}, sni: localhost, skip-cert-verify: true, udp: false }`;
  const out: E2eResult[] = [];
  try {
    for (const pool of [false, true]) {
      const clash = await startClashIn(env, at, proxy, [`warm-pool: { enable: ${pool}, max: ${poolMax} }`]);
      try {
        const spec = { via: { kind: 'socks5' as const, port: clash.port }, targetPort: nginx.port, path: '/small.bin', conns: 256, netns: client };
        // warm-up: lets the pool learn the rate (its result is dropped)
        await runLoad(lg, { ...spec, requests: rate * 4, seconds: 4, rate }, undefined);
        const load = await runLoad(lg, { ...spec, requests: rate * seconds, seconds, rate }, undefined);
        out.push({ pool, rate, load });
      } finally {
        await clash.proc.stop();
      }
    }
  } finally {
    await nginx.proc.stop();
  }
  return out;
}
