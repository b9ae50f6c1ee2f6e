import type { Duplex } from 'node:stream';
import type { Address } from '../../core/address.js';
import { ProxyError } from '../../core/errors.js';
import { readSocksAddress } from '../../protocol/common/socks-address.js';
import { TROJAN_CMD, trojanPasswordKey } from '../../protocol/trojan/codec/header.js';
import { encodeTrojanPacket, TrojanPacketDecoder } from '../../protocol/trojan/codec/packet.js';
import type { ServerContext } from './context.js';
import { readRequest, type RequestParser } from './read-request.js';
import { serveUdpStream } from './udp-stream.js';

/** A decoded Trojan request. */
export interface TrojanRequest {
  readonly user: string;
  readonly command: number;
  readonly destination: Address;
}

const KEY = 56;
// KEY CRLF CMD ATYP(1) LEN(1) NAME(255) PORT(2) CRLF
const MAX_HEAD = KEY + 2 + 1 + 1 + 1 + 255 + 2 + 2;

/** User table: the 56-character hex SHA-224 of each password → user name. */
export function trojanUsers(users: readonly { readonly name: string; readonly secret: string }[]): Map<string, string> {
  return new Map(users.map((u) => [trojanPasswordKey(u.secret).toString('latin1'), u.name]));
}

/** The parser of KEY CRLF CMD ATYP ADDR PORT CRLF; a wrong key fails once its 56 bytes are in. */
export function trojanRequestParser(users: ReadonlyMap<string, string>): RequestParser<TrojanRequest> {
  return (buf) => {
    if (buf.length < KEY) return undefined;
    const user = users.get(buf.toString('latin1', 0, KEY));
    if (user === undefined) throw new ProxyError('AUTH', 'unknown Trojan password');
    if (buf.length < KEY + 3) return undefined;
    if (buf[KEY] !== 0x0d || buf[KEY + 1] !== 0x0a) throw new ProxyError('PROTOCOL', 'Trojan key without CRLF');
    const command = buf[KEY + 2];
    if (command !== TROJAN_CMD.CONNECT && command !== TROJAN_CMD.UDP_ASSOCIATE) throw new ProxyError('PROTOCOL', `Trojan command ${command}`);
    const a = readSocksAddress(buf, KEY + 3);
    if (a === undefined) return undefined;
    const end = KEY + 3 + a.length;
    if (buf.length < end + 2) return undefined;
    if (buf[end] !== 0x0d || buf[end + 1] !== 0x0a) throw new ProxyError('PROTOCOL', 'Trojan request without CRLF');
    return { value: { user, command, destination: a.value }, length: end + 2 };
  };
}

function swallow(): void {}

/** Serves one Trojan client stream: request, then TCP relay through the tunnel or UDP frames. */
export function serveTrojan(ctx: ServerContext, parse: RequestParser<TrojanRequest>, stream: Duplex, source: Address | undefined): void {
  stream.on('error', swallow);
  ctx.track(stream);
  readRequest(stream, parse, MAX_HEAD).then(
    ({ value }) => {
      ctx.release(stream);
      if (stream.destroyed) return;
      if (value.command === TROJAN_CMD.UDP_ASSOCIATE) {
        const decoder = new TrojanPacketDecoder();
        serveUdpStream(ctx, stream, source, value.user, {
          decode: (chunk) => decoder.push(chunk).map((p) => ({ data: p.data, to: p.from })),
          encode: (data, from) => encodeTrojanPacket(from, data),
        });
        return;
      }
      const meta = ctx.meta('tcp', source, value.destination, value.user);
      ctx.handTcp(stream, meta);
    },
    (err: Error) => ctx.refuse(stream, source, err.message),
  );
}
