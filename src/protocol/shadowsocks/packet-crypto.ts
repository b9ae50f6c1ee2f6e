import type { Address } from '../../core/address.js';
import { ProxyError } from '../../core/errors.js';
import { AeadKey } from './codec/aead.js';
import { newUdpSession, openPacket2022, sealPacket2022, type UdpSession } from './codec/packet-2022.js';
import { PacketCodec, type Packet } from './codec/packet.js';
import type { MethodSpec } from './codec/methods.js';
import { SlidingWindow } from './codec/replay.js';
import { sessionSubkey2022 } from './codec/kdf.js';

/** How a client UDP association seals datagrams for the server and opens its replies. */
export interface PacketCrypto {
  seal(to: Address, payload: Buffer): Buffer;
  /** throws a ProxyError for anything that is not a genuine, fresh reply */
  open(packet: Buffer): Packet;
}

/** Pre-2022 methods: stateless, one salt per datagram. */
export function legacyPacketCrypto(spec: MethodSpec, key: Buffer): PacketCrypto {
  const codec = new PacketCodec(spec, key);
  return { seal: (to, payload) => codec.encode(to, payload), open: (p) => codec.decode(p) };
}

/** A server session seen by a client: its AEAD (AES variants) and replay window. */
interface ServerSession {
  readonly id: string;
  readonly key: AeadKey | undefined;
  readonly window: SlidingWindow;
  lastSeen: number;
}

/**
 * SIP022 client side of one UDP association: our session id and packet counter, and the
 * server sessions answering it. As SIP022 §3.2.4 allows, a client tracks the current server
 * session and one older one; a third within a minute of the last is refused.
 */
export class Client2022PacketCrypto implements PacketCrypto {
  readonly #spec: MethodSpec;
  readonly #psks: readonly Buffer[];
  readonly #session: UdpSession;
  #current: ServerSession | undefined;
  #previous: ServerSession | undefined;

  constructor(spec: MethodSpec, psks: readonly Buffer[]) {
    this.#spec = spec;
    this.#psks = psks;
    this.#session = newUdpSession(spec, psks[psks.length - 1]);
  }

  seal(to: Address, payload: Buffer): Buffer {
    return sealPacket2022(this.#spec, this.#psks, this.#session, to, payload);
  }

  open(packet: Buffer): Packet {
    const upsk = this.#psks[this.#psks.length - 1];
    let found: ServerSession | undefined;
    const p = openPacket2022(this.#spec, { psk: upsk }, packet, true, (id, psk) => {
      found = this.#lookup(id.toString('hex'));
      return found?.key ?? new AeadKey(this.#spec.aead!, sessionSubkey2022(psk, id));
    });
    const id = p.sessionId.toString('hex');
    found ??= this.#lookup(id);
    if (!p.clientSessionId!.equals(this.#session.id)) throw new ProxyError('PROTOCOL', 'reply for another session');
    const now = Date.now();
    let s = found;
    if (s === undefined) {
      if (this.#current && now - this.#current.lastSeen < 60_000 && this.#previous && now - this.#previous.lastSeen < 60_000) {
        throw new ProxyError('PROTOCOL', 'server session changed more than once within a minute');
      }
      const key = this.#spec.aead === 'chacha20-poly1305' ? undefined : new AeadKey(this.#spec.aead!, sessionSubkey2022(upsk, p.sessionId));
      s = { id, key, window: new SlidingWindow(), lastSeen: now };
      this.#previous = this.#current;
      this.#current = s;
    }
    if (!s.window.check(p.packetId)) throw new ProxyError('PROTOCOL', 'replayed packet id');
    s.window.add(p.packetId);
    s.lastSeen = now;
    return p;
  }

  #lookup(id: string): ServerSession | undefined {
    if (this.#current?.id === id) return this.#current;
    if (this.#previous?.id === id) return this.#previous;
    return undefined;
  }
}
