/**
 * The clash-ts config of a soak: one named mixed listener per protocol row, routed by IN-NAME to
 * that row's proxy; a select group `sel` (switched every minute) behind its own listener; our
 * own VLESS server listener (TLS) as the far end of the `vless-self` row; the controller.
 */
import { SECRET, UUID } from '../lib/peers.js';
import { freePort } from '../../test/support/ports.js';
import { SS_CIPHER, type SoakPeers } from './peers.js';

/** One protocol row: the listener the load generator speaks to and the proxy behind it. */
export interface Row {
  /** the proxy's name (and the row's label) */
  readonly name: string;
  /** the mixed listener of this row */
  readonly port: number;
  /** whether its proxy goes through the TLS warm pool */
  readonly warm: boolean;
}

/** What the runner needs to drive a started config. */
export interface SoakConfig {
  readonly rows: readonly Row[];
  /** DEFAULT-MIXED: DIRECT, the UDP flows and the bulk downloads */
  readonly mixedPort: number;
  readonly controllerPort: number;
  readonly secret: string;
  /** select-group name and its members, in switching order */
  readonly group: { readonly name: string; readonly members: readonly string[]; readonly port: number };
  /** every TCP port clash-ts listens on (all must accept before the load starts) */
  readonly listenPorts: readonly number[];
  /** the YAML text; `generation` changes a comment, so each reload is a new text */
  yaml(generation: number): string;
}

/** Picks the ports and returns the config for these peers. */
export async function soakConfig(peers: SoakPeers, workers: number): Promise<SoakConfig> {
  const names = ['direct', 'http', 'socks5', 'ss', 'vmess', 'vless', 'trojan', 'vless-self'] as const;
  const rowPorts: number[] = [];
  for (let i = 0; i < names.length; i++) rowPorts.push(await freePort());
  const mixedPort = await freePort();
  const controllerPort = await freePort();
  const selPort = await freePort();
  const vlessInPort = await freePort();
  const secret = 'soak-controller-secret';
  const warmRows = new Set(['vless', 'trojan', 'vless-self']);
  const rows: Row[] = names.map((name, i) => ({ name, port: rowPorts[i], warm: warmRows.has(name) }));
  const p = peers.ports;
  const proxies = [
    `  - { name: http, type: http, server: 127.0.0.1, port: ${p.http} }`,
    `  - { name: socks5, type: socks5, server: 127.0.0.1, port: ${p.socks5} }`,
    `  - { name: ss, type: ss, server: 127.0.0.1, port: ${p.ss}, cipher: ${SS_CIPHER}, password: ${SECRET}, udp: true }`,
    `  - { name: vmess, type: vmess, server: 127.0.0.1, port: ${p.vmess}, uuid: ${UUID}, alterId: 0, cipher: auto }`,
    `  - { name: vless, type: vless, server: 127.0.0.1, port: ${p.vless}, uuid: ${UUID}, tls: true, servername: localhost, skip-cert-verify: true }`,
    `  - { name: trojan, type: trojan, server: 127.0.0.1, port: ${p.trojan}, password: ${SECRET}, sni: localhost, skip-cert-verify: true }`,
    `  - { name: vless-self, type: vless, server: 127.0.0.1, port: ${vlessInPort}, uuid: ${UUID}, tls: true, servername: localhost, skip-cert-verify: true }`,
  ];
  const group = { name: 'sel', members: ['ss', 'vmess', 'trojan', 'DIRECT'], port: selPort };
  const listeners = [
    ...rows.map((r) => `  - { name: row-${r.name}, type: mixed, listen: 127.0.0.1, port: ${r.port}, udp: ${r.name === 'ss'} }`),
    `  - { name: row-sel, type: mixed, listen: 127.0.0.1, port: ${selPort}, udp: false }`,
    `  - name: vless-in\n    type: vless\n    listen: 127.0.0.1\n    port: ${vlessInPort}\n    users: [{ username: soak, uuid: ${UUID} }]\n    certificate: ${peers.cert.certFile}\n    private-key: ${peers.cert.keyFile}`,
  ];
  const rules = [
    ...rows.filter((r) => r.name !== 'direct').map((r) => `  - IN-NAME,row-${r.name},${r.name}`),
    '  - IN-NAME,row-sel,sel',
    '  - MATCH,DIRECT',
  ];
  return {
    rows,
    mixedPort,
    controllerPort,
    secret,
    group,
    listenPorts: [mixedPort, controllerPort, selPort, vlessInPort, ...rowPorts],
    yaml: (generation) =>
      [
        `# soak config, generation ${generation}`,
        `mixed-port: ${mixedPort}`,
        'allow-lan: false',
        'bind-address: 127.0.0.1',
        'log-level: warning',
        'mode: rule',
        'ipv6: false',
        `workers: ${workers}`,
        `external-controller: 127.0.0.1:${controllerPort}`,
        `secret: ${secret}`,
        // min 2 per pool so Trojan/VLESS always find warm connections under a steady load
        'warm-pool: { enable: true, min: 2, max: 8, max-idle: 3 }',
        'proxies:',
        ...proxies,
        'proxy-groups:',
        `  - { name: ${group.name}, type: select, proxies: [${group.members.join(', ')}] }`,
        'listeners:',
        ...listeners,
        'rules:',
        ...rules,
        '',
      ].join('\n'),
  };
}
