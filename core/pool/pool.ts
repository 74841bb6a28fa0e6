import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { Logger } from '../logger.js';
import type { TelemetrySignal } from '../data/signal.js';
import type { Frames, LineContext } from './worker-api.js';
import { errorMessage, retryableError, permanentError, WatchpostError } from '../errors.js';
import type { Counter } from '../telemetry/metrics.js';

/** A worker-pool stage to set up in every worker: which module provides it and its options. */
export interface StageSpec {
  /** Unique per stage, usually the processor id. */
  id: string;
  /** The stage kind a worker module exports, such as `detection`. */
  kind: string;
  /** A file URL of the worker module. */
  module: string;
  options: unknown;
}

/** A line parser to set up in every worker. */
export interface ParserSpec {
  /** Unique per parser, usually the receiver id. */
  id: string;
  /** The format a worker module exports, such as `nginx_combined`. */
  format: string;
  module: string;
  options: unknown;
}

export type IngestPayload =
  | { kind: 'otlp_protobuf'; bytes: Uint8Array }
  | { kind: 'otlp_json'; text: string }
  | { kind: 'lines'; parser: string; lines: string[]; context: LineContext }
  /** UTF-8 text of whole lines, split in the worker; for bulk reads such as `watchpost replay` and `parse`. */
  | { kind: 'text'; parser: string; bytes: Uint8Array; context: LineContext }
  | { kind: 'frames'; parser: string; frames: Frames; context: LineContext };

export interface IngestTask {
  signal: TelemetrySignal;
  payload: IngestPayload;
  /** Ids of the stages to run on the decoded request. */
  stages: string[];
  /**
   * Skips encoding the request, so the result has stage results but no bytes. For callers that
   * drop the telemetry and keep only the analysis, such as `watchpost replay`.
   */
  analysisOnly?: boolean;
}

export interface IngestResult {
  itemCount: number;
  /** The protobuf encoding, present when the payload was not protobuf already. */
  bytes?: Uint8Array;
  /** The protobuf encoding after stages changed the request, such as detection marking spans. */
  markedBytes?: Uint8Array;
  /** Lines that could not be parsed and were kept as raw records. */
  parseFailures: number;
  /** Non-empty lines read from a `text` payload. */
  lines?: number;
  /** OTLP items left out because they were invalid, such as a span with a 5-byte trace id; absent when none were. */
  rejected?: number;
  /** The reason the first rejected item was invalid, for the sender's partial-success response. */
  rejectedMessage?: string;
  stages: Record<string, unknown>;
}

/** A worker's answer: a result, or a decode error that the sender must hear about. */
export type WorkerAnswer = { ok: IngestResult } | { decodeError: string };

export interface WorkerData {
  modules: string[];
  stages: StageSpec[];
  parsers: ParserSpec[];
}

export interface WorkerPoolOptions {
  /** Worker threads; 0 means one per core. */
  threads: number;
  /** Tasks that may wait for a free worker before new ones are refused; 0 means 64 per thread. */
  maxQueue: number;
  stages: StageSpec[];
  parsers: ParserSpec[];
  /** Worker modules of the configured components. */
  modules: string[];
  logger: Logger;
  failures?: Counter;
}

/** The running file's extension tells whether we run from TypeScript sources (tests) or from dist/. */
const runningFromSource = import.meta.url.endsWith('.ts');

/**
 * The one piscina pool of the daemon. Receivers send it raw bytes or text; each worker decodes
 * or parses them, runs the configured stages and returns compact results. A task whose worker
 * dies fails with a retryable error, and piscina starts a new worker for the next one.
 */
export class WorkerPool {
  readonly threads: number;
  private readonly piscina: Piscina;
  private readonly logger: Logger;
  private readonly failures?: Counter;
  private closed = false;
  /** Set when `ready` found that workers cannot set up. */
  private setupFailed = false;

  constructor(options: WorkerPoolOptions) {
    this.threads = options.threads > 0 ? options.threads : availableParallelism();
    this.logger = options.logger;
    this.failures = options.failures;
    const workerData: WorkerData = { modules: options.modules, stages: options.stages, parsers: options.parsers };
    this.piscina = new Piscina({
      filename: new URL(runningFromSource ? './dev-worker.mjs' : './worker.js', import.meta.url).href,
      minThreads: this.threads,
      maxThreads: this.threads,
      maxQueue: options.maxQueue > 0 ? options.maxQueue : this.threads * 64,
      idleTimeout: 60_000,
      workerData,
    });
    this.piscina.on('error', (error: unknown) => {
      this.failures?.add({ reason: 'worker_error' });
      this.logger.error({ err: error }, 'worker thread failed; the pool replaces it');
    });
  }

  /** Decodes or parses a payload in a worker and runs the named stages on it. */
  async ingest(task: IngestTask): Promise<IngestResult> {
    if (this.closed) throw retryableError('WP_ERR_SHUTTING_DOWN', 'the worker pool is closed');
    let answer: WorkerAnswer;
    try {
      answer = await this.piscina.run(task, { name: 'ingest' }) as WorkerAnswer;
    } catch (error) {
      throw this.failure(error);
    }
    if ('decodeError' in answer) throw permanentError('WP_ERR_RECEIVER_DECODE', answer.decodeError);
    return answer.ok;
  }

  /** Runs a named task exported by a worker module, for components with their own worker work. */
  async run<R>(name: string, input: unknown): Promise<R> {
    if (this.closed) throw retryableError('WP_ERR_SHUTTING_DOWN', 'the worker pool is closed');
    try {
      return await this.piscina.run({ name, input }, { name: 'task' }) as R;
    } catch (error) {
      throw this.failure(error);
    }
  }

  /**
   * Resolves once a worker has set up the configured modules, parsers and stages and completed a
   * task. Rejects with the setup error of a worker that fails, which every replacement would fail
   * the same way, or after `timeoutMs` (30 s and 2 s per thread, since threads start together
   * and share the CPUs). The daemon checks this before it accepts data.
   */
  async ready(timeoutMs = 30_000 + 2_000 * this.threads): Promise<void> {
    let onError: ((error: unknown) => void) | undefined;
    const failed = new Promise<never>((_resolve, reject) => {
      onError = (error: unknown) => reject(permanentError('WP_ERR_WORKER', `worker threads failed to start: ${errorMessage(error)}`, error));
      this.piscina.once('error', onError);
    });
    try {
      await Promise.race([this.piscina.run({ name: 'pool.ping', input: null }, { name: 'task', signal: AbortSignal.timeout(timeoutMs) }), failed]);
    } catch (error) {
      this.setupFailed = true;
      if (error instanceof WatchpostError) throw error;
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      const reason = timedOut ? `did not start within ${timeoutMs} ms` : `failed to start: ${errorMessage(error)}`;
      throw permanentError('WP_ERR_WORKER', `worker threads ${reason}`, error);
    } finally {
      this.piscina.off('error', onError as (error: unknown) => void);
    }
  }

  /** Converts a protobuf export request to OTLP/JSON text in a worker. */
  toOtlpJson(signal: TelemetrySignal, bytes: Uint8Array): Promise<string> {
    return this.run<string>('otlp.to_json', { signal, bytes });
  }

  /** Tasks waiting for a free worker. */
  get queueSize(): number {
    return this.piscina.queueSize;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // After workers failed to set up, piscina's close() may wait forever for replacements that
    // never start (seen with two threads or more), and the process would then exit without a word.
    if (this.setupFailed) await this.piscina.destroy();
    else await this.piscina.close();
  }

  private failure(error: unknown): WatchpostError {
    const message = error instanceof Error ? error.message : String(error);
    if (/queue is at limit/i.test(message)) {
      this.failures?.add({ reason: 'queue_full' });
      return retryableError('WP_ERR_RECEIVER_OVERLOADED', 'the worker pool queue is full; retry later', error);
    }
    this.failures?.add({ reason: 'task_failed' });
    this.logger.error({ err: error }, 'worker-pool task failed');
    return retryableError('WP_ERR_WORKER', `worker-pool task failed: ${message}`, error);
  }
}
