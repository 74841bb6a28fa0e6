import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { Admission } from '../../core/admission.js';
import type { Logger } from '../../core/logger.js';
import { errorMessage } from '../../core/errors.js';
import { joinHostPort, normalizeAddress, splitHostPort } from '../../core/net.js';
import { FrameBatch } from './batch.js';
import type { SyslogUdpConfig } from './config.js';
import type { SyslogCounters } from './counters.js';
import type { DeliverFrames } from './tcp.js';

/** Batches in the worker pool at once. */
const MAX_IN_FLIGHT = 4;
/** Batches' worth of datagrams held while the pool is busy; beyond that datagrams are dropped and counted. */
const MAX_PENDING_BATCHES = 4;

export interface UdpListenerOptions {
  config: SyslogUdpConfig;
  maxMessageSize: number;
  maxBatchMessages: number;
  deliver: DeliverFrames;
  admission: Admission;
  counters: SyslogCounters;
  logger: Logger;
}

/**
 * The UDP listener: one message per datagram. UDP has no flow control, so a datagram that
 * arrives while admission control refuses data, or while the bounded batch is full, is dropped
 * and counted.
 */
export class UdpListener {
  private socket: Socket | undefined;
  private readonly batch = new FrameBatch();
  private inFlight = 0;
  private scheduled = false;
  private readonly idle: (() => void)[] = [];

  constructor(private readonly options: UdpListenerOptions) {}

  async start(): Promise<void> {
    const { host, port } = splitHostPort(this.options.config.endpoint);
    const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: this.options.config.receive_buffer_size || undefined });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('message', (message, remote) => this.onMessage(message, remote));
    socket.on('error', (error) => this.options.logger.error({ err: errorMessage(error) }, 'syslog UDP socket failed'));
    this.socket = socket;
    this.options.logger.info({ endpoint: this.address(), transport: 'udp' }, 'syslog receiver listening');
  }

  address(): string {
    const address = this.socket?.address();
    return address ? joinHostPort(address.address, address.port) : this.options.config.endpoint;
  }

  /** Stops receiving and waits, up to `timeoutMs`, for the batches in flight. */
  async shutdown(timeoutMs: number): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    this.flush();
    if (this.inFlight === 0 && this.batch.count === 0) return;
    const idle = new Promise<void>((resolve) => this.idle.push(resolve));
    await Promise.race([idle, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
    if (this.batch.count > 0) this.options.counters.drops.drop('udp', 'shutdown', this.batch.take().ends.length);
  }

  private onMessage(datagram: Buffer, remote: RemoteInfo): void {
    if (this.options.admission.refusal) {
      this.options.counters.drops.drop('udp', 'refused', 1);
      return;
    }
    if (this.batch.count >= this.options.maxBatchMessages * MAX_PENDING_BATCHES) {
      this.options.counters.drops.drop('udp', 'buffer_full', 1);
      return;
    }
    const attributes: Record<string, string | number | boolean> = { 'network.peer.address': normalizeAddress(remote.address) ?? remote.address, 'network.peer.port': remote.port };
    let message = datagram;
    if (datagram.length > this.options.maxMessageSize) {
      message = datagram.subarray(0, this.options.maxMessageSize);
      attributes['watchpost.syslog.truncated'] = true;
      attributes['watchpost.syslog.original_size'] = datagram.length;
      this.options.counters.truncated.add({ ...this.options.counters.labels, transport: 'udp' });
    }
    this.batch.add(message, attributes);
    if (!this.scheduled) {
      // Datagrams that arrive in the same turn of the event loop share a batch.
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  private flush(): void {
    while (this.batch.count > 0 && this.inFlight < MAX_IN_FLIGHT) {
      const frames = this.batch.take();
      this.inFlight++;
      this.options.deliver(frames, { 'network.transport': 'udp' })
        .catch((error: unknown) => this.options.counters.drops.drop('udp', 'pipeline_refused', frames.ends.length, errorMessage(error)))
        .finally(() => {
          this.inFlight--;
          this.flush();
          if (this.inFlight === 0 && this.batch.count === 0) for (const wake of this.idle.splice(0)) wake();
        });
    }
  }
}
