import type { Duplex } from 'node:stream';
import type { Address } from '../../core/address.js';
import { ProxyError } from '../../core/errors.js';
import { decodePortAddress } from '../../protocol/common/port-address.js';
import { VLESS_CMD, VLESS_VERSION } from '../../protocol/vless/codec/header.js';
import { encodeLengthFrames, LengthFrameDecoder } from '../../protocol/vless/codec/packet.js';
import { uuidBytes } from '../../protocol/vless/codec/uuid.js';
import type { ServerContext } from './context.js';
import { readRequest, type RequestParser } from './read-request.js';
import { serveUdpStream } from './udp-stream.js';

/** A decoded VLESS request header. */
export interface VlessRequest {
  readonly user: string;
  readonly command: number;
  readonly destination: Address;
}

// VERSION(1) UUID(16) ADDONS_LEN(1) + up to 255 addon bytes + CMD + longest address
const MAX_HEAD = 18 + 255 + 1 + 2 + 1 + 1 + 255;
const RESPONSE = Buffer.from([VLESS_VERSION, 0]);

/** User table: hex of the 16 id bytes → user name. */
export function vlessUsers(users: readonly { readonly name: string; readonly secret: string }[]): Map<string, string> {
  return new Map(users.map((u) => [uuidBytes(u.secret).toString('hex'), u.name]));
}

/**
 * The parser of VERSION UUID ADDONS_LEN ADDONS CMD PORT ATYP ADDR. An unknown user or version
 * fails as soon as those bytes are in (AUTH / PROTOCOL); Mux (command 3) is refused.
 */
export function vlessRequestParser(users: ReadonlyMap<string, string>): RequestParser<VlessRequest> {
  return (buf) => {
    if (buf.length < 1) return undefined;
    if (buf[0] !== VLESS_VERSION) throw new ProxyError('PROTOCOL', `VLESS version ${buf[0]}`);
    if (buf.length < 17) return undefined;
    const user = users.get(buf.toString('hex', 1, 17));
    if (user === undefined) throw new ProxyError('AUTH', 'unknown VLESS user');
    if (buf.length < 18) return undefined;
    const at = 18 + buf[17];
    if (buf.length < at + 1) return undefined;
    const command = buf[at];
    if (command !== VLESS_CMD.TCP && command !== VLESS_CMD.UDP) throw new ProxyError('PROTOCOL', `VLESS command ${command} not supported`);
    const a = decodePortAddress(buf, at + 1);
    if (a === undefined) return undefined;
    return { value: { user, command, destination: a.value }, length: at + 1 + a.length };
  };
}

function swallow(): void {}

/** Serves one VLESS client stream: header, then TCP relay through the tunnel or UDP frames. */
export function serveVless(ctx: ServerContext, parse: RequestParser<VlessRequest>, stream: Duplex, source: Address | undefined): void {
  stream.on('error', swallow);
  ctx.track(stream);
  readRequest(stream, parse, MAX_HEAD).then(
    ({ value }) => {
      ctx.release(stream);
      if (stream.destroyed) return;
      if (value.command === VLESS_CMD.UDP) {
        stream.write(RESPONSE);
        const decoder = new LengthFrameDecoder();
        const to = value.destination;
        serveUdpStream(ctx, stream, source, value.user, {
          decode: (chunk) => decoder.push(chunk).map((data) => ({ data, to })),
          encode: (data) => encodeLengthFrames(data),
        });
        return;
      }
      const meta = ctx.meta('tcp', source, value.destination, value.user);
      ctx.handTcp(stream, meta, () => stream.write(RESPONSE));
    },
    (err: Error) => ctx.refuse(stream, source, err.message),
  );
}
