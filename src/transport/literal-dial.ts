import type { Socket } from 'node:net';
import { formatAddress, type Address } from '../core/address.js';
import { errorMessage, ProxyError } from '../core/errors.js';
import { openSocket } from './dual-stack.js';

/**
 * Dials an IPv4 literal `to.host` with the system dialer's error contract, without the machinery a
 * resolved name needs (no resolver round trip, no family race, no AbortController of its
 * own): the caller's signal and one timer are watched directly. Most proxied connections
 * name an IP (the bench, SOCKS clients that resolve locally), so this is the common path.
 * Rejects with DIAL_FAILED (`cause` the socket error, `.code` ECONNREFUSED…), DIAL_TIMEOUT
 * after `timeoutMs`, or ABORTED (`cause` the signal's reason). Nothing outlives a failure.
 */
export function dialLiteral(to: Address, signal: AbortSignal, timeoutMs: number): Promise<Socket> {
  if (signal.aborted) return Promise.reject(new ProxyError('ABORTED', `dial tcp ${formatAddress(to)}: aborted`, { cause: signal.reason }));
  return new Promise<Socket>((resolve, reject) => {
    new LiteralDial(openSocket(to.host, to.port), to, signal, timeoutMs, resolve, reject);
  });
}

/** One dial's listeners, bound once; whichever of connect / error / timeout / abort comes first wins. */
class LiteralDial {
  readonly #sock: Socket;
  readonly #to: Address;
  readonly #signal: AbortSignal;
  readonly #timeoutMs: number;
  readonly #timer: NodeJS.Timeout;
  readonly #resolve: (sock: Socket) => void;
  readonly #reject: (err: unknown) => void;

  constructor(
    sock: Socket,
    to: Address,
    signal: AbortSignal,
    timeoutMs: number,
    resolve: (sock: Socket) => void,
    reject: (err: unknown) => void,
  ) {
    this.#sock = sock;
    this.#to = to;
    this.#signal = signal;
    this.#timeoutMs = timeoutMs;
    this.#resolve = resolve;
    this.#reject = reject;
    sock.once('connect', this.#onConnect);
    sock.once('error', this.#onError);
    signal.addEventListener('abort', this.#onAbort, { once: true });
    this.#timer = setTimeout(this.#onTimeout, timeoutMs);
  }

  #cleanup(): void {
    clearTimeout(this.#timer);
    this.#sock.removeListener('connect', this.#onConnect);
    this.#sock.removeListener('error', this.#onError);
    this.#signal.removeEventListener('abort', this.#onAbort);
  }

  #fail(err: ProxyError): void {
    this.#cleanup();
    this.#sock.destroy();
    this.#reject(err);
  }

  #onConnect = (): void => {
    this.#cleanup();
    this.#resolve(this.#sock);
  };

  #onError = (err: Error): void => {
    this.#fail(new ProxyError('DIAL_FAILED', `dial tcp ${formatAddress(this.#to)}: ${errorMessage(err)}`, { cause: err }));
  };

  #onTimeout = (): void => {
    this.#fail(new ProxyError('DIAL_TIMEOUT', `dial tcp ${formatAddress(this.#to)}: i/o timeout after ${this.#timeoutMs}ms`));
  };

  #onAbort = (): void => {
    this.#fail(new ProxyError('ABORTED', `dial tcp ${formatAddress(this.#to)}: aborted`, { cause: this.#signal.reason }));
  };
}
