import type { Duplex } from 'node:stream';
import type { Address } from '../../core/address.js';
import { ProxyError } from '../../core/errors.js';
import { readMessage } from '../common/read-message.js';
import {
  encodeGreeting,
  encodeRequest,
  encodeUserPass,
  parseAuthStatus,
  parseMethodChoice,
  parseReply,
  replyText,
  SOCKS5,
} from './codec/handshake.js';

/** RFC 1929 credentials. */
export interface Socks5Auth {
  readonly username: string;
  readonly password: string;
}

/**
 * Runs a SOCKS5 client handshake on `s`: method negotiation, username/password when the
 * server asks for it, then `cmd` for `to`. Resolves with BND.ADDR:BND.PORT of a success
 * reply. Each step waits for the server's answer before the next write: pipelining them
 * would save round trips, but common servers (microsocks among them) read one message per
 * receive and drop the rest. Errors: AUTH (credentials missing, refused, or no acceptable
 * method), DIAL_FAILED (the server's non-zero reply code, in RFC 1928's words), PROTOCOL.
 */
export async function socks5Handshake(s: Duplex, cmd: number, to: Address, auth: Socks5Auth | undefined, signal: AbortSignal): Promise<Address> {
  // encode first: an address SOCKS5 cannot carry fails before anything is sent
  const request = encodeRequest(cmd, to);
  const credentials = auth ? encodeUserPass(auth.username, auth.password) : undefined;
  s.write(encodeGreeting(credentials !== undefined));
  const method = await readMessage(s, parseMethodChoice, signal, 'the SOCKS5 method choice');
  if (method === SOCKS5.METHOD_USERPASS) {
    if (!credentials) throw new ProxyError('AUTH', 'SOCKS5 server requires a username and password');
    s.write(credentials);
    const status = await readMessage(s, parseAuthStatus, signal, 'the SOCKS5 authentication status');
    if (status !== 0) throw new ProxyError('AUTH', 'SOCKS5 server rejected the username/password');
  } else if (method === SOCKS5.METHOD_REFUSED) {
    throw new ProxyError('AUTH', credentials ? 'SOCKS5 server refused username/password authentication' : 'SOCKS5 server requires authentication');
  } else if (method !== SOCKS5.METHOD_NONE) {
    throw new ProxyError('PROTOCOL', `SOCKS5 server chose method ${method}, which was not offered`);
  }
  s.write(request);
  const reply = await readMessage(s, parseReply, signal, 'the SOCKS5 reply');
  if (reply.rep !== 0) throw new ProxyError('DIAL_FAILED', `SOCKS5 server replied: ${replyText(reply.rep)}`);
  return reply.bound;
}
