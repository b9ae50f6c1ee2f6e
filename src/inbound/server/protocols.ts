import type { Duplex } from 'node:stream';
import type { Address } from '../../core/address.js';
import type { InboundType } from '../../core/metadata.js';
import type { ServerContext } from './context.js';
import { serveShadowsocks, ssListenerState } from './shadowsocks.js';
import { serveTrojan, trojanRequestParser, trojanUsers } from './trojan.js';
import { serveVless, vlessRequestParser, vlessUsers } from './vless.js';
import { serveVmess, VmessUserTable } from './vmess.js';

/** What a server protocol is prepared from: the validated listener's credentials. */
export interface ServerProtocolOptions {
  /** vless / vmess: uuid; trojan: password */
  readonly users: readonly { readonly name: string; readonly secret: string }[];
  /** shadowsocks */
  readonly cipher?: string;
  readonly password?: string;
}

/** Serves one accepted stream (after TLS / ws / grpc are peeled off). */
export type ServeStream = (stream: Duplex, source: Address | undefined) => void;

/** One protocol clash-ts can serve: how mihomo titles it, what the API calls its connections,
 * and how a listener's per-stream handler is prepared (user tables, keys: once per listener). */
export interface ServerProtocol {
  readonly type: string;
  /** mihomo's "… proxy listening at" title */
  readonly title: string;
  readonly inboundType: InboundType;
  prepare(o: ServerProtocolOptions, ctx: ServerContext): ServeStream;
}

const vless: ServerProtocol = {
  type: 'vless',
  title: 'Vless',
  inboundType: 'VLESS',
  prepare(o, ctx) {
    const parse = vlessRequestParser(vlessUsers(o.users));
    return (s, src) => serveVless(ctx, parse, s, src);
  },
};

const trojan: ServerProtocol = {
  type: 'trojan',
  title: 'Trojan',
  inboundType: 'TROJAN',
  prepare(o, ctx) {
    const parse = trojanRequestParser(trojanUsers(o.users));
    return (s, src) => serveTrojan(ctx, parse, s, src);
  },
};

const vmess: ServerProtocol = {
  type: 'vmess',
  title: 'Vmess',
  inboundType: 'VMESS',
  prepare(o, ctx) {
    const table = new VmessUserTable(o.users);
    return (s, src) => serveVmess(ctx, table, s, src);
  },
};

const shadowsocks: ServerProtocol = {
  type: 'shadowsocks',
  title: 'ShadowSocks',
  inboundType: 'SHADOWSOCKS',
  prepare(o, ctx) {
    const state = ssListenerState(o.cipher ?? '', o.password ?? '');
    return (s, src) => serveShadowsocks(ctx, state, s, src);
  },
};

/** The server protocols by listener `type`. Adding one = its file in this folder and one line here. */
export const SERVER_PROTOCOLS: ReadonlyMap<string, ServerProtocol> = new Map([vless, trojan, vmess, shadowsocks].map((p) => [p.type, p]));
