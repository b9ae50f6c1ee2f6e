import type { Duplex } from 'node:stream';
import { ipWords } from '../../common/cidr.js';
import type { Address } from '../../core/address.js';
import { ProxyError } from '../../core/errors.js';
import type { PacketConn } from '../../core/outbound.js';
import { encodeSocksAddress } from '../common/socks-address.js';
import { decodeUdpFrame, encodeUdpFrame } from './codec/udp-frame.js';

function sameIp(a: string, b: string): boolean {
  const x = ipWords(a);
  const y = ipWords(b);
  if (!x || !y || x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/**
 * A UDP ASSOCIATE session: datagrams framed with the SOCKS5 UDP header go to the server's
 * relay address over `inner` (the dialer's own PacketConn, so chains work), and come back
 * unframed with their real source. RFC 1928: the association lives as long as the TCP
 * connection it was made on, so `control` is kept open (and read, to notice its end) for the
 * conn's life; when it ends the conn closes, and closing the conn closes it.
 * Datagrams that do not come from the relay, are malformed, or are fragments are dropped.
 */
export class Socks5PacketConn implements PacketConn {
  readonly #control: Duplex;
  readonly #inner: PacketConn;
  readonly #relay: Address;
  /** the encoding of the last destination: a session mostly talks to one peer */
  #lastTo: Address | undefined;
  #lastEncoded: Buffer | undefined;
  #onMessage: ((data: Buffer, from: Address) => void) | undefined;
  #onClose: ((err?: Error) => void) | undefined;
  #closed = false;
  #closeError: Error | undefined;
  #notified = false;

  /** `name` is the proxy's, for the close error; `relay` is where the server relays UDP
   * (BND.ADDR, or the server's IP when unspecified); `checkRelayHost` is false when the relay
   * host is a name the datagrams' source IP cannot be compared with. */
  constructor(name: string, control: Duplex, inner: PacketConn, relay: Address, checkRelayHost: boolean) {
    this.#control = control;
    this.#inner = inner;
    this.#relay = relay;
    inner.onMessage((data, from) => {
      if (from.port !== relay.port) return;
      if (checkRelayHost && from.host !== relay.host && !sameIp(from.host, relay.host)) return;
      const frame = decodeUdpFrame(data);
      if (frame) this.#onMessage?.(data.subarray(frame.payloadOffset), frame.from);
    });
    inner.onClose((err) => this.#shutdown(err));
    const ended = (): void => this.#shutdown(new ProxyError('DIAL_FAILED', `proxy "${name}": UDP association ended by the server`));
    control.on('data', discard);
    control.once('end', ended);
    control.once('close', ended);
    control.on('error', (err: Error) => this.#shutdown(err));
    if (control.destroyed) ended();
  }

  send(data: Buffer, to: Address): void {
    if (this.#closed) return;
    let addr = this.#lastEncoded;
    if (addr === undefined || this.#lastTo === undefined || this.#lastTo.port !== to.port || this.#lastTo.host !== to.host) {
      try {
        addr = encodeSocksAddress(to);
      } catch {
        return; // a domain SOCKS5 cannot carry: the datagram is lost, as datagrams may be
      }
      this.#lastTo = to;
      this.#lastEncoded = addr;
    }
    this.#inner.send(encodeUdpFrame(addr, data), this.#relay);
  }

  onMessage(handler: (data: Buffer, from: Address) => void): void {
    this.#onMessage = handler;
  }

  onClose(handler: (err?: Error) => void): void {
    this.#onClose = handler;
    if (this.#closed) this.#notify();
  }

  close(): void {
    this.#shutdown(undefined);
  }

  #shutdown(err: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeError = err;
    this.#control.destroy();
    this.#inner.close();
    this.#notify();
  }

  #notify(): void {
    const handler = this.#onClose;
    if (!handler || this.#notified) return;
    this.#notified = true;
    handler(this.#closeError);
  }
}

/** Control-connection bytes after the reply mean nothing; reading them shows its end. */
function discard(): void {}
