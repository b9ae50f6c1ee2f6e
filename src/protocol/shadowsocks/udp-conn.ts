import type { Address } from '../../core/address.js';
import type { Logger } from '../../common/log.js';
import { errorMessage } from '../../core/errors.js';
import type { PacketConn } from '../../core/outbound.js';
import type { PacketCrypto } from './packet-crypto.js';

/**
 * A client UDP association relayed through a Shadowsocks server: each datagram is sealed for
 * the server and sent to it over `inner` (the dialer's PacketConn); replies are opened and
 * handed on with the address they came from. Datagrams that fail to open (forged, stale,
 * from elsewhere) are dropped with a debug line: UDP is lossy by contract.
 */
export class SsPacketConn implements PacketConn {
  readonly #inner: PacketConn;
  readonly #crypto: PacketCrypto;
  readonly #server: Address;
  readonly #log: Logger;
  readonly #label: string;
  #onMessage: ((data: Buffer, from: Address) => void) | undefined;

  constructor(inner: PacketConn, crypto: PacketCrypto, server: Address, log: Logger, label: string) {
    this.#inner = inner;
    this.#crypto = crypto;
    this.#server = server;
    this.#log = log;
    this.#label = label;
    inner.onMessage(this.#receive);
  }

  send(data: Buffer, to: Address): void {
    let packet: Buffer;
    try {
      packet = this.#crypto.seal(to, data);
    } catch (err) {
      this.#log.debug(`${this.#label}: UDP to ${to.host}:${to.port} dropped: ${errorMessage(err)}`);
      return;
    }
    this.#inner.send(packet, this.#server);
  }

  onMessage(handler: (data: Buffer, from: Address) => void): void {
    this.#onMessage = handler;
  }

  onClose(handler: (err?: Error) => void): void {
    this.#inner.onClose(handler);
  }

  close(): void {
    this.#inner.close();
  }

  readonly #receive = (packet: Buffer): void => {
    let p;
    try {
      p = this.#crypto.open(packet);
    } catch (err) {
      this.#log.debug(`${this.#label}: UDP reply dropped: ${errorMessage(err)}`);
      return;
    }
    this.#onMessage?.(p.payload, p.address);
  };
}
