import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import type { Address } from '../core/address.js';
import type { Inbound } from '../core/inbound.js';
import { dial, FakeHandler, Reader, startTestInbound, waitFor } from './fakes.test.js';
import { encodeSocksAddress } from '../protocol/common/socks-address.js';
import { decodeUdpHeader, encodeUdpHeader } from './socks-codec.js';

function bindUdp(type: 'udp4' | 'udp6', host: string): Promise<UdpSocket> {
  const s = createSocket(type);
  return new Promise((resolve) => s.bind(0, host, () => resolve(s)));
}

/** Waits for the next datagram, or fails after `ms`. */
function nextMessage(s: UdpSocket, ms = 2000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no datagram')), ms);
    s.once('message', (m) => {
      clearTimeout(t);
      resolve(m);
    });
  });
}

/** UDP ASSOCIATE over a fresh control connection; returns the relay address from the reply. */
async function associate(inbound: Inbound): Promise<{ relay: Address; control: Reader }> {
  // over IPv4 even on a dual-stack listener, so the relay address is checked for unmapping
  const s = await dial({ host: '127.0.0.1', port: inbound.address().port });
  const r = new Reader(s);
  s.write(Buffer.from([5, 1, 0]));
  await r.read(2);
  s.write(Buffer.concat([Buffer.from([5, 3, 0]), encodeSocksAddress({ host: '0.0.0.0', port: 0 })]));
  const rep = await r.read(4);
  assert.equal(rep[1], 0);
  const body = await r.read(rep[3] === 1 ? 6 : 18);
  const h = decodeUdpHeader(Buffer.concat([Buffer.from([0, 0, 0]), rep.subarray(3), body]))!;
  return { relay: h.address, control: r };
}

describe('SOCKS5 UDP relay', () => {
  let echo: UdpSocket;
  let echoAddr: Address;
  before(async () => {
    echo = await bindUdp('udp4', '127.0.0.1');
    echo.on('message', (m, rinfo) => echo.send(m, rinfo.port, rinfo.address));
    echoAddr = { host: '127.0.0.1', port: echo.address().port };
  });
  after(() => echo.close());

  for (const listen of ['127.0.0.1', '::']) {
    it(`relays through a local UDP echo server (listen ${listen})`, async () => {
      const h = new FakeHandler();
      const inbound = await startTestInbound(h, { udp: true, listen });
      const client = await bindUdp('udp4', '127.0.0.1');
      try {
        const { relay, control } = await associate(inbound);
        assert.equal(relay.port, inbound.address().port, 'same port number as TCP');
        assert.equal(relay.host, '127.0.0.1', 'the address the client reached');
        const got = nextMessage(client);
        client.send(Buffer.concat([encodeUdpHeader(echoAddr), Buffer.from('ping')]), relay.port, relay.host);
        const back = await got;
        const hdr = decodeUdpHeader(back)!;
        assert.deepEqual(hdr.address, echoAddr);
        assert.equal(back.subarray(hdr.payloadOffset).toString(), 'ping');
        const m = h.udp[0];
        assert.equal(m.network, 'udp');
        assert.equal(m.inbound.type, 'SOCKS5');
        assert.deepEqual(m.source, { host: '127.0.0.1', port: client.address().port });
        assert.deepEqual(m.destination, echoAddr);
        control.socket.destroy();
      } finally {
        client.close();
        h.close();
        await inbound.close();
      }
    });
  }

  it('drops fragments and malformed datagrams, keeps serving', async () => {
    const h = new FakeHandler();
    const inbound = await startTestInbound(h, { udp: true });
    const client = await bindUdp('udp4', '127.0.0.1');
    try {
      const port = inbound.address().port;
      const frag = Buffer.concat([encodeUdpHeader(echoAddr), Buffer.from('frag')]);
      frag[2] = 1;
      client.send(frag, port, '127.0.0.1');
      client.send(Buffer.from([0, 0]), port, '127.0.0.1');
      client.send(Buffer.from([0, 0, 0, 9, 1]), port, '127.0.0.1');
      const got = nextMessage(client);
      client.send(Buffer.concat([encodeUdpHeader(echoAddr), Buffer.from('whole')]), port, '127.0.0.1');
      const back = await got;
      assert.equal(back.subarray(decodeUdpHeader(back)!.payloadOffset).toString(), 'whole');
      assert.equal(h.udp.length, 1, 'only the whole datagram reached the handler');
    } finally {
      client.close();
      h.close();
      await inbound.close();
    }
  });

  it('close() releases the UDP port and the held control connection', async () => {
    const h = new FakeHandler();
    const inbound = await startTestInbound(h, { udp: true });
    const { relay, control } = await associate(inbound);
    await inbound.close();
    await control.closed(1000);
    const again = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.bind(relay.port, '127.0.0.1', () => resolve());
    });
    again.close();
  });

  it('refuses to start when the UDP port is taken, and frees the TCP port', async () => {
    const h = new FakeHandler();
    const first = await startTestInbound(h, { udp: true });
    const port = first.address().port;
    await first.close();
    const squatter = await new Promise<UdpSocket>((resolve) => {
      const s = createSocket('udp4');
      s.bind(port, '127.0.0.1', () => resolve(s));
    });
    try {
      await assert.rejects(startTestInbound(h, { udp: true, port }), /EADDRINUSE/);
      const tcpOnly = await startTestInbound(h, { port });
      await tcpOnly.close();
    } finally {
      squatter.close();
    }
  });

  it('a control connection closed by the client is released', async () => {
    const h = new FakeHandler();
    const inbound = await startTestInbound(h, { udp: true });
    try {
      const { control } = await associate(inbound);
      control.socket.end();
      await control.closed(1000);
      await waitFor(() => control.socket.destroyed);
    } finally {
      await inbound.close();
    }
  });
});
