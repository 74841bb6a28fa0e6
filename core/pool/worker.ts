import { Piscina } from 'piscina';
import { decodeRequest, encodeRequest, countItems, type ExportRequest } from '../otlp/codec.js';
import { parseOtlpJson, OtlpJsonError, toOtlpJson } from '../otlp/json.js';
import { Rejections, removeInvalidItems } from '../otlp/validate.js';
import { attributeCounts, canSpliceAttributes, spliceAppendedAttributes } from '../otlp/splice.js';
import type { TelemetrySignal } from '../data/signal.js';
import type { IngestResult, IngestTask, WorkerAnswer, WorkerData } from './pool.js';
import { splitLines } from './text.js';
import type { FrameParser, LineParser, LineParseResult, Stage, WorkerModule } from './worker-api.js';

/*
 * The worker thread. It runs in every pool thread: at load it imports the worker modules of the
 * configured components and builds their parsers and stages once; then it serves tasks.
 */

const data = Piscina.workerData as WorkerData;
const parsers = new Map<string, LineParser>();
const frameParsers = new Map<string, FrameParser>();
const stages = new Map<string, Stage>();
const tasks = new Map<string, (input: never) => unknown>([
  // Runs only after the worker has set up its modules, parsers and stages, so WorkerPool.ready can wait for it.
  ['pool.ping', () => true],
  // OTLP/JSON text of a request, so exporters that write JSON keep the conversion off the main thread.
  ['otlp.to_json', ((input: { signal: TelemetrySignal; bytes: Uint8Array }) => JSON.stringify(toOtlpJson(input.signal, decodeRequest(input.signal, input.bytes)))) as (input: never) => unknown],
]);

async function setUp(): Promise<void> {
  const modules = new Map<string, WorkerModule>();
  for (const url of data.modules) modules.set(url, await import(url) as WorkerModule);
  for (const module of modules.values()) {
    for (const [name, task] of Object.entries(module.tasks ?? {})) tasks.set(name, task);
  }
  for (const spec of data.parsers) {
    const module = modules.get(spec.module);
    const lineFactory = module?.parsers?.[spec.format];
    const frameFactory = module?.frameParsers?.[spec.format];
    if (!lineFactory && !frameFactory) throw new Error(`worker module ${spec.module} has no parser "${spec.format}"`);
    if (lineFactory) parsers.set(spec.id, lineFactory(spec.options));
    if (frameFactory) frameParsers.set(spec.id, frameFactory(spec.options));
  }
  for (const spec of data.stages) {
    const factory = modules.get(spec.module)?.stages?.[spec.kind];
    if (!factory) throw new Error(`worker module ${spec.module} has no stage "${spec.kind}"`);
    stages.set(spec.id, factory(spec.options));
  }
}

await setUp();

/** Decodes or parses the payload, runs the requested stages, and returns compact results. */
export function ingest(task: IngestTask): WorkerAnswer {
  let request: ExportRequest;
  let bytes: Uint8Array | undefined;
  let parseFailures = 0;
  let lines: number | undefined;
  let encode = (changed: ExportRequest) => encodeRequest(task.signal, changed);
  const rejections = new Rejections();
  const payload = task.payload;
  try {
    if (payload.kind === 'otlp_protobuf') {
      request = decodeRequest(task.signal, payload.bytes);
      removeInvalidItems(task.signal, request, rejections);
      // Only a request that lost items needs new bytes; otherwise the sender's bytes go on as they are.
      if (rejections.count > 0) bytes = encodeRequest(task.signal, request);
    } else if (payload.kind === 'otlp_json') {
      request = parseOtlpJson(task.signal, payload.text, rejections);
      bytes = encodeRequest(task.signal, request);
    } else {
      const parsed = parsePayload(payload);
      lines = parsed.lines;
      request = parsed.request;
      parseFailures = parsed.failed;
      if (parsed.encode) encode = parsed.encode;
      if (!task.analysisOnly) bytes = encode(request);
    }
  } catch (error) {
    if (payload.kind === 'otlp_protobuf' || payload.kind === 'otlp_json') return { decodeError: decodeMessage(task, error) };
    throw error;
  }

  const result: IngestResult = { itemCount: countItems(task.signal, request), parseFailures, stages: {} };
  if (lines !== undefined) result.lines = lines;
  if (rejections.count > 0) {
    // A request whose every item is invalid is bad data as a whole, not a partial success.
    if (result.itemCount === 0) return { decodeError: `invalid ${payloadFormat(task)} ${task.signal} request: ${rejections.message()}` };
    result.rejected = rejections.count;
    result.rejectedMessage = rejections.message();
  }
  const counts = !task.analysisOnly && task.stages.length > 0 && canSpliceAttributes(task.signal) ? attributeCounts(task.signal, request) : undefined;
  let modified = false;
  let appendedOnly = true;
  for (const id of task.stages) {
    const stage = stages.get(id);
    if (!stage) throw new Error(`no stage "${id}" is set up in the worker pool`);
    const output = stage.run(task.signal, request);
    result.stages[id] = output.result;
    if (output.modified === true) {
      modified = true;
      appendedOnly &&= output.appendedAttributesOnly === true;
    }
  }
  // Results are structured-cloned, which copies the bytes. Transferring them instead is not
  // safe, because small protobuf buffers may be slices of Node's shared allocation pool.
  if (bytes) result.bytes = bytes;
  if (modified && !task.analysisOnly) {
    const unmarked = bytes ?? (payload as { bytes: Uint8Array }).bytes;
    result.markedBytes = appendedOnly && counts ? markedCopy(task, unmarked, request, counts, encode) : encode(request);
  }
  return { ok: result };
}

/** Adds the attributes the stages appended to the unmarked bytes; encodes the whole request if that fails. */
function markedCopy(task: IngestTask, unmarked: Uint8Array, request: ExportRequest, counts: Uint32Array, encode: (request: ExportRequest) => Uint8Array): Uint8Array {
  try {
    return spliceAppendedAttributes(task.signal, unmarked, request, counts);
  } catch {
    // The splice fails only on bytes whose structure differs from the decoded request. Encoding
    // the request gives the same result, only slower.
    return encode(request);
  }
}

function payloadFormat(task: IngestTask): string {
  return task.payload.kind === 'otlp_json' ? 'OTLP/JSON' : 'OTLP/protobuf';
}

/** Runs the line or frame parser a payload names; for text, also reports how many lines it had. */
function parsePayload(payload: Extract<IngestTask['payload'], { kind: 'lines' | 'text' | 'frames' }>): LineParseResult & { lines?: number } {
  if (payload.kind === 'frames') {
    const parser = frameParsers.get(payload.parser);
    if (!parser) throw new Error(`no frame parser "${payload.parser}" is set up in the worker pool`);
    return parser(payload.frames, payload.context);
  }
  const parser = parsers.get(payload.parser);
  if (!parser) throw new Error(`no parser "${payload.parser}" is set up in the worker pool`);
  if (payload.kind === 'lines') return parser(payload.lines, payload.context);
  const lines = splitLines(payload.bytes);
  return { ...parser(lines, payload.context), lines: lines.length };
}

function decodeMessage(task: IngestTask, error: unknown): string {
  if (error instanceof OtlpJsonError) return `invalid ${payloadFormat(task)} ${task.signal} request: ${error.message}`;
  return `invalid ${payloadFormat(task)} ${task.signal} request: ${error instanceof Error ? error.message : String(error)}`;
}

/** Runs a task that a component's worker module exports. */
export function task(input: { name: string; input: never }): unknown {
  const run = tasks.get(input.name);
  if (!run) throw new Error(`no worker task "${input.name}"`);
  return run(input.input);
}
