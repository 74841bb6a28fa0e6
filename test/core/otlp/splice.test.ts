import { describe, expect, it } from 'vitest';
import Long from 'long';
import { decodeRequest, encodeRequest, type ExportLogsServiceRequest, type ExportRequest, type ExportTraceServiceRequest } from '../../../core/otlp/codec.js';
import { keyValue, toAttributes } from '../../../core/otlp/attributes.js';
import { toOtlpJson } from '../../../core/otlp/json.js';
import { attributeCounts, spliceAppendedAttributes } from '../../../core/otlp/splice.js';
import { encodeBatches } from '../../../bench/otlp/spans.js';

function marksEvery(step: number) {
  return (item: { attributes?: unknown[] | null }, index: number) => {
    if (index % step !== 0) return;
    if (!Object.hasOwn(item, 'attributes') || !item.attributes) item.attributes = [];
    (item.attributes as unknown[]).push(keyValue('watchpost.detection.rule_ids', ['sqli', `rule-${index}`]));
  };
}

function spans(request: ExportTraceServiceRequest) {
  return (request.resourceSpans ?? []).flatMap((resource) => (resource.scopeSpans ?? []).flatMap((scope) => scope.spans ?? []));
}

/** Decodes both encodings and compares them as OTLP/JSON. */
function expectSameRequest(signal: 'traces' | 'logs', spliced: Uint8Array, expected: ExportRequest): void {
  expect(toOtlpJson(signal, decodeRequest(signal, spliced))).toEqual(toOtlpJson(signal, decodeRequest(signal, encodeRequest(signal, expected))));
}

describe('spliceAppendedAttributes', () => {
  it('matches a full encoding for marked spans', () => {
    for (const step of [1, 2, 7, 30, 511]) {
      const bytes = encodeBatches(1, step)[0];
      const request = decodeRequest('traces', bytes) as ExportTraceServiceRequest;
      const counts = attributeCounts('traces', request);
      spans(request).forEach(marksEvery(step));

      const spliced = spliceAppendedAttributes('traces', bytes, request, counts);

      expect(spliced.length, `every ${step}`).toBeGreaterThan(bytes.length);
      expectSameRequest('traces', spliced, request);
    }
  });

  it('keeps fields it does not know and the order of resources and scopes', () => {
    const original = {
      resourceSpans: [
        { resource: { attributes: toAttributes({ 'service.name': 'a' }) }, scopeSpans: [{ scope: { name: 's1' }, spans: [{ name: 'no attributes' }, { name: 'one', attributes: toAttributes({ k: 'v' }) }] }, { scope: { name: 's2' }, spans: [] }], schemaUrl: 'u' },
        { scopeSpans: [{ spans: [{ name: 'far', startTimeUnixNano: Long.fromString('18446744073709551615', true) }] }] },
      ],
    };
    const unknownField = Buffer.from([0xa8, 0x1f, 0x05]);
    const bytes = Buffer.concat([encodeRequest('traces', original), unknownField]);
    const request = decodeRequest('traces', bytes) as ExportTraceServiceRequest;
    const counts = attributeCounts('traces', request);
    spans(request).forEach(marksEvery(1));

    const spliced = spliceAppendedAttributes('traces', bytes, request, counts);

    expectSameRequest('traces', spliced, request);
    expect(Buffer.from(spliced.subarray(spliced.length - 3)).equals(unknownField)).toBe(true);
    expect(spans(decodeRequest('traces', spliced) as ExportTraceServiceRequest).map((span) => span.attributes?.length)).toEqual([1, 2, 1]);
  });

  it('marks log records', () => {
    const bytes = encodeRequest('logs', { resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'a' } }, { body: { stringValue: 'b' }, attributes: toAttributes({ x: 1 }) }] }] }] });
    const request = decodeRequest('logs', bytes) as ExportLogsServiceRequest;
    const counts = attributeCounts('logs', request);
    request.resourceLogs![0].scopeLogs![0].logRecords!.forEach(marksEvery(1));

    const spliced = spliceAppendedAttributes('logs', bytes, request, counts);

    expectSameRequest('logs', spliced, request);
  });

  it('returns the bytes unchanged when nothing was appended', () => {
    const bytes = encodeBatches(1, 3)[0];
    const request = decodeRequest('traces', bytes);

    expect(spliceAppendedAttributes('traces', bytes, request, attributeCounts('traces', request))).toBe(bytes);
  });

  it('grows length prefixes that need another byte', () => {
    // A span of 120 bytes has a 1-byte length; 20 more bytes of attributes need a 2-byte one.
    const bytes = encodeRequest('traces', { resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'x'.repeat(110) }] }] }] });
    const request = decodeRequest('traces', bytes) as ExportTraceServiceRequest;
    const counts = attributeCounts('traces', request);
    spans(request).forEach(marksEvery(1));

    expectSameRequest('traces', spliceAppendedAttributes('traces', bytes, request, counts), request);
  });

  it('refuses bytes that do not match the request', () => {
    const bytes = encodeBatches(1, 5)[0];
    const request = decodeRequest('traces', bytes) as ExportTraceServiceRequest;
    const counts = attributeCounts('traces', request);
    spans(request).forEach(marksEvery(2));
    const other = encodeRequest('traces', { resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'one span only' }] }] }] });

    expect(() => spliceAppendedAttributes('traces', other, request, counts)).toThrow('the bytes hold 1 items but the request has 512');
    expect(() => spliceAppendedAttributes('traces', bytes.subarray(0, 1000), request, counts)).toThrow();
  });
});
