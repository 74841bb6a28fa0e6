// Worker-side cost of each stage of syslog ingest, in one thread: parsing a batch of RFC 5424
// messages into log records, protobuf encoding, detection, and the file exporter's conversions.
// usage: node --import tsx bench/syslog/stages.ts [BATCH=1000] [ROUNDS=7]
import { decodeRequest, encodeRequest, type ExportLogsServiceRequest } from '../../core/otlp/codec.js';
import { toOtlpJson } from '../../core/otlp/json.js';
import type { Frames } from '../../core/pool/worker-api.js';
import { logsToText } from '../../exporters/file/text.js';
import { createDefaultConfig } from '../../processors/detection/config.js';
import { rulesFor } from '../../processors/detection/factory.js';
import { DetectionStage } from '../../processors/detection/worker.js';
import { OtlpLogsEncoder } from '../../receivers/helper/otlp-logs.js';
import { frameParser } from '../../receivers/syslog/worker.js';
// @ts-expect-error: a plain ES module shared with the load generator.
import { chunk } from './lines.mjs';

const BATCH = Number(process.argv[2] ?? 1000);
const ROUNDS = Number(process.argv[3] ?? 7);

function frames(): Frames {
  const data: Buffer = chunk(0, BATCH);
  const ends: number[] = [];
  for (let i = data.indexOf(10); i >= 0; i = data.indexOf(10, i + 1)) ends.push(i + 1);
  return { bytes: data, ends: Uint32Array.from(ends) };
}

/**
 * Runs `step` ROUNDS times after a warm-up and returns the cheapest round in CPU microseconds per
 * message. CPU time, not wall time, because the machine may be shared; it includes V8's garbage
 * collection threads.
 */
function measure(step: () => unknown): number {
  for (let i = 0; i < 20; i++) step();
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.cpuUsage();
    for (let i = 0; i < 10; i++) step();
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / 10 / BATCH);
  }
  return best;
}

const batch = frames();
const context = { observedMs: Date.now(), attributes: { 'network.transport': 'tcp', 'network.peer.address': '127.0.0.1', 'network.peer.port': 40000 } };
const parse = frameParser({ protocol: 'auto', location: 'UTC', allow_skip_pri_header: false });
const detection = new DetectionStage({ rules: rulesFor(createDefaultConfig()), markAttribute: 'watchpost.detection.rule_ids' });
const request = parse(batch, context).request as ExportLogsServiceRequest;
const bytes = encodeRequest('logs', request);
const encoder = new OtlpLogsEncoder();

const results: [string, number][] = [
  ['parse into records', measure(() => parse(batch, context))],
  ['protobuf encode, protobufjs', measure(() => encodeRequest('logs', request))],
  ['protobuf encode, OtlpLogsEncoder', measure(() => encoder.encode(request))],
  ['detection stage', measure(() => detection.run('logs', request))],
  ['file exporter, OTLP/JSON', measure(() => JSON.stringify(toOtlpJson('logs', decodeRequest('logs', bytes))))],
  ['file exporter, text lines', measure(() => logsToText(bytes))],
];
console.log(`batch of ${BATCH} RFC 5424 messages, ${bytes.length} protobuf bytes, cheapest of ${ROUNDS} rounds, CPU time`);
for (const [name, micros] of results) console.log(`${name.padEnd(40)} ${micros.toFixed(2).padStart(7)} CPU µs/message`);
