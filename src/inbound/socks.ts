import type { Socket } from 'node:net';
import { unmapIPv4, type Address } from '../core/address.js';
import type { TcpReply } from '../core/inbound.js';
import type { InboundType } from '../core/metadata.js';
import { sourceOf, type InboundContext } from './context.js';
import {
  encodeReply,
  encodeSocks4Reply,
  parseGreeting,
  parseRequest,
  parseSocks4Request,
  parseUserPass,
  SOCKS4,
  SOCKS5,
  type Parsed,
} from './socks-codec.js';
import { socks5ReplyFor } from './socks-reply.js';

/** No single handshake message is this long (SOCKS5 ≤ 513 bytes, SOCKS4a ≤ 520): more is abuse. */
const MAX_HANDSHAKE_BYTES = 1024;

type State = 'socks5-greeting' | 'socks5-auth' | 'socks5-request' | 'socks4' | 'done';

function swallow(): void {}

// Method-selection and auth answers never vary: encoded once, written as they are.
const CHOOSE_NONE = Buffer.from([SOCKS5.VERSION, SOCKS5.METHOD_NONE]);
const CHOOSE_USERPASS = Buffer.from([SOCKS5.VERSION, SOCKS5.METHOD_USERPASS]);
const NO_ACCEPTABLE_METHOD = Buffer.from([SOCKS5.VERSION, SOCKS5.METHOD_UNACCEPTABLE]);
const AUTH_OK = Buffer.from([1, 0]);
const AUTH_FAILED = Buffer.from([1, 1]);

/** 'end' listener of a held control connection: the client is done, so are we (half-open
 * sockets never close by themselves). */
function destroyOnEnd(this: Socket): void {
  this.destroy();
}

/**
 * Serves the SOCKS4/4a or SOCKS5 handshake on `socket` (whose first bytes, already read, are
 * `first`) and hands the connection to the tunnel. Bad input closes the connection.
 */
export function handleSocks(ctx: InboundContext, socket: Socket, first: Buffer): void {
  const source = sourceOf(socket);
  if (source === undefined || (first[0] !== SOCKS5.VERSION && first[0] !== SOCKS4.VERSION)) {
    socket.destroy();
    return;
  }
  new SocksSession(ctx, socket, source, first);
}

/** One connection's handshake; handlers are bound once, bytes are re-parsed as they arrive. */
class SocksSession {
  readonly #ctx: InboundContext;
  readonly #socket: Socket;
  readonly #source: Address;
  #buf: Buffer;
  #state: State;
  #user: string | undefined;

  constructor(ctx: InboundContext, socket: Socket, source: Address, first: Buffer) {
    this.#ctx = ctx;
    this.#socket = socket;
    this.#source = source;
    this.#buf = first;
    this.#state = first[0] === SOCKS5.VERSION ? 'socks5-greeting' : 'socks4';
    socket.on('readable', this.#onReadable);
    socket.on('end', this.#onEnd);
    this.#step();
  }

  #onReadable = (): void => {
    let chunk: Buffer | null;
    while (this.#state !== 'done' && (chunk = this.#socket.read() as Buffer | null) !== null) {
      this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
      this.#step();
    }
  };

  /** The client half-closed mid-handshake: it can never finish. */
  #onEnd = (): void => {
    if (this.#state !== 'done') this.#close();
  };

  /** Parses as many handshake messages as the buffer holds. */
  #step(): void {
    for (let guard = 0; guard < 4 && this.#state !== 'done'; guard++) {
      const before = this.#state;
      switch (this.#state) {
        case 'socks5-greeting':
          this.#greeting();
          break;
        case 'socks5-auth':
          this.#auth();
          break;
        case 'socks5-request':
          this.#request();
          break;
        case 'socks4':
          this.#socks4();
          break;
      }
      if (this.#state === before) return; // waiting for more bytes
    }
  }

  /** Consumes a parsed message, or decides what an incomplete / bad one means. */
  #take<T>(p: Parsed<T>): T | undefined {
    if (p.kind === 'ok') {
      this.#buf = this.#buf.subarray(p.length);
      return p.value;
    }
    if (p.kind === 'bad') {
      this.#ctx.log.debug(`[${this.#ctx.name}] bad SOCKS handshake from ${this.#source.host}: ${p.reason}`);
      if (p.reply !== undefined) this.#fail(encodeReply(p.reply, this.#bindAddress()));
      else this.#close();
    } else if (this.#buf.length > MAX_HANDSHAKE_BYTES) {
      this.#close();
    }
    return undefined;
  }

  #greeting(): void {
    const g = this.#take(parseGreeting(this.#buf));
    if (g === undefined) return;
    const hasNone = g.methods.includes(SOCKS5.METHOD_NONE);
    const hasUserPass = g.methods.includes(SOCKS5.METHOD_USERPASS);
    if (this.#ctx.auth.required(this.#source.host)) {
      if (!hasUserPass) return this.#fail(NO_ACCEPTABLE_METHOD);
      this.#socket.write(CHOOSE_USERPASS);
      this.#state = 'socks5-auth';
    } else if (hasNone || !hasUserPass) {
      // Like mihomo, a client that offers neither is still let in without auth.
      this.#socket.write(CHOOSE_NONE);
      this.#state = 'socks5-request';
    } else {
      // Only user/pass offered and none required: take it and accept any credentials.
      this.#socket.write(CHOOSE_USERPASS);
      this.#state = 'socks5-auth';
    }
  }

  #auth(): void {
    const cred = this.#take(parseUserPass(this.#buf));
    if (cred === undefined) return;
    if (this.#ctx.auth.required(this.#source.host)) {
      if (!this.#ctx.auth.verify(cred.username, cred.password)) {
        this.#ctx.log.info(`[${this.#ctx.name}] SOCKS5 auth failed from ${this.#source.host}:${this.#source.port}`);
        return this.#fail(AUTH_FAILED);
      }
      this.#user = cred.username;
    }
    this.#socket.write(AUTH_OK);
    this.#state = 'socks5-request';
  }

  #request(): void {
    const req = this.#take(parseRequest(this.#buf));
    if (req === undefined) return;
    if (req.command === SOCKS5.CMD_CONNECT) {
      this.#handOff('SOCKS5', req.address, new Socks5Reply(this.#ctx, this.#socket, this.#bindAddress()));
    } else if (req.command === SOCKS5.CMD_UDP_ASSOCIATE && this.#ctx.udpPort !== undefined) {
      this.#associate(this.#ctx.udpPort);
    } else {
      this.#fail(encodeReply(SOCKS5.REP_COMMAND_NOT_SUPPORTED, this.#bindAddress()));
    }
  }

  /**
   * UDP ASSOCIATE: answer with the relay's address and keep the control connection open
   * (discarding what it sends) until the client closes it, as mihomo does. The relay serves
   * any allowed source; the association is not what authorises datagrams.
   */
  #associate(udpPort: number): void {
    const bind = { host: this.#bindAddress().host, port: udpPort };
    this.#finish();
    this.#ctx.hold(this.#socket);
    this.#socket.write(encodeReply(SOCKS5.REP_SUCCEEDED, bind));
    this.#socket.on('data', swallow);
    this.#socket.on('end', destroyOnEnd);
    this.#socket.resume();
  }

  #socks4(): void {
    const req = this.#take(parseSocks4Request(this.#buf));
    if (req === undefined) return;
    const { host, port } = req.address;
    const ip = /^\d+\.\d+\.\d+\.\d+$/.test(host) ? host : '0.0.0.0';
    if (req.command !== SOCKS4.CMD_CONNECT) return this.#fail(encodeSocks4Reply(SOCKS4.REJECTED, port, ip));
    if (this.#ctx.auth.required(this.#source.host)) {
      // SOCKS4 carries only a user id: like mihomo, it passes only as a user with an empty password.
      if (!this.#ctx.auth.verify(req.userId, '')) {
        this.#ctx.log.info(`[${this.#ctx.name}] SOCKS4 auth failed from ${this.#source.host}:${this.#source.port}`);
        return this.#fail(encodeSocks4Reply(SOCKS4.USER_MISMATCH, port, ip));
      }
      this.#user = req.userId;
    }
    this.#handOff('SOCKS4', req.address, new Socks4Reply(this.#socket, port, ip));
  }

  /** Our handshake is over: stop reading, put back bytes the client sent ahead. */
  #finish(): void {
    this.#state = 'done';
    this.#socket.off('readable', this.#onReadable);
    this.#socket.off('end', this.#onEnd);
    this.#ctx.release(this.#socket);
    if (this.#buf.length > 0) this.#socket.unshift(this.#buf);
    this.#buf = Buffer.alloc(0);
  }

  #handOff(type: InboundType, destination: Address, reply: TcpReply): void {
    this.#finish();
    const meta = this.#ctx.meta('tcp', type, this.#source, destination, this.#user);
    this.#ctx.handler.handleTcp(this.#socket, meta, reply);
  }

  /** Sends a final error answer and closes. */
  #fail(answer: Buffer): void {
    this.#state = 'done';
    this.#socket.end(answer);
    this.#socket.destroySoon();
  }

  #close(): void {
    this.#state = 'done';
    this.#socket.destroy();
  }

  /** BND.ADDR/PORT: the address the client reached us on (mihomo answers the same). A listener
   * bound to one IP knows it without asking the socket (a getsockname per connection). */
  #bindAddress(): Address {
    return this.#ctx.fixedLocal ?? { host: unmapIPv4(this.#socket.localAddress ?? '0.0.0.0'), port: this.#socket.localPort ?? 0 };
  }
}

/** The tunnel's verdict, answered in SOCKS5 (BND = the address the client connected to). */
class Socks5Reply implements TcpReply {
  constructor(
    readonly ctx: InboundContext,
    readonly socket: Socket,
    readonly bind: Address,
  ) {}
  connected(): void {
    this.socket.write(this.ctx.socks5Succeeded(this.bind));
  }
  failed(err: Error): void {
    this.socket.end(encodeReply(socks5ReplyFor(err), this.bind));
  }
}

/** The tunnel's verdict, answered in SOCKS4 (0x5A granted / 0x5B rejected). */
class Socks4Reply implements TcpReply {
  constructor(
    readonly socket: Socket,
    readonly port: number,
    readonly ip: string,
  ) {}
  connected(): void {
    this.socket.write(encodeSocks4Reply(SOCKS4.GRANTED, this.port, this.ip));
  }
  failed(): void {
    this.socket.end(encodeSocks4Reply(SOCKS4.REJECTED, this.port, this.ip));
  }
}
