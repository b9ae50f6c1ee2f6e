import { once } from 'node:events';
import net from 'node:net';

/**
 * A small HTTP CONNECT proxy on loopback for group tests: it answers each CONNECT after
 * `delayMs` (so URL tests through it measure that delay), counts the tunnels it carried, and
 * can be stopped and started again on the same port (a proxy that dies and comes back).
 */
export interface ConnectProxy {
  readonly port: number;
  /** tunnels opened through it */
  readonly count: number;
  /** the tunnels open right now, and the most at once */
  readonly open: number;
  readonly peak: number;
  delayMs: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** Starts one on a free port (or `port`). */
export async function startConnectProxy(delayMs = 0, port = 0): Promise<ConnectProxy> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let boundPort = port;
  const state = { count: 0, open: 0, peak: 0, delayMs };
  const handle = (client: net.Socket): void => {
    sockets.add(client);
    state.open++;
    state.peak = Math.max(state.peak, state.open);
    client.on('close', () => {
      sockets.delete(client);
      state.open--;
    });
    client.on('error', () => {});
    let head = Buffer.alloc(0);
    const onData = (b: Buffer): void => {
      head = Buffer.concat([head, b]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      client.off('data', onData);
      client.pause();
      const m = /^CONNECT ([^\s]+):(\d+) /.exec(head.toString('latin1'));
      const rest = head.subarray(end + 4);
      if (!m) return void client.destroy();
      const host = m[1].replace(/^\[|\]$/g, '');
      setTimeout(() => {
        const up = net.connect({ host, port: Number(m[2]) });
        up.on('error', () => client.destroy());
        client.on('close', () => up.destroy());
        up.on('close', () => client.destroy());
        up.once('connect', () => {
          state.count++;
          client.write('HTTP/1.1 200 Connection established\r\n\r\n');
          if (rest.length > 0) up.write(rest);
          client.pipe(up);
          up.pipe(client);
          client.resume();
        });
      }, state.delayMs);
    };
    client.on('data', onData);
  };
  const p: ConnectProxy = {
    get port() {
      return boundPort;
    },
    get count() {
      return state.count;
    },
    get open() {
      return state.open;
    },
    get peak() {
      return state.peak;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(v: number) {
      state.delayMs = v;
    },
    async stop() {
      const s = server;
      server = undefined;
      for (const c of sockets) c.destroy();
      if (s) await new Promise((r) => s.close(r));
    },
    async start() {
      if (server) return;
      const s = net.createServer(handle);
      s.listen(boundPort, '127.0.0.1');
      await once(s, 'listening');
      boundPort = (s.address() as net.AddressInfo).port;
      server = s;
    },
  };
  await p.start();
  return p;
}
