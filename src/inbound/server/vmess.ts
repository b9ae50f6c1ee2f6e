import type { Duplex } from 'node:stream';
import type { Address } from '../../core/address.js';
import { ProxyError } from '../../core/errors.js';
import { SaltFilter } from '../../protocol/shadowsocks/codec/replay.js';
import { openAeadHeader } from '../../protocol/vmess/codec/header.js';
import { COMMAND, decodeRequest, type RequestHeader } from '../../protocol/vmess/codec/request.js';
import { sealResponseHeader, responseKeys } from '../../protocol/vmess/codec/response.js';
import { framingFor } from '../../protocol/vmess/codec/session.js';
import { userIdBytes, userKeys, type VmessUserKeys } from '../../protocol/vmess/codec/user.js';
import type { ServerContext } from './context.js';
import { readRequest } from './read-request.js';
import { VmessServerStream } from './vmess-stream.js';

/** How far a client's clock (the auth ID's timestamp) may be from ours, as v2ray allows. */
export const MAX_CLOCK_SKEW_S = 120;
// auth ID (16) + sealed length (18) + nonce (8) + the longest header (2^16) + tag
const MAX_HEAD = 42 + 0xffff + 16;

/** A decoded VMess request and who sent it. */
export interface VmessRequest {
  readonly user: string;
  readonly header: RequestHeader;
}

/**
 * A VMess listener's users and its replay memory: an auth ID seen within the validity window
 * (± {@link MAX_CLOCK_SKEW_S}) is refused, so a captured request cannot be replayed.
 */
export class VmessUserTable {
  readonly #users: readonly { readonly name: string; readonly keys: VmessUserKeys }[];
  // remembered for at least twice the skew: an auth ID is valid for 2 × 120 s of our clock
  readonly #seen = new SaltFilter({ ttlMs: 2 * MAX_CLOCK_SKEW_S * 1000 });
  readonly #now: () => number;

  constructor(users: readonly { readonly name: string; readonly secret: string }[], now: () => number = Date.now) {
    this.#users = users.map((u) => ({ name: u.name, keys: userKeys(userIdBytes(u.secret)) }));
    this.#now = now;
  }

  /**
   * Parses the sealed request at the start of `buf`: undefined while more bytes are needed;
   * AUTH error for an unknown user, a timestamp outside the skew window or a replayed auth ID;
   * PROTOCOL error for a header that does not authenticate or decode.
   */
  parse(buf: Buffer): { value: VmessRequest; length: number } | undefined {
    if (buf.length < 16) return undefined;
    for (const u of this.#users) {
      const r = openAeadHeader(u.keys, buf);
      if (r === 'mismatch') continue;
      if (r === undefined) return undefined;
      const skew = Math.abs(this.#now() / 1000 - r.unixSeconds);
      if (skew > MAX_CLOCK_SKEW_S) throw new ProxyError('AUTH', `VMess clock skew of ${Math.round(skew)} s`);
      if (!this.#seen.add(r.authId)) throw new ProxyError('AUTH', 'replayed VMess auth ID');
      return { value: { user: u.name, header: decodeRequest(r.header) }, length: r.length };
    }
    throw new ProxyError('AUTH', 'no VMess user matches the auth ID');
  }
}

function swallow(): void {}

/** Serves one VMess (AEAD, alterId 0) client stream: TCP relay through the tunnel. */
export function serveVmess(ctx: ServerContext, table: VmessUserTable, stream: Duplex, source: Address | undefined): void {
  stream.on('error', swallow);
  ctx.track(stream);
  readRequest(stream, (b) => table.parse(b), MAX_HEAD).then(
    ({ value }) => {
      ctx.release(stream);
      if (stream.destroyed) return;
      const h = value.header;
      if (h.command !== COMMAND.TCP || h.destination === undefined) {
        return ctx.refuse(stream, source, `VMess ${h.command === COMMAND.UDP ? 'UDP' : 'Mux'} not supported yet`);
      }
      const resp = responseKeys(h.bodyKey, h.bodyIv);
      const head = sealResponseHeader(resp, { responseAuth: h.responseAuth, option: 0, command: 0, commandData: Buffer.alloc(0) });
      const conn = new VmessServerStream(
        stream,
        framingFor(h.option, h.security, h.bodyKey, h.bodyIv, h.bodyKey, h.bodyIv),
        framingFor(h.option, h.security, resp.key, resp.iv, h.bodyKey, h.bodyIv),
        head,
      );
      conn.on('error', swallow);
      conn.pause();
      const meta = ctx.meta('tcp', source, h.destination, value.user);
      ctx.handTcp(conn, meta, () => {
        conn.flushHeader();
        stream.resume();
      });
    },
    (err: Error) => ctx.refuse(stream, source, err.message),
  );
}
