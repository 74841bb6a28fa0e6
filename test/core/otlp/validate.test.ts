import Long from 'long';
import { describe, expect, it } from 'vitest';
import { countItems, decodeRequest, encodeRequest, type ExportLogsServiceRequest, type ExportMetricsServiceRequest, type ExportTraceServiceRequest } from '../../../core/otlp/codec.js';
import { Rejections, removeInvalidItems } from '../../../core/otlp/validate.js';

const TRACE_ID = Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex');
const SPAN_ID = Buffer.from('b7ad6b7169203331', 'hex');

function decodedTraces(spans: Record<string, unknown>[]): ExportTraceServiceRequest {
  return decodeRequest('traces', encodeRequest('traces', { resourceSpans: [{ scopeSpans: [{ spans }] }] })) as ExportTraceServiceRequest;
}

describe('removeInvalidItems', () => {
  it('leaves a valid request untouched', () => {
    const request = decodedTraces([{ traceId: TRACE_ID, spanId: SPAN_ID }, { name: 'no ids' }]);
    const spans = request.resourceSpans?.[0].scopeSpans?.[0].spans;
    const rejections = new Rejections();

    removeInvalidItems('traces', request, rejections);

    expect(rejections.count).toBe(0);
    expect(request.resourceSpans?.[0].scopeSpans?.[0].spans).toBe(spans);
  });

  it('removes spans with a bad trace, span, parent or link id', () => {
    const request = decodedTraces([
      { name: 'keep', traceId: TRACE_ID, spanId: SPAN_ID },
      { name: 'trace', traceId: TRACE_ID.subarray(0, 15), spanId: SPAN_ID },
      { name: 'span', traceId: TRACE_ID, spanId: Buffer.alloc(9) },
      { name: 'parent', traceId: TRACE_ID, spanId: SPAN_ID, parentSpanId: Buffer.alloc(4) },
      { name: 'link', traceId: TRACE_ID, spanId: SPAN_ID, links: [{ traceId: TRACE_ID, spanId: Buffer.alloc(1) }] },
      { name: 'keep too', traceId: TRACE_ID, spanId: SPAN_ID },
    ]);
    const rejections = new Rejections();

    removeInvalidItems('traces', request, rejections);

    expect(request.resourceSpans?.[0].scopeSpans?.[0].spans?.map((span) => span.name)).toEqual(['keep', 'keep too']);
    expect(rejections.count).toBe(4);
    expect(rejections.message()).toBe('resourceSpans[0].scopeSpans[0].spans[1].traceId: must be 16 bytes (32 hex digits), got 15 bytes (and 3 more rejected)');
  });

  it('names each kind of bad id', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ spanId: Buffer.alloc(9) }, 'spans[0].spanId: must be 8 bytes'],
      [{ parentSpanId: Buffer.alloc(4) }, 'spans[0].parentSpanId: must be 8 bytes'],
      [{ links: [{ traceId: Buffer.alloc(3) }] }, 'spans[0].links[0].traceId: must be 16 bytes'],
    ];
    for (const [span, message] of cases) {
      const rejections = new Rejections();
      removeInvalidItems('traces', decodedTraces([span]), rejections);
      expect(rejections.message(), message).toContain(message);
    }
  });

  it('removes log records with a bad id', () => {
    const request = decodeRequest('logs', encodeRequest('logs', {
      resourceLogs: [{ scopeLogs: [{ logRecords: [{ traceId: Buffer.alloc(16) }, { spanId: Buffer.alloc(2) }, {}] }] }],
    })) as ExportLogsServiceRequest;
    const rejections = new Rejections();

    removeInvalidItems('logs', request, rejections);

    expect(countItems('logs', request)).toBe(2);
    expect(rejections.message()).toBe('resourceLogs[0].scopeLogs[0].logRecords[1].spanId: must be 8 bytes (16 hex digits), got 2 bytes');
  });

  it('removes data points whose exemplars have a bad id', () => {
    const request = decodeRequest('metrics', encodeRequest('metrics', {
      resourceMetrics: [{
        scopeMetrics: [{
          metrics: [
            { name: 'h', histogram: { dataPoints: [{ count: Long.fromNumber(1, true), exemplars: [{ traceId: TRACE_ID, spanId: SPAN_ID }] }, { count: Long.fromNumber(2, true), exemplars: [{ traceId: Buffer.alloc(5) }] }] } },
            { name: 's', summary: { dataPoints: [{ count: Long.fromNumber(1, true) }] } },
          ],
        }],
      }],
    })) as ExportMetricsServiceRequest;
    const rejections = new Rejections();

    removeInvalidItems('metrics', request, rejections);

    expect(countItems('metrics', request)).toBe(2);
    expect(rejections.message()).toBe('resourceMetrics[0].scopeMetrics[0].metrics[0].histogram.dataPoints[1].exemplars[0].traceId: must be 16 bytes (32 hex digits), got 5 bytes');
  });
});
