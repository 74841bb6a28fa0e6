import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ReceiverFactory } from '../component.js';
import type { ServiceConfig } from '../config/load.js';
import type { ParserSpec } from '../pool/pool.js';
import type { FactoryRegistry } from '../registry.js';

/** The choice of line parser for the CLI: a format with its options, or a configured receiver's parser. */
export interface ParserChoice {
  format?: string;
  /** Format options as `key=value` text. */
  options?: string[];
  /** A receiver id of `config`, whose parser and options are used. */
  receiver?: string;
  config?: ServiceConfig;
}

export function knownFormats(registry: FactoryRegistry): string[] {
  const formats = registry.all().flatMap((factory) => (factory.kind === 'receiver' ? [...((factory as ReceiverFactory).lineFormats ?? [])] : []));
  return [...new Set(formats)].sort();
}

function parseOptions(options: string[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const option of options) {
    const equals = option.indexOf('=');
    if (equals <= 0) throw new Error(`invalid --option "${option}"; expected key=value`);
    result[option.slice(0, equals)] = option.slice(equals + 1);
  }
  return result;
}

/** Finds the parser for `parse` and `replay`, through the registry only. */
export function chooseParser(registry: FactoryRegistry, choice: ParserChoice, id: string): ParserSpec {
  if (choice.receiver) {
    const component = choice.config?.receivers.get(choice.receiver);
    if (!component) throw new Error(`--receiver ${choice.receiver}: no such receiver in the config${choice.config ? `; configured: ${[...choice.config.receivers.keys()].join(', ')}` : ' (pass --config FILE)'}`);
    const parsers = (component.factory as ReceiverFactory).parsers?.(choice.receiver, component.config) ?? [];
    if (parsers.length === 0) throw new Error(`--receiver ${choice.receiver}: receiver type ${component.type} reads no text lines`);
    return { ...parsers[0], id };
  }
  const format = choice.format;
  if (!format) throw new Error('choose a format with --format FORMAT, or a configured receiver with --config FILE --receiver ID');
  for (const factory of registry.all()) {
    if (factory.kind !== 'receiver') continue;
    const receiver = factory as ReceiverFactory;
    if (receiver.lineFormats?.includes(format) && receiver.parserForFormat) return receiver.parserForFormat(id, format, parseOptions(choice.options ?? []));
  }
  throw new Error(`unknown format "${format}"; known formats: ${knownFormats(registry).join(', ')}`);
}

/** Total size of the files, for progress; 0 when any is standard input. */
export async function totalBytes(files: string[]): Promise<number> {
  if (files.includes('-')) return 0;
  const sizes = await Promise.all(files.map((file) => stat(file).then((info) => info.size)));
  return sizes.reduce((sum, size) => sum + size, 0);
}

/** Bytes per chunk that `parse` and `replay` read and send to a worker: about 1,300 lines of a typical access log. */
export const CHUNK_BYTES = 256 * 1024;

/** Text held while waiting for a line's end, at most; a longer line is cut there and goes on in pieces. */
const MAX_PARTIAL_LINE = 16 * 1024 * 1024;

/**
 * Reads files (`-` for standard input) as chunks of whole lines, about `chunkBytes` each, as raw
 * bytes that end at a line feed (or at the end of the file). Splitting them into lines is left to
 * the worker threads, which takes that work and the copying of many small strings off the main
 * thread. `onBytes` receives the bytes of each chunk, for progress.
 */
export async function* textChunks(files: string[], chunkBytes: number, onBytes: (bytes: number) => void = () => undefined): AsyncGenerator<{ file: string; bytes: Buffer }> {
  for (const file of files) {
    const input = file === '-' ? process.stdin : createReadStream(file, { highWaterMark: chunkBytes });
    let partial: Buffer[] = [];
    let partialBytes = 0;
    for await (const chunk of input as AsyncIterable<Buffer>) {
      const lastBreak = chunk.lastIndexOf(0x0a);
      if (lastBreak < 0 && partialBytes + chunk.length < MAX_PARTIAL_LINE) {
        partial.push(chunk);
        partialBytes += chunk.length;
        continue;
      }
      const end = lastBreak < 0 ? chunk.length : lastBreak + 1;
      const bytes = Buffer.concat([...partial, chunk.subarray(0, end)]);
      partial = end < chunk.length ? [chunk.subarray(end)] : [];
      partialBytes = chunk.length - end;
      onBytes(bytes.length);
      yield { file, bytes };
    }
    if (partialBytes > 0) {
      const bytes = Buffer.concat(partial);
      onBytes(bytes.length);
      yield { file, bytes };
    }
  }
}

/** Writes text, waiting while the stream's buffer is full, so output to a slow pipe stays bounded. */
export async function writeBounded(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (stream.write(text)) return;
  await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
}
