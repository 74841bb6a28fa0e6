// Load generator for the syslog benchmark, run in its own process. It sends RFC 5424 messages with
// LF framing over one TCP connection to 127.0.0.1 for a number of seconds, as fast as the receiver
// reads them (it waits on 'drain'). It prints `sent=N` when done.
// usage: node generate.mjs PORT SECONDS
import { connect } from 'node:net';

const [port, seconds] = process.argv.slice(2).map(Number);
if (!port || !seconds) {
  console.error('usage: node generate.mjs PORT SECONDS');
  process.exit(2);
}

const APPS = ['sshd', 'sudo', 'nginx', 'cron', 'kernel', 'api-gateway'];
/** Builds a chunk of 1000 distinct messages; the generator writes the chunks again and again. */
function chunk(offset) {
  const lines = [];
  for (let i = 0; i < 1000; i++) {
    const n = offset + i;
    const app = APPS[n % APPS.length];
    lines.push(`<${(n % 24) * 8 + (n % 8)}>1 2024-05-01T10:00:${String(n % 60).padStart(2, '0')}.${String(n % 1000000).padStart(6, '0')}Z host${n % 50}.example.com ${app} ${1000 + (n % 9000)} ID${n % 100} [meta@32473 seq="${n}"] request ${n} from 198.51.100.${n % 250} user=u${n % 977} status=${n % 7 === 0 ? 500 : 200}\n`);
  }
  return Buffer.from(lines.join(''));
}
const chunks = Array.from({ length: 10 }, (_, i) => chunk(i * 1000));

const socket = connect(port, '127.0.0.1');
let sent = 0;
let stop = false;
setTimeout(() => { stop = true; }, seconds * 1000);
socket.on('connect', function write() {
  while (!stop) {
    const data = chunks[(sent / 1000) % chunks.length];
    sent += 1000;
    if (!socket.write(data)) {
      socket.once('drain', write);
      return;
    }
  }
  socket.end(() => console.log(`sent=${sent}`));
});
socket.on('error', (error) => {
  console.error(`generator: ${error.message}`);
  process.exit(1);
});
