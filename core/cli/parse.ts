import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { FactoryRegistry } from '../registry.js';
import { silentLogger } from '../logger.js';
import { WorkerPool } from '../pool/pool.js';
import { decodeRequest, type ExportLogsServiceRequest } from '../otlp/codec.js';
import { toOtlpJson } from '../otlp/json.js';
import { parserFor } from './replay.js';

const CHUNK_LINES = 2000;

/** Parses a file with a receiver's parser and writes one OTLP/JSON log record per line. */
export async function parseFile(registry: FactoryRegistry, format: string, file: string, output: NodeJS.WritableStream): Promise<{ records: number; failed: number }> {
  const parser = { ...parserFor(registry, format), id: 'parse' };
  const pool = new WorkerPool({ threads: 1, maxQueue: 0, stages: [], parsers: [parser], modules: [parser.module], logger: silentLogger() });
  const counts = { records: 0, failed: 0 };
  const flush = async (lines: string[]) => {
    const result = await pool.ingest({ signal: 'logs', payload: { kind: 'lines', parser: 'parse', lines, context: { observedMs: Date.now(), attributes: { 'log.file.path': file } } }, stages: [] });
    counts.failed += result.parseFailures;
    if (!result.bytes) return;
    const json = toOtlpJson('logs', decodeRequest('logs', result.bytes) as ExportLogsServiceRequest) as { resourceLogs?: { scopeLogs?: { logRecords?: unknown[] }[] }[] };
    for (const resource of json.resourceLogs ?? []) {
      for (const scope of resource.scopeLogs ?? []) {
        for (const record of scope.logRecords ?? []) {
          output.write(`${JSON.stringify(record)}\n`);
          counts.records++;
        }
      }
    }
  };
  try {
    let chunk: string[] = [];
    for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
      if (line.length === 0) continue;
      chunk.push(line);
      if (chunk.length >= CHUNK_LINES) {
        await flush(chunk);
        chunk = [];
      }
    }
    if (chunk.length > 0) await flush(chunk);
  } finally {
    await pool.close();
  }
  return counts;
}
