import { countItems, decodeRequest, encodeRequest, type ExportRequest } from '../otlp/codec.js';
import type { TelemetrySignal } from './signal.js';
import type { Finding } from './finding.js';

/** Where a batch came from, for metrics, logs and detection. */
export interface BatchOrigin {
  /** The receiver id, such as `otlp` or `gatewaylog/nginx`. */
  receiver: string;
  /** The peer address of the connection, when the transport has one. */
  peerAddress?: string;
}

/**
 * One OTLP export request travelling through a pipeline.
 *
 * A batch holds its protobuf bytes, its decoded message, or both, and converts lazily, because
 * most batches only need one form: the `otlp` exporter forwards the original bytes of a batch
 * nobody changed, and the `file` exporter needs the decoded message. Code that changes the
 * message must call `mutate`, which drops the stale bytes and bumps `version`, so that results
 * computed on an older version (such as the worker-pool analysis) are not reused.
 */
export class OtlpBatch {
  readonly signal: TelemetrySignal;
  readonly origin: BatchOrigin;
  /** Spans, log records or data points in the batch. */
  itemCount: number;
  /** Increases with every change to the message. */
  version = 0;
  /** Results of worker-pool stages keyed by stage id, valid for `analysisVersion`. */
  analysis = new Map<string, unknown>();
  analysisVersion = 0;
  /**
   * The request with worker stages' changes applied (detection marks matching spans and log
   * records), valid for `analysisVersion`. The processor that asked for the stage adopts it.
   */
  markedBytes: Uint8Array | undefined;
  private bytes: Uint8Array | undefined;
  private message: ExportRequest | undefined;

  private constructor(signal: TelemetrySignal, origin: BatchOrigin, itemCount: number) {
    this.signal = signal;
    this.origin = origin;
    this.itemCount = itemCount;
  }

  static fromBytes(signal: TelemetrySignal, bytes: Uint8Array, itemCount: number, origin: BatchOrigin): OtlpBatch {
    const batch = new OtlpBatch(signal, origin, itemCount);
    batch.bytes = bytes;
    return batch;
  }

  static fromMessage(signal: TelemetrySignal, message: ExportRequest, origin: BatchOrigin): OtlpBatch {
    const batch = new OtlpBatch(signal, origin, countItems(signal, message));
    batch.message = message;
    return batch;
  }

  /** Returns the protobuf encoding, encoding the message if it changed since it was decoded. */
  toBytes(): Uint8Array {
    this.bytes ??= encodeRequest(this.signal, this.message as ExportRequest);
    return this.bytes;
  }

  /** Returns the decoded message for reading. Call `mutate` to change it. */
  toMessage(): ExportRequest {
    this.message ??= decodeRequest(this.signal, this.bytes as Uint8Array);
    return this.message;
  }

  /** Returns a worker-stage result if it still describes the current content. */
  analysisFor<T>(stageId: string): T | undefined {
    return this.analysisVersion === this.version ? this.analysis.get(stageId) as T | undefined : undefined;
  }

  /** Whether the original bytes are still valid, so an exporter may forward them as they are. */
  hasOriginalBytes(): boolean {
    return this.bytes !== undefined;
  }

  /** Changes the message in place; the cached bytes and analysis become stale. */
  mutate(change: (message: ExportRequest) => void): void {
    const message = this.toMessage();
    change(message);
    this.bytes = undefined;
    this.version++;
    this.itemCount = countItems(this.signal, message);
  }

  /**
   * Replaces the whole batch content with new protobuf bytes, such as a worker's marked copy.
   * Adopting `markedBytes` keeps the stage results valid, because every stage of that worker
   * task read the same spans and records, and stages only add attributes (see `Stage`); any
   * other replacement makes them stale.
   */
  replaceBytes(bytes: Uint8Array, itemCount: number): void {
    const adoptsMarked = bytes === this.markedBytes && this.analysisVersion === this.version;
    this.bytes = bytes;
    this.markedBytes = undefined;
    this.message = undefined;
    this.version++;
    this.itemCount = itemCount;
    if (adoptsMarked) this.analysisVersion = this.version;
  }

  /**
   * Returns a copy for another pipeline. The copy shares the immutable bytes and the analysis,
   * so fan-out to several pipelines costs no encoding; a decoded message is not shared, because
   * each pipeline may change its own.
   */
  fork(): OtlpBatch {
    const copy = new OtlpBatch(this.signal, this.origin, this.itemCount);
    copy.bytes = this.toBytes();
    copy.version = this.version;
    copy.analysis = new Map(this.analysis);
    copy.analysisVersion = this.analysisVersion;
    copy.markedBytes = this.markedBytes;
    return copy;
  }
}

/** A list of findings travelling through a findings pipeline. */
export class FindingsBatch {
  readonly signal = 'findings' as const;
  readonly findings: Finding[];
  readonly origin: BatchOrigin;

  constructor(findings: Finding[], origin: BatchOrigin) {
    this.findings = findings;
    this.origin = origin;
  }

  get itemCount(): number {
    return this.findings.length;
  }

  fork(): FindingsBatch {
    return new FindingsBatch(this.findings, this.origin);
  }
}

export type Batch = OtlpBatch | FindingsBatch;
