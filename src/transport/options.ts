import { z } from 'zod';
import { boolLike, countLike, durationMsLike, textLike, textListLike } from '../config/values.js';

// The transport keys of a `proxies:` mapping, spelled as mihomo spells them. Every protocol that
// runs over tls/ws/h2/grpc/http spreads `transportShape` into its own schema; only build.ts reads
// the parsed values. Values are read with the one set of lenient schemas (config/values.ts).

/** `ws-opts`: WebSocket (or, with `v2ray-http-upgrade`, a bare HTTP Upgrade). */
export const wsOptsSchema = z.looseObject({
  path: textLike.optional(),
  headers: z.record(z.string(), textLike).optional(),
  'max-early-data': countLike.optional(),
  'early-data-header-name': textLike.optional(),
  'v2ray-http-upgrade': boolLike.optional(),
  'v2ray-http-upgrade-fast-open': boolLike.optional(),
});

/** `h2-opts`: v2ray's "http" transport (HTTP/2 over TLS). */
export const h2OptsSchema = z.looseObject({
  host: textListLike.optional(),
  path: textLike.optional(),
});

/** `grpc-opts`: the "gun" tunnel over HTTP/2. */
export const grpcOptsSchema = z.looseObject({
  'grpc-service-name': textLike.optional(),
  'grpc-user-agent': textLike.optional(),
});

/** `http-opts`: HTTP/1.1 request-head obfuscation. */
export const httpOptsSchema = z.looseObject({
  method: textLike.optional(),
  path: textListLike.optional(),
  headers: z.record(z.string(), textListLike).optional(),
});

/** `reality-opts`: parsed only to refuse it clearly. */
export const realityOptsSchema = z.looseObject({
  'public-key': textLike.optional(),
  'short-id': textLike.optional(),
});

/** `ech-opts`: parsed only to refuse it clearly. */
export const echOptsSchema = z.looseObject({
  enable: boolLike.optional(),
  config: textLike.optional(),
});

/**
 * `warm-pool` (a clash-ts extension): pre-handshaken TLS connections for this proxy, overriding
 * the global `warm-pool:` key by key. `true`/`false` alone is shorthand for `{ enable }`.
 */
export const warmPoolOptsSchema = z.union([
  boolLike.transform((enable) => ({ enable })),
  z.looseObject({ enable: boolLike.optional(), min: countLike.optional(), max: countLike.optional(), 'max-idle': durationMsLike.optional() }),
]);

/** The parsed per-proxy `warm-pool`. */
export type WarmPoolOpts = z.output<typeof warmPoolOptsSchema>;

/**
 * The transport keys of a proxies mapping, as a zod shape protocols spread into their schemas:
 * `z.looseObject({ ...transportShape, uuid: … })`. All optional; combinations are checked by
 * `buildTransport`.
 */
export const transportShape = {
  network: textLike.optional(),
  tls: boolLike.optional(),
  /** vmess/vless spell the SNI `servername` */
  servername: textLike.optional(),
  /** trojan (and http/socks5) spell it `sni` */
  sni: textLike.optional(),
  alpn: textListLike.optional(),
  'skip-cert-verify': boolLike.optional(),
  fingerprint: textLike.optional(),
  'client-fingerprint': textLike.optional(),
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
