import type { TelemetrySignal } from '../../core/data/signal.js';

/** The server's response to an export it accepted: the partial-success fields, 0 and empty on full success. */
export interface ExportAnswer {
  rejected: number;
  errorMessage: string;
}

/** One way to deliver OTLP export requests: gRPC or HTTP/protobuf. */
export interface OtlpTransport {
  /**
   * Sends one export request, given as protobuf bytes, and resolves with the server's response.
   * Rejects with a SendError whose `retryable` follows the OTLP specification for the status.
   */
  send(signal: TelemetrySignal, request: Uint8Array, abort: AbortSignal): Promise<ExportAnswer>;
  /** Closes connections; requests in flight fail. */
  close(): void;
}
