import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Frames } from '../../core/pool/worker-api.js';
import type { Admission } from '../../core/admission.js';
import type { Logger } from '../../core/logger.js';
import { errorMessage, isRetryable } from '../../core/errors.js';
import { joinHostPort, normalizeAddress, splitHostPort } from '../../core/net.js';
import { FrameBatch } from './batch.js';
import { FrameDecoder } from './framing.js';
import type { SyslogTcpConfig } from './config.js';
import type { SyslogCounters } from './counters.js';

/**
 * Batches of one connection in the worker pool at once; more data waits in the socket. Four keep
 * both workers of a two-core machine busy while the main thread handles finished batches.
 */
const MAX_IN_FLIGHT = 4;
/** Retry delays after the pipeline refused a batch for load, in milliseconds. */
const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 2000;
/**
 * Bytes a batch may reach before the connection stops reading until a batch completes. With
 * MAX_IN_FLIGHT, this bounds a connection to about 5 MiB, plus one socket read and one partial
 * message.
 */
const MAX_BATCH_BYTES = 1024 * 1024;

export type DeliverFrames = (frames: Frames, attributes: Record<string, string | number>) => Promise<void>;

export interface TcpListenerOptions {
  config: SyslogTcpConfig;
  maxMessageSize: number;
  maxBatchMessages: number;
  deliver: DeliverFrames;
  admission: Admission;
  counters: SyslogCounters;
  logger: Logger;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * One syslog connection. Bytes are framed as they arrive and collected into a batch; a batch
 * goes to the pipeline when fewer than MAX_IN_FLIGHT are on their way. The socket stops reading
 * while the batch is full, while admission control refuses data, and while a refused batch waits
 * to be retried, so a slow pipeline slows the sender through TCP flow control instead of losing
 * messages.
 */
class SyslogConnection {
  private readonly decoder: FrameDecoder;
  private readonly batch = new FrameBatch();
  private readonly attributes: Record<string, string | number>;
  private inFlight = 0;
  private paused = false;
  private closed = false;
  private readonly idle: (() => void)[] = [];

  constructor(private readonly socket: Socket, private readonly options: TcpListenerOptions, private readonly transport: 'tcp' | 'tls') {
    this.attributes = { 'network.transport': 'tcp' };
    const address = normalizeAddress(socket.remoteAddress);
    if (address) this.attributes['network.peer.address'] = address;
    if (socket.remotePort !== undefined) this.attributes['network.peer.port'] = socket.remotePort;
    this.decoder = new FrameDecoder(
      { framing: options.config.framing, trailer: options.config.trailer, maxMessageSize: options.maxMessageSize },
      {
        frame: (bytes, originalSize) => this.add(bytes, originalSize),
        problem: (reason) => options.counters.framingErrors.add({ ...options.counters.labels, reason }),
      },
    );
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('error', (error) => options.logger.debug({ err: errorMessage(error), peer: address }, 'syslog connection failed'));
    socket.on('close', () => {
      this.closed = true;
      this.wakeIdle();
    });
  }

  /** Resolves when every batch of this connection has been delivered or given up. */
  drained(): Promise<void> {
    if (this.inFlight === 0 && this.batch.count === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  destroy(): void {
    this.socket.destroy();
  }

  private add(bytes: Buffer, originalSize: number | undefined): void {
    if (originalSize === undefined) {
      this.batch.add(bytes);
      return;
    }
    this.options.counters.truncated.add({ ...this.options.counters.labels, transport: this.transport });
    const attributes: Record<string, number | boolean> = { 'watchpost.syslog.truncated': true };
    if (originalSize >= 0) attributes['watchpost.syslog.original_size'] = originalSize;
    this.batch.add(bytes, attributes);
  }

  private onData(chunk: Buffer): void {
    this.decoder.push(chunk);
    this.flush();
    if (this.options.admission.refusal) {
      this.pause();
      void this.options.admission.whenAdmitted().then(() => this.resumeWhenReady());
    }
  }

  private onEnd(): void {
    this.decoder.end();
    this.flush();
    if (this.inFlight === 0 && this.batch.count === 0) this.socket.end();
  }

  private flush(): void {
    while (this.batch.count > 0 && this.inFlight < MAX_IN_FLIGHT) {
      const frames = this.batch.take();
      this.inFlight++;
      void this.send(frames).finally(() => {
        this.inFlight--;
        this.flush();
        this.resumeWhenReady();
        if (this.inFlight === 0 && this.batch.count === 0) {
          this.wakeIdle();
          if (this.socket.readableEnded && !this.socket.destroyed) this.socket.end();
        }
      });
    }
    if (this.batch.count >= this.options.maxBatchMessages || this.batch.bytes >= MAX_BATCH_BYTES) this.pause();
  }

  private async send(frames: Frames): Promise<void> {
    let delay = RETRY_MIN_MS;
    for (;;) {
      await this.options.admission.whenAdmitted();
      try {
        await this.options.deliver(frames, this.attributes);
        return;
      } catch (error) {
        if (!isRetryable(error)) {
          this.options.counters.drops.drop(this.transport, 'pipeline_rejected', frames.ends.length, errorMessage(error));
          return;
        }
        if (this.options.counters.stopping()) {
          this.options.counters.drops.drop(this.transport, 'shutdown', frames.ends.length, errorMessage(error));
          return;
        }
        // Refused for load: keep the batch, stop reading, and try again.
        this.pause();
        await sleep(delay);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    }
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  private resumeWhenReady(): void {
    if (!this.paused || this.closed) return;
    if (this.options.admission.refusal) return;
    if (this.batch.count >= this.options.maxBatchMessages || this.batch.bytes >= MAX_BATCH_BYTES) return;
    if (this.inFlight >= MAX_IN_FLIGHT && this.batch.count > 0) return;
    this.paused = false;
    this.socket.resume();
  }

  private wakeIdle(): void {
    if (this.inFlight > 0 || this.batch.count > 0) return;
    for (const wake of this.idle.splice(0)) wake();
  }
}

/** The TCP or TLS listener of the syslog receiver. */
export class TcpListener {
  private server: Server | undefined;
  private readonly connections = new Set<SyslogConnection>();
  private readonly transport: 'tcp' | 'tls';

  constructor(private readonly options: TcpListenerOptions) {
    this.transport = options.config.tls ? 'tls' : 'tcp';
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async start(): Promise<void> {
    const server = this.createServer();
    const { host, port } = splitHostPort(this.options.config.endpoint);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.options.logger.info({ endpoint: this.address(), transport: this.transport, framing: this.options.config.framing }, 'syslog receiver listening');
  }

  address(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    return address ? joinHostPort(address.address, address.port) : this.options.config.endpoint;
  }

  /** Stops accepting connections, lets the batches in flight finish, then closes the connections. */
  async shutdown(timeoutMs: number): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const drained = Promise.all([...this.connections].map((connection) => connection.drained()));
    await Promise.race([drained, sleep(timeoutMs)]);
    for (const connection of this.connections) connection.destroy();
    await closed;
  }

  private createServer(): Server {
    const tls = this.options.config.tls;
    if (!tls) return createTcpServer((socket) => this.accept(socket));
    const server = createTlsServer({
      cert: readFileSync(tls.cert_file),
      key: readFileSync(tls.key_file),
      ca: tls.client_ca_file ? readFileSync(tls.client_ca_file) : undefined,
      requestCert: tls.client_ca_file !== '',
      rejectUnauthorized: tls.client_ca_file !== '',
      minVersion: tls.min_version === '1.3' ? 'TLSv1.3' : 'TLSv1.2',
    }, (socket: TLSSocket) => this.accept(socket));
    server.on('tlsClientError', (error) => {
      this.options.counters.connectionsRefused.add({ ...this.options.counters.labels, reason: 'tls_handshake' });
      this.options.logger.debug({ err: errorMessage(error) }, 'syslog TLS handshake failed');
    });
    return server;
  }

  private accept(socket: Socket): void {
    if (this.connections.size >= this.options.config.max_connections) {
      this.options.counters.connectionsRefused.add({ ...this.options.counters.labels, reason: 'max_connections' });
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const connection = new SyslogConnection(socket, this.options, this.transport);
    this.connections.add(connection);
    // A connection the sender closed may still hold batches waiting for admission. Shutdown
    // waits for the connections in the set, so this one stays there until they are delivered.
    socket.on('close', () => void connection.drained().then(() => this.connections.delete(connection)));
  }
}
