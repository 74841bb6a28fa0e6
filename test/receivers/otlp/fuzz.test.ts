import { status as GrpcStatus } from '@grpc/grpc-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeRpcStatus } from '../../../core/otlp/codec.js';
import type { TelemetrySignal } from '../../../core/data/signal.js';
import { grpcExport, httpSend, InProcessWatchpost } from '../../helpers/otlp.js';
import { otlpToFile } from './file-fixture.js';
import { logsProtobuf, metricsProtobuf, span, tracesJson, tracesProtobuf } from './payloads.js';

/** A small seeded generator (mulberry32), so every run sends the same bodies and a failure repeats. */
function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBody(random: () => number, maxLength: number): Buffer {
  const body = Buffer.alloc(1 + Math.floor(random() * maxLength));
  for (let i = 0; i < body.length; i++) body[i] = Math.floor(random() * 256);
  return body;
}

/** Tag bytes with wire type 6 or 7, which no protobuf message may contain. */
const INVALID_WIRE_TYPE_TAGS = [0x0e, 0x0f, 0x16, 0x1f];

/**
 * Cut points strictly inside the first field of a request. A request cut there always ends in
 * the middle of a length-delimited field, so it can never decode.
 */
function cutsInsideFirstField(request: Uint8Array, count: number, random: () => number): number[] {
  let length = 0;
  let shift = 0;
  let index = 1;
  for (; ; index++) {
    length |= (request[index] & 0x7f) << shift;
    shift += 7;
    if ((request[index] & 0x80) === 0) break;
  }
  const fieldEnd = index + 1 + length;
  return Array.from({ length: count }, () => 1 + Math.floor(random() * (fieldEnd - 1)));
}

const VALID: Record<TelemetrySignal, Uint8Array> = {
  traces: tracesProtobuf([span('fuzz base', undefined, undefined, { 'http.request.method': 'GET', 'url.path': '/a', 'client.address': '192.0.2.1' }), span('second', undefined, '2122232425262728')]),
  logs: logsProtobuf(['one', 'two', 'three']),
  metrics: metricsProtobuf([1, 2, 3]),
};

const PROTOBUF = { 'content-type': 'application/x-protobuf' };

describe('OTLP receivers under malformed input', () => {
  const fixture = otlpToFile({ protocols: '      grpc: { endpoint: 127.0.0.1:0 }\n      http: { endpoint: 127.0.0.1:0 }', signals: ['traces', 'logs', 'metrics', 'findings'], processors: ['detection'] });
  let watchpost: InProcessWatchpost;
  let base: string;
  let grpcAddress: string;

  beforeAll(() => {
    watchpost = fixture.watchpost;
    base = `http://${watchpost.endpoint('http')}`;
    grpcAddress = watchpost.endpoint('grpc');
  });

  for (const signal of ['traces', 'logs', 'metrics'] as const) {
    it(`answers random ${signal} bodies over HTTP with 400 or 200`, async () => {
      const random = randomSource(0x5eed + signal.length);
      const statuses = new Map<number, number>();
      for (let i = 0; i < 150; i++) {
        const body = randomBody(random, 600);
        const answer = await httpSend(`${base}/v1/${signal}`, { headers: PROTOBUF, body });
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        // Random bytes may happen to form a valid message (protobuf skips unknown fields), so 200 is allowed.
        expect([200, 400], `body ${body.toString('hex')}`).toContain(answer.status);
        if (answer.status === 400) expect(decodeRpcStatus(answer.body).code).toBe(3);
      }
      expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
    });

    it(`answers ${signal} bodies with an invalid wire type over HTTP with 400`, async () => {
      const random = randomSource(0xbad + signal.length);
      for (const tag of INVALID_WIRE_TYPE_TAGS) {
        const body = Buffer.concat([Buffer.from([tag]), randomBody(random, 100)]);
        const answer = await httpSend(`${base}/v1/${signal}`, { headers: PROTOBUF, body });
        expect(answer.status, `body ${body.toString('hex')}`).toBe(400);
      }
    });

    it(`answers truncated ${signal} requests over HTTP with 400`, async () => {
      const random = randomSource(0xc0ffee + signal.length);
      for (const cut of cutsInsideFirstField(VALID[signal], 40, random)) {
        const answer = await httpSend(`${base}/v1/${signal}`, { headers: PROTOBUF, body: VALID[signal].subarray(0, cut) });
        expect(answer.status, `cut at ${cut} of ${VALID[signal].length}`).toBe(400);
      }
    });

    it(`answers truncated ${signal} requests over gRPC with INVALID_ARGUMENT`, async () => {
      const random = randomSource(0xfeed + signal.length);
      for (const cut of cutsInsideFirstField(VALID[signal], 40, random)) {
        const answer = await grpcExport(grpcAddress, signal, VALID[signal].subarray(0, cut));
        expect(answer.code, `cut at ${cut} of ${VALID[signal].length}`).toBe(GrpcStatus.INVALID_ARGUMENT);
      }
    });

    it(`answers random ${signal} bodies over gRPC with INVALID_ARGUMENT or OK`, async () => {
      const random = randomSource(0xabc + signal.length);
      const codes = new Map<number, number>();
      for (let i = 0; i < 100; i++) {
        const body = randomBody(random, 600);
        const answer = await grpcExport(grpcAddress, signal, body);
        codes.set(answer.code, (codes.get(answer.code) ?? 0) + 1);
        expect([GrpcStatus.OK, GrpcStatus.INVALID_ARGUMENT], `body ${body.toString('hex')}`).toContain(answer.code);
      }
      expect(codes.get(GrpcStatus.INVALID_ARGUMENT) ?? 0).toBeGreaterThan(0);
    });
  }

  it('answers every truncation of a JSON request with 400', async () => {
    const json = tracesJson([span('json fuzz', undefined, undefined, { 'url.query': 'q=1' })]);
    const random = randomSource(0x15);
    for (let i = 0; i < 60; i++) {
      const cut = Math.floor(random() * json.length);
      const answer = await httpSend(`${base}/v1/traces`, { headers: { 'content-type': 'application/json' }, body: json.slice(0, cut) });
      expect(answer.status, `cut at ${cut}: ${json.slice(0, cut)}`).toBe(400);
      expect(JSON.parse(answer.body.toString()).code).toBe(3);
    }
  });

  it('answers JSON of the wrong shape with 400 naming the field', async () => {
    const cases: [string, string][] = [
      ['[]', 'the body must be a JSON object'],
      ['"text"', 'the body must be a JSON object'],
      ['{"resourceSpans": {}}', 'resourceSpans: must be an array'],
      ['{"resourceSpans": [{"scopeSpans": [{"spans": "no"}]}]}', 'resourceSpans[0].scopeSpans[0].spans: must be an array'],
      ['{"resourceSpans": [{"resource": {"attributes": [{"key": 5}]}}]}', 'resourceSpans[0].resource.attributes[0].key: must be a string'],
      ['{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}', 'resourceSpans[0].scopeSpans[0].spans[0].traceId: must be a hex string'],
      ['{"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": -1}]}]}]}', 'resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano: value -1 is out of range'],
    ];
    for (const [body, message] of cases) {
      const answer = await httpSend(`${base}/v1/traces`, { headers: { 'content-type': 'application/json' }, body });
      expect(answer.status, body).toBe(400);
      expect(JSON.parse(answer.body.toString()).message, body).toContain(message);
    }
  });

  it('keeps serving valid requests on both protocols', async () => {
    const http = await httpSend(`${base}/v1/traces`, { headers: PROTOBUF, body: VALID.traces });
    const grpc = await grpcExport(grpcAddress, 'logs', VALID.logs);

    expect(http.status).toBe(200);
    expect(grpc.code).toBe(GrpcStatus.OK);
    expect(watchpost.metric('watchpost_worker_failures_total', { reason: 'task_failed' })).toBe(0);
    expect(watchpost.metric('watchpost_worker_failures_total', { reason: 'worker_error' })).toBe(0);
  });
});
