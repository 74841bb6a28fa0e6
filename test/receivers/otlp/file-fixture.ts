import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { Signal } from '../../../core/data/signal.js';
import { InProcessWatchpost } from '../../helpers/otlp.js';
import { tempDirectory } from '../../helpers/tmp.js';

export interface FileFixtureOptions {
  /** The receiver's `protocols` section, as YAML flow lines indented under it. */
  protocols: string;
  /** Pipelines to run; `findings` takes the findings of the `detection` processor. */
  signals: Signal[];
  /** Processors for the traces and logs pipelines, if any. */
  processors?: string[];
}

/** A running Watchpost whose OTLP receiver writes what it takes to a JSON-lines file. */
export interface FileFixture {
  readonly watchpost: InProcessWatchpost;
  readonly telemetryFile: string;
}

/**
 * Starts Watchpost in this process before the suite's tests, with an OTLP receiver, one worker
 * thread and a `file` exporter for each signal, and stops it after them. Read the fields inside
 * tests or hooks, once it has started.
 */
export function otlpToFile(options: FileFixtureOptions): FileFixture {
  const directory = tempDirectory();
  const telemetryFile = join(directory.path, 'telemetry.jsonl');
  let watchpost: InProcessWatchpost | undefined;
  const processorsFor = (signal: Signal) => (options.processors && (signal === 'traces' || signal === 'logs') ? `processors: [${options.processors.join(', ')}], ` : '');
  const pipeline = (signal: Signal) => (signal === 'findings' ? '    findings: { receivers: [detection], exporters: [file] }' : `    ${signal}: { receivers: [otlp], ${processorsFor(signal)}exporters: [file] }`);
  const processorSection = options.processors ? `processors:\n${options.processors.map((id) => `  ${id}: {}`).join('\n')}\n` : '';

  beforeAll(async () => {
    watchpost = await InProcessWatchpost.start(`
receivers:
  otlp:
    protocols:
${options.protocols}
${processorSection}exporters:
  file: { path: ${telemetryFile} }
service:
  worker_pool: { threads: 1 }
  admin: { endpoint: 127.0.0.1:0 }
  storage: { directory: ${join(directory.path, 'data')} }
  pipelines:
${options.signals.map(pipeline).join('\n')}
`);
  });

  afterAll(async () => {
    await watchpost?.stop();
    directory.cleanup();
  });

  return {
    get watchpost(): InProcessWatchpost {
      if (!watchpost) throw new Error('Watchpost has not started yet');
      return watchpost;
    },
    telemetryFile,
  };
}
