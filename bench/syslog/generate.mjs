// Load generator for the syslog benchmark, run in its own process. It sends RFC 5424 messages with
// LF framing over one TCP connection to 127.0.0.1 for a number of seconds, as fast as the receiver
// reads them (it waits on 'drain'). It prints `sent=N` when done.
// usage: node generate.mjs PORT SECONDS
import { connect } from 'node:net';
import { chunk } from './lines.mjs';

const [port, seconds] = process.argv.slice(2).map(Number);
if (!port || !seconds) {
  console.error('usage: node generate.mjs PORT SECONDS');
  process.exit(2);
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
