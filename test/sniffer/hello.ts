import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';

/**
 * A real TLS ClientHello, as Node's OpenSSL sends it for `servername`: a TCP server on
 * loopback keeps the first bytes a `tls.connect` writes, then both sides are closed.
 */
export async function captureClientHello(servername: string | undefined, extra: tls.ConnectionOptions = {}): Promise<Buffer> {
  let got: (b: Buffer) => void = () => {};
  const first = new Promise<Buffer>((resolve) => (got = resolve));
  const server = net.createServer((s) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      const all = Buffer.concat(chunks);
      if (all.length >= 5 && all.length >= 5 + all.readUInt16BE(3)) {
        got(all);
        s.destroy();
      }
    });
    s.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const c = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false, ...extra });
  c.on('error', () => {});
  try {
    return await first;
  } finally {
    c.destroy();
    server.close();
  }
}

/** The handshake message inside a one-record ClientHello (what QUIC puts in CRYPTO frames). */
export function handshakeOf(record: Buffer): Buffer {
  return record.subarray(5, 5 + record.readUInt16BE(3));
}

/** The same handshake re-framed as several TLS records of at most `size` bytes each. */
export function reframe(record: Buffer, size: number): Buffer {
  const hs = handshakeOf(record);
  const out: Buffer[] = [];
  for (let i = 0; i < hs.length; i += size) {
    const part = hs.subarray(i, i + size);
    const head = Buffer.from([0x16, 0x03, 0x01, 0, 0]);
    head.writeUInt16BE(part.length, 3);
    out.push(head, part);
  }
  return Buffer.concat(out);
}
