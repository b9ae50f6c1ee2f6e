import { formatAddress, type Address } from '../../core/address.js';
import { ProxyError } from '../../core/errors.js';
import type { Outbound, PacketConn } from '../../core/outbound.js';
import type { Metadata } from '../../core/metadata.js';
import type { ProxyDefinition } from '../registry.js';
import { rejectSchema, type RejectOptions } from './options.js';

/** mihomo's DefaultDropTime: 12 × its 5 s TCP timeout. */
export const DEFAULT_DROP_MS = 60_000;

function rejected(name: string, meta: Metadata): ProxyError {
  return new ProxyError('REJECTED', `${formatAddress(meta.destination)} rejected by ${name}`);
}

/** REJECT: every TCP and UDP dial fails at once with REJECTED (the inbound answers with its
 * protocol's refusal). */
export function createReject(name = 'REJECT'): Outbound {
  return {
    name,
    type: 'Reject',
    udp: true,
    dialTcp: (meta) => Promise.reject(rejected(name, meta)),
    dialUdp: (meta) => Promise.reject(rejected(name, meta)),
    close: async () => undefined,
  };
}

/**
 * REJECT-DROP: a TCP dial hangs for `holdMs` before failing with REJECTED, so scanners and
 * trackers waste their time instead of retrying at once; the client going away (the signal)
 * ends the wait early with ABORTED. UDP "connects" but every datagram vanishes.
 */
export function createRejectDrop(name = 'REJECT-DROP', holdMs = DEFAULT_DROP_MS): Outbound {
  return {
    name,
    type: 'RejectDrop',
    udp: true,
    dialTcp: (meta, { signal }) =>
      new Promise((_, reject) => {
        const aborted = () => new ProxyError('ABORTED', `${formatAddress(meta.destination)}: dial aborted`, { cause: signal.reason });
        if (signal.aborted) return reject(aborted());
        const onAbort = () => {
          clearTimeout(timer);
          reject(aborted());
        };
        // unref: a held connection alone must not keep the process alive at shutdown
        const timer = setTimeout(() => {
          signal.removeEventListener('abort', onAbort);
          reject(rejected(name, meta));
        }, holdMs).unref();
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    dialUdp: async () => new DropPacketConn(),
    close: async () => undefined,
  };
}

/** A PacketConn that swallows every datagram and never receives one. */
class DropPacketConn implements PacketConn {
  #closed = false;
  #notified = false;
  #onClose: ((err?: Error) => void) | undefined;

  send(_data: Buffer, _to: Address): void {}

  onMessage(): void {}

  onClose(handler: (err?: Error) => void): void {
    this.#onClose = handler;
    if (this.#closed) this.#notify();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#notify();
  }

  #notify(): void {
    if (!this.#onClose || this.#notified) return;
    this.#notified = true; // the close is reported once, to whichever handler is set first
    this.#onClose();
  }
}

/** `type: reject` proxies: a REJECT under another name (mihomo's RejectOption has only a name). */
export const rejectDefinition: ProxyDefinition<RejectOptions> = {
  type: 'reject',
  schema: rejectSchema,
  create: (o) => createReject(o.name),
};
