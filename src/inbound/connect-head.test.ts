import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSimpleConnect } from './connect-head.js';

const parse = (text: string) => parseSimpleConnect(Buffer.from(text, 'latin1'));

describe('parseSimpleConnect', () => {
  it('reads a plain CONNECT head and says where the tunnel bytes start', () => {
    const head = 'CONNECT 127.0.0.1:8080 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/8\r\nProxy-Connection: Keep-Alive\r\n\r\n';
    const got = parse(`${head}early`);
    assert.deepEqual(got, { target: { host: '127.0.0.1', port: 8080 }, httpVersion: '1.1', used: Buffer.byteLength(head) });
    assert.deepEqual(parse('CONNECT [::1]:443 HTTP/1.0\r\n\r\n'), { target: { host: '::1', port: 443 }, httpVersion: '1.0', used: 30 });
    // a domain's trailing dot goes, as node:http's path trims it (parseConnectTarget)
    assert.deepEqual(parse('CONNECT example.test.:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n')?.target, { host: 'example.test', port: 443 });
  });

  it('leaves everything that is not the plain kind to node:http', () => {
    const refused = [
      'GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n', // not a CONNECT
      'CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\n', // head not complete yet
      'connect a.test:443 HTTP/1.1\r\n\r\n', // method case
      'CONNECT a.test:443 HTTP/2.0\r\n\r\n', // version
      'CONNECT  a.test:443 HTTP/1.1\r\n\r\n', // two spaces
      'CONNECT a.test HTTP/1.1\r\n\r\n', // no port
      'CONNECT a.test:0 HTTP/1.1\r\n\r\n', // port 0
      'CONNECT a.test:443/x HTTP/1.1\r\n\r\n', // not authority-form
      'CONNECT a.test:443 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello', // framing header
      'CONNECT a.test:443 HTTP/1.1\r\ntransfer-encoding : chunked\r\n\r\n',
      'CONNECT a.test:443 HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n', // obs-fold
      'CONNECT a.test:443 HTTP/1.1\r\nBad Name: 1\r\n\r\n', // space in a name
      'CONNECT a.test:443 HTTP/1.1\r\nX-A: 1\nX-B: 2\r\n\r\n', // bare LF
      'CONNECT a.test:443 HTTP/1.1\r\nX-A: caf\xe9\r\n\r\n', // obs-text
      `CONNECT a.test:443 HTTP/1.1\r\nX-Big: ${'a'.repeat(17000)}\r\n\r\n`, // over node's header limit
    ];
    for (const text of refused) assert.equal(parse(text), undefined, JSON.stringify(text.slice(0, 60)));
  });
});
