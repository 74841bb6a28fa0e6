import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { resolve } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';

const TLS_DIRECTORY = resolve(import.meta.dirname, '..', '..', 'fixtures', 'exporters', 'tls');
export const TLS_CA_FILE = resolve(TLS_DIRECTORY, 'server.crt');

/**
 * A syslog receiver on 127.0.0.1 over TCP or TLS that splits the stream into messages by
 * octet counting (`LEN SP MSG`, RFC 6587 section 3.4.1) or by line feed.
 */
export class SyslogStreamServer {
  readonly messages: string[] = [];
  readonly connections: Socket[] = [];
  private server: Server | undefined;

  constructor(private readonly framing: 'octet_counting' | 'newline', private readonly tls = false) {}

  /** Listens on `port` (0: any free port), for example again on the port of an earlier run. */
  async start(port = 0): Promise<this> {
    const onConnection = (socket: Socket) => {
      this.connections.push(socket);
      let pending: Buffer = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        pending = this.framing === 'octet_counting' ? this.readCounted(pending) : this.readLines(pending);
      });
      socket.on('error', () => undefined);
    };
    this.server = this.tls
      ? createTlsServer({ key: readFileSync(resolve(TLS_DIRECTORY, 'server.key')), cert: readFileSync(TLS_CA_FILE) }, onConnection)
      : createTcpServer(onConnection);
    await new Promise<void>((done) => this.server?.listen(port, '127.0.0.1', done));
    return this;
  }

  get endpoint(): string {
    return `127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  /** Closes every open connection but keeps listening, as a restarted peer would. */
  dropConnections(): void {
    for (const socket of this.connections.splice(0)) socket.destroy();
  }

  async stop(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((done) => (this.server ? this.server.close(() => done()) : done()));
  }

  private readCounted(buffer: Buffer): Buffer {
    let rest = buffer;
    for (;;) {
      const space = rest.indexOf(0x20);
      if (space <= 0) return rest;
      const length = Number(rest.subarray(0, space).toString('ascii'));
      if (!Number.isInteger(length)) throw new Error(`bad octet count ${JSON.stringify(rest.subarray(0, space).toString())}`);
      if (rest.length < space + 1 + length) return rest;
      this.messages.push(rest.subarray(space + 1, space + 1 + length).toString('utf8'));
      rest = rest.subarray(space + 1 + length);
    }
  }

  private readLines(buffer: Buffer): Buffer {
    let rest = buffer;
    for (let newline = rest.indexOf(0x0a); newline >= 0; newline = rest.indexOf(0x0a)) {
      this.messages.push(rest.subarray(0, newline).toString('utf8'));
      rest = rest.subarray(newline + 1);
    }
    return rest;
  }
}

/** A syslog receiver on 127.0.0.1 over UDP: one message per datagram. */
export class SyslogUdpServer {
  readonly messages: string[] = [];
  private socket: UdpSocket | undefined;

  async start(): Promise<this> {
    const socket = createSocket('udp4');
    socket.on('message', (message) => this.messages.push(message.toString('utf8')));
    await new Promise<void>((done) => socket.bind(0, '127.0.0.1', done));
    this.socket = socket;
    return this;
  }

  get endpoint(): string {
    return `127.0.0.1:${this.socket?.address().port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((done) => (this.socket ? this.socket.close(() => done()) : done()));
  }
}
