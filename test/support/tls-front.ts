import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { testCerts } from './certs.js';

/** A TLS terminator on 127.0.0.1 in front of a plain TCP server. */
export interface TlsFront {
  readonly port: number;
  /** the SNI each accepted connection sent (false when none), in order */
  readonly serverNames: (string | false)[];
  close(): Promise<void>;
}

/**
 * Terminates TLS with the test certificate and relays each connection to 127.0.0.1:`upstream`
 * byte for byte, half-close included: for testing a proxy client's TLS option against a real
 * proxy server that has no TLS of its own (tinyproxy, microsocks). Either leg closing
 * destroys the other.
 */
export async function startTlsFront(upstream: number): Promise<TlsFront> {
  const certs = testCerts();
  const live = new Set<net.Socket>();
  const serverNames: (string | false)[] = [];
  // a client that gives up mid-handshake leaves a half-open socket the TLS server never hands
  // us (allowHalfOpen): a short handshake bound, and close() destroys every raw connection
  const server = tls.createServer({ key: certs.keyPem, cert: certs.certPem, allowHalfOpen: true, handshakeTimeout: 2000 }, (down) => {
    serverNames.push(down.servername ?? false);
    const up = net.connect({ port: upstream, host: '127.0.0.1', allowHalfOpen: true });
    live.add(down);
    live.add(up);
    const drop = (): void => {
      down.destroy();
      up.destroy();
      live.delete(down);
      live.delete(up);
    };
    down.on('error', drop);
    up.on('error', drop);
    down.on('close', drop);
    up.on('close', drop);
    down.pipe(up);
    up.pipe(down);
  });
  server.on('tlsClientError', () => undefined);
  server.on('connection', (raw: net.Socket) => {
    live.add(raw);
    raw.on('error', () => undefined);
    raw.once('close', () => live.delete(raw));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    serverNames,
    async close() {
      for (const s of live) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
