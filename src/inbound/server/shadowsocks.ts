import type { Duplex } from 'node:stream';
import type { Address } from '../../core/address.js';
import { SaltFilter } from '../../protocol/shadowsocks/codec/replay.js';
import { uotVersionOf } from '../../protocol/shadowsocks/codec/uot.js';
import { serverKeys, type ServerKeys } from '../../protocol/shadowsocks/server-keys.js';
import { serverStream } from '../../protocol/shadowsocks/server-stream.js';
import type { ServerContext } from './context.js';

function swallow(): void {}

/** The keys and salt filter one Shadowsocks listener shares across its clients. */
export interface SsListenerState {
  readonly keys: ServerKeys;
  /** salts seen recently: a replayed salt is refused (the replay protection of SIP007/SIP022) */
  readonly filter: SaltFilter;
}

/** Derives a listener's keys (CONFIG error for an unknown cipher or a bad 2022 key). */
export function ssListenerState(cipher: string, password: string): SsListenerState {
  return { keys: serverKeys(cipher, password), filter: new SaltFilter() };
}

/**
 * Serves one Shadowsocks client with the protocol's own server stream: once the destination is
 * decoded, the decrypted stream goes to the tunnel. A client whose header fails (bad key,
 * replayed salt, garbage) is not told so: we end our side and keep reading until it leaves or
 * the handshake deadline passes, as the reference servers do against active probing.
 */
export function serveShadowsocks(ctx: ServerContext, state: SsListenerState, socket: Duplex, source: Address | undefined): void {
  socket.on('error', swallow);
  ctx.track(socket);
  const conn = serverStream(socket, state.keys, state.filter, {
    onRequest(dest, user) {
      ctx.release(socket);
      conn.pause(); // hold the payload until the tunnel pipes it
      if (uotVersionOf(dest) !== undefined) {
        queueMicrotask(() => ctx.refuse(conn, source, 'UDP over TCP not supported yet'));
        return;
      }
      const meta = ctx.meta('tcp', source, dest, user);
      // the event fires inside the stream's decoding: hand over once it has returned
      queueMicrotask(() => ctx.handTcp(conn, meta));
    },
    onReject(err) {
      ctx.log.debug(`[${ctx.name}] ${source ? `${source.host}:${source.port}` : '?'} rejected: ${err.message}`);
      socket.end();
    },
  });
  conn.on('error', swallow);
}
