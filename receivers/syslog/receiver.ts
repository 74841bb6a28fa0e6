import type { Component, Host, PipelineInput, ReceiverSettings } from '../../core/component.js';
import type { Frames } from '../../core/pool/worker-api.js';
import { ingest } from '../helper/ingest.js';
import { resolveTransports, type SyslogReceiverConfig } from './config.js';
import { createCounters, type SyslogCounters } from './counters.js';
import { TcpListener } from './tcp.js';
import { UdpListener } from './udp.js';

/** How long shutdown waits for batches in flight before it closes connections, in milliseconds. */
const SHUTDOWN_TIMEOUT_MS = 5000;

/**
 * The syslog receiver: TCP (plain or TLS) and UDP listeners that frame messages on the main
 * thread and send them in batches to the worker pool, where they are parsed into OTLP log
 * records and passed to the logs pipelines.
 */
export class SyslogReceiver implements Component {
  readonly tcp?: TcpListener;
  readonly udp?: UdpListener;
  private readonly input: PipelineInput;
  private readonly counters: SyslogCounters;
  private stopping = false;

  constructor(private readonly settings: ReceiverSettings<SyslogReceiverConfig>) {
    this.input = settings.consumers.logs as PipelineInput;
    this.counters = createCounters(settings.id, settings.metrics, settings.logger, () => this.stopping);
    const config = settings.config;
    const transports = resolveTransports(config);
    const shared = {
      maxMessageSize: config.max_message_size,
      maxBatchMessages: config.max_batch_messages,
      deliver: (frames: Frames, attributes: Record<string, string | number>) => this.deliver(frames, attributes),
      admission: settings.admission,
      counters: this.counters,
      logger: settings.logger,
    };
    if (transports.tcp) this.tcp = new TcpListener({ ...shared, config: transports.tcp });
    if (transports.udp) this.udp = new UdpListener({ ...shared, config: transports.udp });
  }

  async start(_host: Host): Promise<void> {
    this.settings.metrics.registry.gauge('watchpost_syslog_connections', 'Open syslog TCP connections.')
      .track(this.counters.labels, () => this.tcp?.connectionCount ?? 0);
    await this.tcp?.start();
    await this.udp?.start();
  }

  async shutdown(): Promise<void> {
    this.stopping = true;
    await Promise.all([this.tcp?.shutdown(SHUTDOWN_TIMEOUT_MS), this.udp?.shutdown(SHUTDOWN_TIMEOUT_MS)]);
    this.counters.drops.flush();
  }

  private async deliver(frames: Frames, attributes: Record<string, string | number>): Promise<void> {
    const outcome = await ingest(this.settings.pool, this.settings.metrics, this.input, 'logs', {
      kind: 'frames',
      parser: this.settings.id,
      frames,
      context: { observedMs: Date.now(), attributes, resource: this.settings.config.resource },
    }, { receiver: this.settings.id, peerAddress: typeof attributes['network.peer.address'] === 'string' ? attributes['network.peer.address'] : undefined });
    this.settings.metrics.receiverParseFailures.add({ receiver: this.settings.id, format: 'syslog' }, outcome.parseFailures);
  }
}
