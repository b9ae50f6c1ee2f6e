import fc from 'fast-check';
import { Invariant, type FuzzTarget } from '../harness.js';
import { addressArb, chunked, wire, type Chunked } from '../bytes.js';
import { MORE, ok, sameAtEverySplit } from './check.js';
import { parseSimpleConnect } from '../../../src/inbound/connect-head.js';
import { endToEndHeaders, parseConnectTarget, parseForwardTarget } from '../../../src/inbound/http-headers.js';
import { parseConnectResponse } from '../../../src/protocol/http/codec/response-head.js';
import { parseHead } from '../../../src/transport/http-head.js';

const token = fc.stringMatching(/^[A-Za-z0-9-]{1,20}$/);
const value = fc.oneof(fc.stringMatching(/^[\x20-\x7e]{0,40}$/), fc.constantFrom('', 'chunked', '0', '-1', '99999999999999999999', 'close, Upgrade'));
const headerLines = fc.array(fc.tuple(fc.oneof(token, fc.constantFrom('Host', 'Content-Length', 'Transfer-Encoding', 'Proxy-Authorization', 'Connection')), value), { maxLength: 8 });
const authority = addressArb.map((a) => (a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`));

const connectHead = fc
  .tuple(authority, fc.constantFrom('1.0', '1.1', '2', '1.1 '), headerLines, fc.uint8Array({ maxLength: 20 }))
  .map(([t, v, hs, tail]) => Buffer.concat([Buffer.from(`CONNECT ${t} HTTP/${v}\r\n${hs.map(([k, x]) => `${k}: ${x}\r\n`).join('')}\r\n`, 'latin1'), tail]));

const responseHead = fc
  .tuple(fc.constantFrom('100', '101', '200', '204', '407', '502', '099', '999'), fc.stringMatching(/^[ -~]{0,20}$/), headerLines, fc.boolean())
  .map(([code, reason, hs, lf]) => {
    const nl = lf ? '\n' : '\r\n';
    return Buffer.from(`HTTP/1.1 ${code} ${reason}${nl}${hs.map(([k, x]) => `${k}: ${x}${nl}`).join('')}${nl}`, 'latin1');
  });

const text = (b: fc.Arbitrary<Buffer>): fc.Arbitrary<string> => wire(b).map((x) => x.toString('latin1'));

export const httpTargets: FuzzTarget<any>[] = [
  {
    name: 'http-connect-head',
    arbitrary: wire(connectHead),
    run(input: Buffer) {
      const r = parseSimpleConnect(input);
      if (r && (r.used > input.length || r.target.port < 1 || r.target.port > 65535)) throw new Invariant(`bad CONNECT answer ${JSON.stringify(r)}`);
    },
  },
  {
    name: 'http-request-target',
    arbitrary: fc.oneof(
      text(authority.map((a) => Buffer.from(a))),
      text(fc.tuple(authority, fc.stringMatching(/^[/?#][ -~]{0,30}$/)).map(([a, p]) => Buffer.from(`http://u:p@${a}${p}`))),
      fc.string({ maxLength: 300 }),
    ),
    run(input: string) {
      const c = parseConnectTarget(input);
      if (c && (c.port < 1 || c.port > 65535 || c.host === '')) throw new Invariant(`bad CONNECT target ${JSON.stringify(c)}`);
      const f = parseForwardTarget(input);
      if (f && (f.address.port < 1 || f.address.port > 65535 || !f.path.startsWith('/'))) throw new Invariant(`bad forward target ${JSON.stringify(f)}`);
    },
  },
  {
    name: 'http-hop-headers',
    arbitrary: fc.tuple(fc.array(fc.string({ maxLength: 30 }), { maxLength: 20 }), fc.boolean()),
    run([raw, upgrade]: [string[], boolean]) {
      const out = endToEndHeaders(raw, upgrade);
      if (out.length % 2 !== 0 || out.length > raw.length) throw new Invariant('header list out of shape');
    },
  },
  {
    name: 'http-client-connect-response',
    arbitrary: chunked(wire(fc.array(responseHead, { minLength: 1, maxLength: 3 }).map((hs) => Buffer.concat(hs)))),
    run(input: Chunked) {
      sameAtEverySplit(input, (b) => {
        const r = parseConnectResponse(b);
        return r === undefined ? MORE : ok(r);
      });
    },
  },
  {
    name: 'http-upgrade-response-head',
    arbitrary: text(responseHead),
    run(input: string) {
      const end = input.indexOf('\r\n\r\n');
      parseHead(end < 0 ? input : input.slice(0, end));
    },
  },
];
