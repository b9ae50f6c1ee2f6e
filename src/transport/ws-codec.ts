import type { FrameCodec, FrameSink } from './framed-duplex.js';
import { OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, WsFrameReader, closeFrame, encodeFrame, type WsFrameHandler } from './ws-frame.js';

/**
 * WebSocket as a byte stream (FrameCodec for FramedDuplex), for either end. Our writes go out
 * as binary frames; pings are answered; a close frame from the peer is end of stream for our
 * reader. Half-close: our end() sends a close frame but leaves the connection open, so data the
 * peer still sends arrives (RFC 6455 §5.5.1 allows data until the peer's close); a peer's close
 * received before our end() is answered only when our user ends too, so the other direction can
 * finish first. Once both closes crossed, the connection below is ended.
 */
export class WsCodec implements FrameCodec {
  readonly #maskOut: boolean;
  readonly #reader: WsFrameReader;
  #sink: FrameSink | undefined;
  #closeSent = false;
  #closeReceived = false;
  readonly #handler: WsFrameHandler;

  /** `role`: 'client' masks what it sends and expects unmasked frames; 'server' the reverse. */
  constructor(role: 'client' | 'server') {
    this.#maskOut = role === 'client';
    this.#reader = new WsFrameReader({ masked: role === 'server' });
    this.#handler = {
      data: (payload) => this.#sink!.push(payload),
      control: (opcode, payload) => this.#control(opcode, payload),
    };
  }

  encode(chunk: Buffer): Buffer {
    return encodeFrame(OP_BINARY, chunk, this.#maskOut);
  }

  decode(data: Buffer, sink: FrameSink): void {
    this.#sink = sink;
    this.#reader.feed(data, this.#handler);
  }

  #control(opcode: number, payload: Buffer): void {
    const sink = this.#sink!;
    if (opcode === OP_PING) {
      if (!this.#closeSent) sink.reply(encodeFrame(OP_PONG, payload, this.#maskOut));
    } else if (opcode === OP_CLOSE) {
      this.#closeReceived = true;
      sink.eof();
    }
  }

  finish(): { bytes?: Buffer; endInner: boolean } {
    if (this.#closeSent) return { endInner: false };
    this.#closeSent = true;
    // after the peer's close, ours completes the handshake: the connection below can end
    return { bytes: closeFrame(this.#maskOut), endInner: this.#closeReceived };
  }
}
