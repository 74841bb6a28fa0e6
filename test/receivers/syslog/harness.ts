import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { Admission } from '../../../core/admission.js';
import type { Host, PipelineInput } from '../../../core/component.js';
import { mergeDefaults } from '../../../core/config/schema.js';
import type { OtlpBatch } from '../../../core/data/batch.js';
import { silentLogger } from '../../../core/logger.js';
import type { ExportLogsServiceRequest } from '../../../core/otlp/codec.js';
import { WorkerPool } from '../../../core/pool/pool.js';
import { MetricsRegistry, PipelineMetrics } from '../../../core/telemetry/metrics.js';
import { createDefaultConfig, type SyslogReceiverConfig } from '../../../receivers/syslog/config.js';
import { syslogReceiverFactory } from '../../../receivers/syslog/factory.js';
import type { SyslogReceiver } from '../../../receivers/syslog/receiver.js';
import { plainRecord, type PlainRecord } from './records.js';

/**
 * A syslog receiver on loopback with a real worker pool, feeding a pipeline input that keeps
 * every record. `consume` can be replaced to make the pipeline refuse batches.
 */
export class ReceiverHarness {
  readonly records: PlainRecord[] = [];
  readonly admission = new Admission();
  readonly metrics = new PipelineMetrics(new MetricsRegistry());
  consume: (batch: OtlpBatch) => Promise<void> = async () => undefined;
  readonly receiver: SyslogReceiver;
  private readonly pool: WorkerPool;

  constructor(overrides: Partial<SyslogReceiverConfig>) {
    const config = mergeDefaults(createDefaultConfig(), overrides);
    this.pool = new WorkerPool({
      threads: 1,
      maxQueue: 0,
      stages: [],
      parsers: syslogReceiverFactory.parsers?.('syslog', config) ?? [],
      modules: [...(syslogReceiverFactory.workerModules ?? [])],
      logger: silentLogger(),
    });
    const input: PipelineInput = {
      workerStages: [],
      consume: async (batch) => {
        await this.consume(batch as OtlpBatch);
        const request = (batch as OtlpBatch).toMessage() as ExportLogsServiceRequest;
        for (const record of request.resourceLogs?.[0]?.scopeLogs?.[0]?.logRecords ?? []) this.records.push(plainRecord(record));
      },
    };
    this.receiver = syslogReceiverFactory.create({
      id: 'syslog',
      config,
      logger: silentLogger(),
      metrics: this.metrics,
      pool: this.pool,
      storage: undefined as never,
      admission: this.admission,
      consumers: { logs: input },
    }) as SyslogReceiver;
  }

  async start(): Promise<this> {
    await this.receiver.start({} as Host);
    return this;
  }

  async stop(): Promise<void> {
    await this.receiver.shutdown();
    await this.pool.close();
  }

  tcpPort(): number {
    return Number(this.receiver.tcp?.address().split(':').pop());
  }

  udpPort(): number {
    return Number(this.receiver.udp?.address().split(':').pop());
  }

  counter(name: string, labels: Record<string, string>): number {
    const text = this.metrics.registry.render();
    const expected = Object.entries({ receiver: 'syslog', ...labels }).sort(([a], [b]) => a.localeCompare(b)).map(([key, value]) => `${key}="${value}"`).join(',');
    const line = text.split('\n').find((item) => item.startsWith(`${name}{${expected}}`));
    return line ? Number(line.split(' ').pop()) : 0;
  }

  bodies(): string[] {
    return this.records.map((record) => record.body);
  }
}

/** Opens a TCP connection to the receiver on loopback. */
export function connectTcp(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Writes and closes, resolving when the peer has closed too. */
export function sendAndClose(socket: Socket, ...chunks: (string | Buffer)[]): Promise<void> {
  return new Promise((resolve) => {
    socket.on('close', () => resolve());
    socket.on('error', () => resolve());
    for (const chunk of chunks) socket.write(chunk);
    socket.end();
  });
}

export function sendUdp(port: number, ...messages: (string | Buffer)[]): Promise<void> {
  const socket = createSocket('udp4');
  return Promise.all(messages.map((message) => new Promise<void>((resolve, reject) => socket.send(message, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())))))
    .then(() => {
      socket.close();
    });
}
