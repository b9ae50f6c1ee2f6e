import { z } from 'zod';

// The transport keys of a `proxies:` mapping, spelled as mihomo spells them. Every protocol that
// runs over tls/ws/h2/grpc/http spreads `transportShape` into its own schema; only build.ts reads
// the parsed values. mihomo decodes YAML weakly (numbers where strings are expected, "true"
// strings), so these schemas accept the same.

const TRUE_WORDS = new Set(['true', 'yes', 'on', 'y', '1']);
const FALSE_WORDS = new Set(['false', 'no', 'off', 'n', '0', '']);

/** A boolean; also the YAML 1.1 words and "true"/"false" strings. */
const bool = z.preprocess((v) => {
  if (typeof v === 'number') return v !== 0;
  if (typeof v !== 'string') return v;
  const w = v.trim().toLowerCase();
  return TRUE_WORDS.has(w) ? true : FALSE_WORDS.has(w) ? false : v;
}, z.boolean());

/** A string; a YAML number or boolean is taken as its text. */
const text = z.preprocess((v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v), z.string());

/** A list of strings; one string alone is taken as a list of one (mihomo's weak decoding). */
const textList = z.preprocess((v) => (typeof v === 'string' || typeof v === 'number' ? [v] : v), z.array(text));

/** A non-negative integer; a numeric string is accepted. */
const count = z.preprocess(
  (v) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v),
  z.number().int().min(0),
);

/** `ws-opts`: WebSocket (or, with `v2ray-http-upgrade`, a bare HTTP Upgrade). */
export const wsOptsSchema = z.looseObject({
  path: text.optional(),
  headers: z.record(z.string(), text).optional(),
  'max-early-data': count.optional(),
  'early-data-header-name': text.optional(),
  'v2ray-http-upgrade': bool.optional(),
  'v2ray-http-upgrade-fast-open': bool.optional(),
});

/** `h2-opts`: v2ray's "http" transport (HTTP/2 over TLS). */
export const h2OptsSchema = z.looseObject({
  host: textList.optional(),
  path: text.optional(),
});

/** `grpc-opts`: the "gun" tunnel over HTTP/2. */
export const grpcOptsSchema = z.looseObject({
  'grpc-service-name': text.optional(),
  'grpc-user-agent': text.optional(),
});

/** `http-opts`: HTTP/1.1 request-head obfuscation. */
export const httpOptsSchema = z.looseObject({
  method: text.optional(),
  path: textList.optional(),
  headers: z.record(z.string(), textList).optional(),
});

/** `reality-opts`: parsed only to refuse it clearly. */
export const realityOptsSchema = z.looseObject({
  'public-key': text.optional(),
  'short-id': text.optional(),
});

/** `ech-opts`: parsed only to refuse it clearly. */
export const echOptsSchema = z.looseObject({
  enable: bool.optional(),
  config: text.optional(),
});

/** A duration in seconds (a number, fractions allowed) or with a unit: `500ms`, `3s`, `1m`; → ms. */
const durationMs = z.preprocess((v) => {
  if (typeof v === 'number') return v * 1000;
  if (typeof v !== 'string') return v;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/i.exec(v);
  if (!m) return v;
  const unit = (m[2] ?? 's').toLowerCase();
  return Number(m[1]) * (unit === 'ms' ? 1 : unit === 'm' ? 60_000 : 1000);
}, z.number().min(0));

/**
 * `warm-pool` (a clash-ts extension): pre-handshaken TLS connections for this proxy, overriding
 * the global `warm-pool:` key by key. `true`/`false` alone is shorthand for `{ enable }`.
 */
export const warmPoolOptsSchema = z.union([
  bool.transform((enable) => ({ enable })),
  z.looseObject({ enable: bool.optional(), min: count.optional(), max: count.optional(), 'max-idle': durationMs.optional() }),
]);

/** The parsed per-proxy `warm-pool`. */
export type WarmPoolOpts = z.output<typeof warmPoolOptsSchema>;

/**
 * The transport keys of a proxies mapping, as a zod shape protocols spread into their schemas:
 * `z.looseObject({ ...transportShape, uuid: … })`. All optional; combinations are checked by
 * `buildTransport`.
 */
export const transportShape = {
  network: text.optional(),
  tls: bool.optional(),
  /** vmess/vless spell the SNI `servername` */
  servername: text.optional(),
  /** trojan (and http/socks5) spell it `sni` */
  sni: text.optional(),
  alpn: textList.optional(),
  'skip-cert-verify': bool.optional(),
  fingerprint: text.optional(),
  'client-fingerprint': text.optional(),
  'ws-opts': wsOptsSchema.optional(),
  'h2-opts': h2OptsSchema.optional(),
  'grpc-opts': grpcOptsSchema.optional(),
  'http-opts': httpOptsSchema.optional(),
  'reality-opts': realityOptsSchema.optional(),
  'ech-opts': echOptsSchema.optional(),
  'warm-pool': warmPoolOptsSchema.optional(),
};

const transportObject = z.looseObject(transportShape);

/** The validated transport keys of one proxy (what `buildTransport` reads). */
export type TransportConfig = z.output<typeof transportObject>;

/** The parsed `ws-opts`. */
export type WsOpts = z.output<typeof wsOptsSchema>;
/** The parsed `h2-opts`. */
export type H2Opts = z.output<typeof h2OptsSchema>;
/** The parsed `grpc-opts`. */
export type GrpcOpts = z.output<typeof grpcOptsSchema>;
/** The parsed `http-opts`. */
export type HttpOpts = z.output<typeof httpOptsSchema>;
