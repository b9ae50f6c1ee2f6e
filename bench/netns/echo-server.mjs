// A TCP echo for the warm-pool bench, run inside the server namespace:
// node echo-server.mjs HOST PORT. Every connection gets its bytes back until it closes.
import net from 'node:net';

const [host, port] = process.argv.slice(2);
net
  .createServer((s) => {
    s.setNoDelay(true);
    s.on('error', () => s.destroy());
    s.pipe(s);
  })
  .listen(Number(port), host);
