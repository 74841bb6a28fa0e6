import { builtinRegistry } from '../../core/cli/builtins.js';
import type { Exporter, ExporterFactory, Host } from '../../core/component.js';
import type { Batch } from '../../core/data/batch.js';
import { object } from '../../core/config/schema.js';
import { loadConfigFile } from '../../core/config/load.js';
import { sendJson } from '../../core/admin/server.js';
import { createLogger } from '../../core/logger.js';
import { Service } from '../../core/service.js';
import { ATTACK_PREFIX } from './payload.js';

/*
 * Watchpost as the benchmark runs it: the built-in components plus `bench_sink`, an exporter
 * that counts what reaches it and serves the counts on GET /bench/sink of the admin endpoint.
 * It reads trace ids from the protobuf wire format, so counting costs almost nothing.
 * usage: node --import tsx bench/sampling/daemon.ts CONFIG
 */

interface SinkCounts {
  spans: number;
  metricBatches: number;
  findings: number;
  attackTraces: Set<string>;
}

const counts: SinkCounts = { spans: 0, metricBatches: 0, findings: 0, attackTraces: new Set() };

function readVarint(bytes: Uint8Array, position: number): [number, number] {
  let value = 0;
  let multiplier = 1;
  for (;;) {
    const byte = bytes[position++];
    value += (byte & 0x7f) * multiplier;
    if (byte < 0x80) return [value, position];
    multiplier *= 128;
  }
}

/** Calls `visit` with the value range of every length-delimited field `number` in [start, end). */
function eachField(bytes: Uint8Array, start: number, end: number, number: number, visit: (from: number, to: number) => void): void {
  let position = start;
  while (position < end) {
    const [tag, afterTag] = readVarint(bytes, position);
    const wireType = tag & 7;
    if (wireType === 0) position = readVarint(bytes, afterTag)[1];
    else if (wireType === 1) position = afterTag + 8;
    else if (wireType === 5) position = afterTag + 4;
    else {
      const [length, afterLength] = readVarint(bytes, afterTag);
      if (tag >>> 3 === number) visit(afterLength, afterLength + length);
      position = afterLength + length;
    }
  }
}

function countTraces(bytes: Uint8Array): void {
  eachField(bytes, 0, bytes.length, 1, (resourceStart, resourceEnd) => {
    eachField(bytes, resourceStart, resourceEnd, 2, (scopeStart, scopeEnd) => {
      eachField(bytes, scopeStart, scopeEnd, 2, (spanStart, spanEnd) => {
        counts.spans++;
        eachField(bytes, spanStart, spanEnd, 1, (idStart, idEnd) => {
          if (bytes[idStart] === ATTACK_PREFIX) counts.attackTraces.add(Buffer.from(bytes.subarray(idStart, idEnd)).toString('hex'));
        });
      });
    });
  });
}

const benchSinkFactory: ExporterFactory<Record<string, never>> = {
  kind: 'exporter',
  type: 'bench_sink',
  description: 'Counts spans, attack traces, metric batches and findings for the sampling benchmark.',
  signals: ['traces', 'metrics', 'findings'],
  schema: object({}),
  createDefaultConfig: () => ({}),
  create(): Exporter {
    return {
      async start(host: Host) {
        host.admin.route('GET', '/bench/sink', (_request, response) => sendJson(response, 200, {
          spans: counts.spans, metric_batches: counts.metricBatches, findings: counts.findings, attack_traces: counts.attackTraces.size,
        }));
        host.admin.route('GET', '/bench/memory', (_request, response) => sendJson(response, 200, process.memoryUsage()));
      },
      async shutdown() {},
      async consume(batch: Batch) {
        if (batch.signal === 'traces') countTraces(batch.toBytes());
        else if (batch.signal === 'metrics') counts.metricBatches++;
        else if (batch.signal === 'findings') counts.findings += batch.itemCount;
      },
    };
  },
};

const registry = builtinRegistry().register(benchSinkFactory);
const config = loadConfigFile(process.argv[2], registry);
const logger = createLogger({ level: config.service.telemetry.logs.level });
const service = new Service(config, logger);
process.on('SIGTERM', () => void service.shutdown().then(() => process.exit(0)));
await service.start();
logger.info({ admin: service.adminAddress() }, 'ready');
