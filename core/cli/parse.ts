import type { FactoryRegistry } from '../registry.js';
import { silentLogger } from '../logger.js';
import { WorkerPool } from '../pool/pool.js';
import { decodeRequest, type ExportLogsServiceRequest } from '../otlp/codec.js';
import { toOtlpJson } from '../otlp/json.js';
import { CHUNK_BYTES, chooseParser, textChunks, writeBounded, type ParserChoice } from './input.js';

interface OtlpJsonLogs {
  resourceLogs?: { scopeLogs?: { logRecords?: unknown[] }[] }[];
}

/**
 * Parses files (`-` for standard input) with a receiver's parser and writes one OTLP/JSON log
 * record per line, in order, unparsed lines included as raw records.
 */
export async function parseFiles(registry: FactoryRegistry, choice: ParserChoice, files: string[], output: NodeJS.WritableStream): Promise<{ records: number; failed: number }> {
  const parser = chooseParser(registry, choice, 'parse');
  const pool = new WorkerPool({ threads: 1, maxQueue: 0, stages: [], parsers: [parser], modules: [parser.module], logger: silentLogger() });
  const counts = { records: 0, failed: 0 };
  try {
    for await (const { file, bytes } of textChunks(files, CHUNK_BYTES)) {
      const result = await pool.ingest({ signal: 'logs', payload: { kind: 'text', parser: 'parse', bytes, context: { observedMs: Date.now(), attributes: { 'log.file.path': file } } }, stages: [] });
      counts.failed += result.parseFailures;
      if (!result.bytes) continue;
      const json = toOtlpJson('logs', decodeRequest('logs', result.bytes) as ExportLogsServiceRequest) as OtlpJsonLogs;
      for (const resource of json.resourceLogs ?? []) {
        for (const scope of resource.scopeLogs ?? []) {
          for (const record of scope.logRecords ?? []) {
            await writeBounded(output, `${JSON.stringify(record)}\n`);
            counts.records++;
          }
        }
      }
    }
  } finally {
    await pool.close();
  }
  return counts;
}
