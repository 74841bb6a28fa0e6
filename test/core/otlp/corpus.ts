import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TelemetrySignal } from '../../../core/data/signal.js';

export const OTLP_FIXTURES = resolve(import.meta.dirname, '..', '..', 'fixtures', 'otlp');

/** How Watchpost answers a fixture: whole request accepted, some items rejected, or refused. */
export type Verdict = 'accepted' | 'partial' | 'rejected';

export interface CorpusCase {
  name: string;
  signal: TelemetrySignal;
  json: string;
  protobuf?: Buffer;
  expected: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  verdict: Verdict;
  /** Spans, log records or data points expected to pass, when the fixture says. */
  items?: number;
}

/**
 * Fixtures where Watchpost takes a documented side of a choice the specification leaves open
 * or where it is lenient as the OpenTelemetry Collector is:
 * enum names are accepted, and snake_case keys are read like their lowerCamelCase forms.
 */
const LENIENT: Record<string, Verdict> = {
  edge_logs_invalid_enum_name: 'accepted',
  edge_logs_snake_case_keys: 'accepted',
};

function signalOf(json: Record<string, unknown>): TelemetrySignal {
  if ('resourceSpans' in json || 'resource_spans' in json) return 'traces';
  if ('resourceMetrics' in json || 'resource_metrics' in json) return 'metrics';
  return 'logs';
}

function verdictOf(name: string, expected: Record<string, unknown>): Verdict {
  if (LENIENT[name]) return LENIENT[name];
  if (expected.valid === false) return 'rejected';
  if (expected.valid === 'partial') return 'partial';
  return 'accepted';
}

function itemsOf(expected: Record<string, any>): number | undefined { // eslint-disable-line @typescript-eslint/no-explicit-any
  return expected.spans ?? expected.log_records ?? expected.expected?.spans ?? expected.expected?.log_records;
}

/** Every `X.json` with its `X.expected.json` and, when present, `X.pb`, in the fixture folder and its subfolders. */
export function loadCorpus(directory = OTLP_FIXTURES): CorpusCase[] {
  const cases: CorpusCase[] = [];
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      cases.push(...loadCorpus(join(directory, entry.name)));
      continue;
    }
    if (!entry.name.endsWith('.json') || entry.name.endsWith('.expected.json')) continue;
    const name = entry.name.slice(0, -'.json'.length);
    const json = readFileSync(join(directory, entry.name), 'utf8');
    const expected = JSON.parse(readFileSync(join(directory, `${name}.expected.json`), 'utf8'));
    const pbPath = join(directory, `${name}.pb`);
    cases.push({
      name,
      signal: signalOf(JSON.parse(json)),
      json,
      protobuf: existsSync(pbPath) ? readFileSync(pbPath) : undefined,
      expected,
      verdict: verdictOf(name, expected),
      items: itemsOf(expected),
    });
  }
  return cases.sort((a, b) => a.name.localeCompare(b.name));
}
