/**
 * The IPC protocol between the cluster's primary and its workers: typed messages, each with a
 * zod schema that checks it on receipt. A message that fails its schema is dropped by the
 * receiver (and logged), never trusted and never allowed to throw.
 */
import { z } from 'zod';
import type { InboundType } from '../core/metadata.js';

const INBOUND_TYPES = ['HTTP', 'HTTPS', 'SOCKS4', 'SOCKS5', 'SHADOWSOCKS', 'VMESS', 'VLESS', 'TROJAN', 'INNER'] as const satisfies readonly InboundType[];

const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const port = z.number().int().min(0).max(65535);
const address = z.object({ host: z.string(), port });
const seq = z.number().int().min(0);

/** One live connection as a worker reports it (mihomo's /connections entry, in core terms). */
export const connectionSnapshotSchema = z.object({
  metadata: z.object({
    id: z.string().min(1),
    network: z.enum(['tcp', 'udp']),
    inbound: z.object({ type: z.enum(INBOUND_TYPES), name: z.string(), port, user: z.string().optional() }),
    source: address,
    destination: address,
    sniffHost: z.string().optional(),
  }),
  /** epoch ms */
  start: count,
  chains: z.array(z.string()),
  rule: z.string(),
  rulePayload: z.string(),
  destinationIp: z.string().optional(),
  upload: count,
  download: count,
});

/** One live connection as a worker reports it. */
export type ConnectionSnapshot = z.infer<typeof connectionSnapshotSchema>;

/** The flags a worker applies over the config file, as the primary did. */
const overridesSchema = z.object({
  extCtl: z.string().optional(),
  extUi: z.string().optional(),
  secret: z.string().optional(),
  workers: count.optional(),
});

/** Messages the primary sends to a worker. */
export const toWorkerSchema = z.discriminatedUnion('type', [
  /** the config text (validated by the primary), its CLI overrides and the current selections */
  z.object({
    type: z.literal('start'),
    yaml: z.string(),
    overrides: overridesSchema,
    selections: z.array(z.tuple([z.string(), z.string()])),
    reportMs: z.number().int().min(10).max(60_000),
    /** this worker binds the SOCKS5 UDP relays (exactly one worker does) */
    udpRelays: z.boolean(),
    /** the home dir (-d): provider copies, relative paths, selected.json */
    homeDir: z.string().optional(),
  }),
  /** switch a select group; the worker answers `ack` with the same seq */
  z.object({ type: z.literal('select'), seq, group: z.string(), member: z.string() }),
  /** clear the fixed member of a url-test / fallback group; `ack` (ok: the worker has such a group) */
  z.object({ type: z.literal('unfix'), seq, group: z.string() }),
  /** update one proxy-provider now (fetch / re-read); `ack` with ok false and the reason when it failed */
  z.object({ type: z.literal('update-provider'), seq, name: z.string() }),
  /** close one connection by id; answered with `ack` (ok: the worker had it) */
  z.object({ type: z.literal('close-connection'), seq, id: z.string() }),
  /** close every connection; answered with `ack` whose count is how many the worker closed */
  z.object({ type: z.literal('close-all'), seq }),
  /** drop the resolver's cached answers; answered with `ack` */
  z.object({ type: z.literal('flush-dns'), seq }),
  /**
   * fake-ip mappings the primary's pools handed out ([address, domain]); `replace`: these are
   * all of them (a new worker, a flush, after a reload); answered with `ack` once applied
   */
  z.object({
    type: z.literal('fake-ip'),
    seq,
    replace: z.boolean(),
    entries: z.array(z.tuple([z.string().max(64), z.string().min(1).max(253)])).max(262_144),
  }),
  /** swap in this config (validated by the primary); `ack` with ok false and the message when it failed */
  z.object({ type: z.literal('reload'), seq, yaml: z.string() }),
  /** change mode and log level live */
  z.object({
    type: z.literal('patch'),
    seq,
    mode: z.enum(['rule', 'global', 'direct']).optional(),
    logLevel: z.enum(['debug', 'info', 'warning', 'error', 'silent']).optional(),
    ipv6: z.boolean().optional(),
  }),
  /** start or stop forwarding log entries (`log` messages) */
  z.object({ type: z.literal('logs'), on: z.boolean() }),
  /** stop listening, give live connections `graceMs`, report one last time, exit 0 */
  z.object({ type: z.literal('stop'), graceMs: z.number().int().min(0).max(600_000) }),
]);

/** Messages the primary sends to a worker. */
export type ToWorker = z.infer<typeof toWorkerSchema>;

/** Messages a worker sends to the primary. */
export const toPrimarySchema = z.discriminatedUnion('type', [
  /**
   * the worker listens for messages now (a message sent before would be lost): the primary
   * answers with `start`
   */
  z.object({ type: z.literal('hello') }),
  /** every listener is bound */
  z.object({ type: z.literal('ready') }),
  /** App.start failed (a bind error…); the worker exits after sending this */
  z.object({ type: z.literal('start-failed'), message: z.string() }),
  /**
   * What changed since the last report: connections opened (full records), closed (ids),
   * byte counters of the live ones that moved, and the bytes moved since the last report.
   */
  z.object({
    type: z.literal('report'),
    opened: z.array(connectionSnapshotSchema),
    closed: z.array(z.string()),
    counters: z.array(z.tuple([z.string(), count, count])),
    upload: count,
    download: count,
  }),
  /** the answer to `select` / `close-connection` / `close-all` / `reload` / `patch` */
  z.object({ type: z.literal('ack'), seq, ok: z.boolean(), message: z.string().optional(), count: count.optional() }),
  /** one log entry, while the primary asked for them */
  z.object({ type: z.literal('log'), level: z.enum(['debug', 'info', 'warning', 'error']), message: z.string(), time: count }),
]);

/** Messages a worker sends to the primary. */
export type ToPrimary = z.infer<typeof toPrimarySchema>;

/** A report: the `report` member of ToPrimary. */
export type Report = Extract<ToPrimary, { type: 'report' }>;

/** The outcome of checking one received message. */
export type Checked<T> = { readonly ok: true; readonly message: T } | { readonly ok: false; readonly problem: string };

function check<T>(schema: z.ZodType<T>, raw: unknown): Checked<T> {
  const r = schema.safeParse(raw);
  if (r.success) return { ok: true, message: r.data };
  const first = r.error.issues[0];
  const where = first && first.path.length > 0 ? ` at ${first.path.join('.')}` : '';
  return { ok: false, problem: `${first?.message ?? 'invalid message'}${where}` };
}

/** Checks a message received by a worker. */
export function checkToWorker(raw: unknown): Checked<ToWorker> {
  return check(toWorkerSchema, raw);
}

/** Checks a message received by the primary. */
export function checkToPrimary(raw: unknown): Checked<ToPrimary> {
  return check(toPrimarySchema, raw);
}
