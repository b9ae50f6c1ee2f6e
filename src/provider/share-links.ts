/**
 * Share links (`ss://`, `vmess://`, `vless://`, `trojan://`) turned into mihomo proxy mappings,
 * as subscriptions serve them: one per line, the whole list often base64-encoded. Each mapping
 * is then validated like a `proxies` entry; a link that cannot be read is skipped with a warning
 * naming its line, a link of a type not built yet with one naming the type. Never throws.
 */

/** A proxy mapping as a `proxies:` entry would have it. */
export type ProxyMapping = Record<string, unknown>;

/** What reading a list of links gave. */
export interface LinkResult {
  readonly proxies: ProxyMapping[];
  readonly warnings: string[];
}

/** The link types built into mappings here. */
export const LINK_TYPES: readonly string[] = ['ss', 'vmess', 'vless', 'trojan'];

// Bounds for hostile input: real subscriptions have hundreds of links of a few hundred bytes.
const MAX_LINES = 10_000;
const MAX_LINK = 16 * 1024;
const MAX_WARNINGS = 50;

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** Decodes standard or URL-safe base64, padded or not; undefined when `s` is not base64. */
export function decodeBase64(s: string): string | undefined {
  const t = s.replace(/\s+/g, '');
  if (t === '' || !BASE64.test(t) || t.replace(/=+$/, '').length % 4 === 1) return undefined;
  return Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
}

/**
 * The text of a links payload: base64 of the list when it decodes to links, else as it is.
 */
export function linksText(text: string): string {
  const decoded = decodeBase64(text);
  return decoded !== undefined && decoded.includes('://') ? decoded : text;
}

/** Reads a list of share links (plain or base64). */
export function parseShareLinks(text: string): LinkResult {
  const proxies: ProxyMapping[] = [];
  const warnings: string[] = [];
  const warn = (m: string): void => {
    if (warnings.length < MAX_WARNINGS) warnings.push(m);
    else if (warnings.length === MAX_WARNINGS) warnings.push('… more share-link warnings left out');
  };
  const lines = linksText(text).split(/\r?\n/);
  if (lines.length > MAX_LINES) warn(`${lines.length} lines: only the first ${MAX_LINES} are read`);
  lines.slice(0, MAX_LINES).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const at = `line ${i + 1}`;
    if (line.length > MAX_LINK) return warn(`${at}: share link longer than ${MAX_LINK} characters, skipped`);
    const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(line);
    if (!m) return warn(`${at}: not a share link, skipped`);
    const scheme = m[1].toLowerCase();
    if (!LINK_TYPES.includes(scheme)) return warn(`${at}: ${scheme}:// share links are not supported yet, skipped`);
    try {
      proxies.push(parseLink(scheme, line));
    } catch (err) {
      warn(`${at}: bad ${scheme}:// link: ${(err as Error)?.message ?? String(err)}, skipped`);
    }
  });
  return { proxies, warnings };
}

/** One link → a mapping; throws with the reason. */
export function parseLink(scheme: string, line: string): ProxyMapping {
  switch (scheme) {
    case 'ss':
      return parseSs(line);
    case 'vmess':
      return parseVmess(line);
    case 'vless':
      return parseVless(line);
    case 'trojan':
      return parseTrojan(line);
    default:
      throw new Error(`${scheme} links are not supported`);
  }
}

function urlOf(line: string): URL {
  let u: URL;
  try {
    u = new URL(line);
  } catch {
    throw new Error('not a URL');
  }
  return u;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function hostOf(u: URL): string {
  const h = u.hostname;
  if (h === '') throw new Error('no server');
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

function portOf(text: string | number | undefined): number {
  const n = typeof text === 'number' ? text : Number(String(text ?? '').trim());
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`bad port ${JSON.stringify(text ?? '')}`);
  return n;
}

function nameOf(fragment: string, type: string, server: string, port: number): string {
  const n = decode(fragment.replace(/^#/, '')).trim();
  return n !== '' ? n : `${type} ${server}:${port}`;
}

/** `k=v;k2;k3=v3` (SIP003 plugin options) → entries. */
function pluginOptions(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(';').slice(1)) {
    const eq = part.indexOf('=');
    if (part === '') continue;
    out.set(eq < 0 ? part : part.slice(0, eq), eq < 0 ? 'true' : part.slice(eq + 1));
  }
  return out;
}

/** SIP002 `ss://userinfo@host:port/?plugin=…#name`, and the older `ss://base64(method:pass@host:port)#name`. */
function parseSs(line: string): ProxyMapping {
  const hash = line.indexOf('#');
  const fragment = hash < 0 ? '' : line.slice(hash + 1);
  let body = hash < 0 ? line : line.slice(0, hash);
  if (!body.slice(5).includes('@')) {
    // the whole authority is base64 (legacy form)
    const q = body.indexOf('?');
    const decoded = decodeBase64(body.slice(5, q < 0 ? undefined : q).replace(/\/$/, ''));
    if (decoded === undefined || !decoded.includes('@')) throw new Error('neither SIP002 nor base64 method:password@host:port');
    body = `ss://${encodeUserinfo(decoded.slice(0, decoded.lastIndexOf('@')))}@${decoded.slice(decoded.lastIndexOf('@') + 1)}${q < 0 ? '' : body.slice(q)}`;
  }
  const u = urlOf(body);
  const server = hostOf(u);
  const port = portOf(u.port);
  const user = decode(u.username);
  const pass = decode(u.password);
  let method: string;
  let password: string;
  if (u.password !== '') {
    // plain `method:password` (SIP002 allows it for 2022 ciphers)
    method = user;
    password = pass;
  } else {
    const decoded = decodeBase64(user);
    const colon = decoded?.indexOf(':') ?? -1;
    if (decoded === undefined || colon <= 0) throw new Error('userinfo is not base64 of method:password');
    method = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  if (method === '') throw new Error('no cipher');
  const out: ProxyMapping = { name: nameOf(fragment, 'ss', server, port), type: 'ss', server, port, cipher: method.toLowerCase(), password, udp: true };
  const plugin = u.searchParams.get('plugin');
  if (plugin !== null && plugin !== '') {
    const kind = plugin.split(';')[0];
    const opts = pluginOptions(plugin);
    if (kind === 'obfs-local' || kind === 'simple-obfs' || kind === 'obfs') {
      out.plugin = 'obfs';
      out['plugin-opts'] = { mode: opts.get('obfs') ?? 'http', ...(opts.has('obfs-host') && { host: opts.get('obfs-host') }) };
    } else if (kind === 'v2ray-plugin') {
      out.plugin = 'v2ray-plugin';
      out['plugin-opts'] = {
        mode: opts.get('mode') ?? 'websocket',
        ...(opts.has('host') && { host: opts.get('host') }),
        ...(opts.has('path') && { path: opts.get('path') }),
        ...(opts.has('tls') && { tls: true }),
        ...(opts.has('mux') && { mux: opts.get('mux') !== 'false' && opts.get('mux') !== '0' }),
      };
    } else {
      // left for the proxy schema to accept or refuse, by name
      out.plugin = kind;
    }
  }
  return out;
}

function encodeUserinfo(methodPass: string): string {
  return Buffer.from(methodPass, 'utf8').toString('base64url');
}

function split(v: unknown): string[] {
  return String(v ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}

/** The transport keys (network and its opts) from the fields v2rayN-style links share. */
function transportOf(out: ProxyMapping, network: string, host: string, path: string, service: string): void {
  const net = network === '' ? 'tcp' : network;
  out.network = net;
  if (net === 'ws' || net === 'httpupgrade') {
    out['ws-opts'] = { path: path === '' ? '/' : path, ...(host !== '' && { headers: { Host: host } }), ...(net === 'httpupgrade' && { 'v2ray-http-upgrade': true }) };
    if (net === 'httpupgrade') out.network = 'ws';
  } else if (net === 'grpc') {
    out['grpc-opts'] = { 'grpc-service-name': service !== '' ? service : path };
  } else if (net === 'h2') {
    out['h2-opts'] = { ...(host !== '' && { host: split(host) }), path: path === '' ? '/' : path };
  } else if (net === 'http') {
    out['http-opts'] = { path: [path === '' ? '/' : path], ...(host !== '' && { headers: { Host: split(host) } }) };
  }
}

/** v2rayN's `vmess://base64(JSON)`; Xray's `vmess://uuid@host:port?…` goes the vless way. */
function parseVmess(line: string): ProxyMapping {
  const body = line.slice('vmess://'.length);
  const json = decodeBase64(body.split('#')[0]);
  if (json === undefined) {
    const out = parseVShare(line, 'vmess');
    const cipher = urlOf(line).searchParams.get('encryption');
    return { ...out, alterId: 0, cipher: cipher !== null && cipher !== '' ? cipher : 'auto' };
  }
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    throw new Error('base64 body is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('base64 body is not a JSON object');
  const j = v as Record<string, unknown>;
  const server = str(j.add).trim();
  if (server === '') throw new Error('no server (add)');
  const port = portOf(str(j.port));
  const uuid = str(j.id).trim();
  if (uuid === '') throw new Error('no uuid (id)');
  const out: ProxyMapping = {
    name: str(j.ps).trim() !== '' ? str(j.ps).trim() : `vmess ${server}:${port}`,
    type: 'vmess',
    server,
    port,
    uuid,
    alterId: Number(str(j.aid)) || 0,
    cipher: str(j.scy) !== '' ? str(j.scy) : 'auto',
    udp: true,
  };
  let network = str(j.net).toLowerCase();
  // v2rayN: net tcp + type http is HTTP obfuscation; net http is h2
  if (str(j.type) === 'http') network = 'http';
  else if (network === 'http') network = 'h2';
  transportOf(out, network, str(j.host), str(j.path), str(j.path));
  if (str(j.tls).toLowerCase().endsWith('tls')) {
    out.tls = true;
    const sni = str(j.sni) !== '' ? str(j.sni) : str(j.host);
    if (sni !== '') out.servername = sni;
    if (str(j.alpn) !== '') out.alpn = split(j.alpn);
    if (str(j.fp) !== '') out['client-fingerprint'] = str(j.fp);
  }
  return out;
}

/** The fields vless:// and URL-form vmess:// share. */
function parseVShare(line: string, type: string): ProxyMapping {
  const u = urlOf(line);
  const server = hostOf(u);
  const port = portOf(u.port);
  const uuid = decode(u.username);
  if (uuid === '') throw new Error('no uuid');
  const q = u.searchParams;
  const out: ProxyMapping = { name: nameOf(u.hash, type, server, port), type, server, port, uuid, udp: true };
  const security = (q.get('security') ?? '').toLowerCase();
  if (security === 'tls' || security === 'reality') {
    out.tls = true;
    const sni = q.get('sni') ?? q.get('peer') ?? '';
    if (sni !== '') out.servername = sni;
    if ((q.get('alpn') ?? '') !== '') out.alpn = split(q.get('alpn'));
    if ((q.get('fp') ?? '') !== '') out['client-fingerprint'] = q.get('fp');
    if (q.get('allowInsecure') === '1' || q.get('allowInsecure') === 'true') out['skip-cert-verify'] = true;
    if (security === 'reality') out['reality-opts'] = { 'public-key': q.get('pbk') ?? '', ...((q.get('sid') ?? '') !== '' && { 'short-id': q.get('sid') }) };
  }
  let network = (q.get('type') ?? 'tcp').toLowerCase();
  if (network === 'tcp' && q.get('headerType') === 'http') network = 'http';
  transportOf(out, network, q.get('host') ?? '', q.get('path') ?? '', q.get('serviceName') ?? '');
  return out;
}

function parseVless(line: string): ProxyMapping {
  const out = parseVShare(line, 'vless');
  const flow = urlOf(line).searchParams.get('flow');
  if (flow !== null && flow !== '') out.flow = flow.toLowerCase();
  return out;
}

function parseTrojan(line: string): ProxyMapping {
  const u = urlOf(line);
  const server = hostOf(u);
  const port = portOf(u.port === '' ? 443 : u.port);
  const password = decode(u.username);
  if (password === '') throw new Error('no password');
  const q = u.searchParams;
  const out: ProxyMapping = { name: nameOf(u.hash, 'trojan', server, port), type: 'trojan', server, port, password, udp: true };
  const sni = q.get('sni') ?? q.get('peer') ?? '';
  if (sni !== '') out.sni = sni;
  if (q.get('allowInsecure') === '1' || q.get('allowInsecure') === 'true') out['skip-cert-verify'] = true;
  if ((q.get('alpn') ?? '') !== '') out.alpn = split(q.get('alpn'));
  if ((q.get('fp') ?? '') !== '') out['client-fingerprint'] = q.get('fp');
  const network = (q.get('type') ?? '').toLowerCase();
  if (network !== '' && network !== 'tcp') transportOf(out, network, q.get('host') ?? '', q.get('path') ?? '', q.get('serviceName') ?? '');
  return out;
}
