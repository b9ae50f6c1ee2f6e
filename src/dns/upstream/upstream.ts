import type { Message } from '../wire.js';

/**
 * One DNS server a query can be sent to (mihomo's dnsClient): UDP, TCP, DoT, DoH, the system's
 * servers, or a fixed rcode. `exchange` resolves with the server's reply (any rcode) or rejects
 * with a ProxyError (RESOLVE_FAILED, ABORTED); it never outlives `signal`.
 */
export interface Upstream {
  /** as mihomo logs it: `udp://127.0.0.1:53`, `tls://dns.example:853`, `https://…/dns-query` */
  readonly address: string;
  exchange(query: Message, signal: AbortSignal): Promise<Message>;
  /** Drops kept connections; later exchanges open new ones. */
  close(): void;
}

/** Rejects when `signal` fires; the returned cleanup removes the listener. */
export function onAbort(signal: AbortSignal, fn: (reason: unknown) => void): () => void {
  if (signal.aborted) {
    queueMicrotask(() => fn(signal.reason));
    return () => undefined;
  }
  const h = (): void => fn(signal.reason);
  signal.addEventListener('abort', h, { once: true });
  return () => signal.removeEventListener('abort', h);
}
