import type { ExportRequest } from '../otlp/codec.js';
import type { TelemetrySignal } from '../data/signal.js';

/**
 * What a component's worker module may export. The pool's worker loads every module the
 * configured components name and collects these tables; names must be unique across modules.
 */
export interface WorkerModule {
  /** Parsers that turn text lines into OTLP log records, by format name. */
  parsers?: Record<string, LineParserFactory>;
  /** Parsers that turn raw messages (`frames` payloads) into OTLP log records, by format name. */
  frameParsers?: Record<string, FrameParserFactory>;
  /** Analysis stages run on decoded requests, by stage kind. */
  stages?: Record<string, StageFactory>;
  /** Other tasks, run through `WorkerPool.run(name, input)`. */
  tasks?: Record<string, (input: never) => unknown>;
}

export interface LineContext {
  /** Receive time in milliseconds, for records whose text carries no time. */
  observedMs: number;
  /** Attributes every record of the chunk gets, such as `log.file.path`. */
  attributes?: Record<string, string | number | boolean>;
  /** Resource attributes of the request built from the chunk. */
  resource?: Record<string, string>;
}

export interface LineParseResult {
  request: ExportRequest;
  /** Records that could not be parsed and were delivered with the raw text. */
  failed: number;
  /**
   * An encoder faster than the generic one for the records this parser builds. The pool uses it
   * for the request and again after a stage changed the request, so it must encode any request
   * of the signal.
   */
  encode?: (request: ExportRequest) => Uint8Array;
}

export type LineParser = (lines: string[], context: LineContext) => LineParseResult;
export type LineParserFactory = (options: unknown) => LineParser;

/**
 * Messages as raw bytes, for transports whose messages may contain line breaks or bytes that are
 * not valid UTF-8 (syslog over TCP with octet counting, UDP datagrams). Message `i` spans
 * `bytes[ends[i - 1] ?? 0 .. ends[i]]`.
 */
export interface Frames {
  bytes: Uint8Array;
  ends: Uint32Array;
  /** Attributes of single messages, by message index, such as each UDP sender's address; sparse. */
  attributes?: (Record<string, string | number | boolean> | undefined)[];
}

export type FrameParser = (frames: Frames, context: LineContext) => LineParseResult;
export type FrameParserFactory = (options: unknown) => FrameParser;

export interface StageOutput {
  /** A compact, structured-cloneable result for the main thread. */
  result: unknown;
  /** True when the stage changed the request (for example marked spans); the pool then returns new bytes. */
  modified?: boolean;
  /**
   * True when the only change was attributes pushed onto the end of spans' or log records'
   * `attributes` lists. The pool then adds them to the request's bytes in place, which costs far
   * less than encoding the whole request again.
   */
  appendedAttributesOnly?: boolean;
}

/**
 * An analysis stage. A stage may add attributes to the request (detection marks matching spans)
 * but must not remove, reorder or rewrite spans and records. The stages of one task share the
 * request, and their results stay valid when a processor adopts the marked copy.
 */
export interface Stage {
  run(signal: TelemetrySignal, request: ExportRequest): StageOutput;
}

export type StageFactory = (options: unknown) => Stage;
