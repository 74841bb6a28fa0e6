import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { eventFromFields, type ExtractOptions, type HttpEvent } from '../../processors/detection/event.js';

/*
 * The labelled request corpus under test/fixtures/detection/attacks (see the README there):
 * one row per request with its attack class, joined with the OWASP CRS regression records for
 * the request headers those tests send. Tests and the detection benchmark read it from here.
 */

const ATTACKS = resolve(import.meta.dirname, '..', 'fixtures', 'detection', 'attacks');

export type CorpusSource = 'crs' | 'crowdsec-hub' | 'libinjection';

export interface LabeledRequest {
  /** Row number in the TSV, counting the header as row 1. */
  row: number;
  label: string;
  method: string;
  /** The request target as the row gives it: path and query, percent-encoded or not. */
  uri: string;
  userAgent: string;
  /** Request headers other than User-Agent that the request carried, lower-case names. */
  headers: Record<string, string>;
  source: string;
  sourceKind: CorpusSource;
}

/** Undoes the TSV's escaping: control bytes are written as `\xNN`; every other character is literal. */
function unescapeField(text: string): string {
  if (text.indexOf('\\x') < 0) return text;
  return text.replace(/\\x([0-9a-fA-F]{2})/g, (whole, hex: string) => {
    const code = parseInt(hex, 16);
    return code < 0x20 || code === 0x7f ? String.fromCharCode(code) : whole;
  });
}

function crsHeaders(): Map<string, Record<string, string>> {
  const headers = new Map<string, Record<string, string>>();
  for (const line of readFileSync(join(ATTACKS, 'crs_regression_all.jsonl'), 'utf8').split('\n')) {
    if (!line) continue;
    const record = JSON.parse(line) as { rule_id: number; test_id: number; extra_headers?: Record<string, string> };
    const extra = Object.entries(record.extra_headers ?? {});
    if (extra.length > 0) headers.set(`${record.rule_id}#${record.test_id}`, Object.fromEntries(extra.map(([name, value]) => [name.toLowerCase(), value])));
  }
  return headers;
}

/** Reads the Referer payload that some CrowdSec rows note in their source column. */
function refererOf(source: string): string | undefined {
  const marker = '[payload in Referer: ';
  const at = source.indexOf(marker);
  return at < 0 ? undefined : source.slice(at + marker.length, source.lastIndexOf(']'));
}

let cached: LabeledRequest[] | undefined;

/** Reads labeled_requests_all.tsv, once per process. */
export function labeledRequests(): LabeledRequest[] {
  if (cached) return cached;
  const extraHeaders = crsHeaders();
  const rows: LabeledRequest[] = [];
  const lines = readFileSync(join(ATTACKS, 'labeled_requests_all.tsv'), 'utf8').split('\n');
  lines.forEach((line, index) => {
    if (index === 0 || !line) return;
    const [label, method, uri, userAgent, source] = line.split('\t');
    const sourceKind = source.split(':')[0] as CorpusSource;
    const headers: Record<string, string> = {};
    if (sourceKind === 'crs') Object.assign(headers, extraHeaders.get(source.slice(4).split(' ')[0]) ?? {});
    const referer = refererOf(source);
    if (referer !== undefined) headers.referer = referer;
    rows.push({ row: index + 1, label, method, uri: unescapeField(uri), userAgent: unescapeField(userAgent), headers, source, sourceKind });
  });
  cached = rows;
  return rows;
}

/** The labels a detector for one attack class is judged on, and the rows it must stay quiet on. */
export function rowsLabeled(label: string): LabeledRequest[] {
  return labeledRequests().filter((row) => row.label === label);
}

/** Lists the fields a SERVER span of this request would carry, with the headers as `http.request.header.*` attributes. */
export function requestFields(request: LabeledRequest): Record<string, unknown> {
  const question = request.uri.indexOf('?');
  const fields: Record<string, unknown> = {
    'http.request.method': request.method,
    'url.path': question >= 0 ? request.uri.slice(0, question) : request.uri,
    'client.address': '192.0.2.10',
    'http.response.status_code': 200,
  };
  if (question >= 0) fields['url.query'] = request.uri.slice(question + 1);
  if (request.userAgent && request.userAgent !== '-') fields['user_agent.original'] = request.userAgent;
  for (const [name, value] of Object.entries(request.headers)) fields[`http.request.header.${name}`] = value;
  return fields;
}

/** Builds the HTTP event of a request, as event extraction builds it from a span. */
export function requestEvent(request: LabeledRequest, options?: ExtractOptions, time = Date.UTC(2024, 0, 1)): HttpEvent {
  return eventFromFields(requestFields(request), time, options);
}
