import { request as httpRequest } from 'node:http';
import { deflateSync, gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeResponse, decodeRpcStatus, encodeRequest } from '../../../core/otlp/codec.js';
import { waitFor } from '../../helpers/wait.js';
import { httpSend, InProcessWatchpost } from '../../helpers/otlp.js';
import { otlpToFile } from './file-fixture.js';
import { logsProtobuf, metricsProtobuf, readJsonLines, span, spansOf, tracesJson, tracesProtobuf } from './payloads.js';

const PROTOBUF = { 'content-type': 'application/x-protobuf' };
const JSON_TYPE = { 'content-type': 'application/json' };

describe('OTLP/HTTP receiver', () => {
  const fixture = otlpToFile({ protocols: '      http: { endpoint: 127.0.0.1:0, max_request_body_size: 65536 }', signals: ['traces', 'logs'] });
  const { telemetryFile } = fixture;
  let watchpost: InProcessWatchpost;
  let base: string;

  beforeAll(() => {
    watchpost = fixture.watchpost;
    base = `http://${watchpost.endpoint('http')}`;
  });

  it('accepts protobuf and answers with an empty protobuf response', async () => {
    const answer = await httpSend(`${base}/v1/traces`, { headers: PROTOBUF, body: tracesProtobuf([span('protobuf span')]) });

    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/x-protobuf');
    expect(answer.body.length).toBe(0);
    const stored = await waitFor(() => spansOf(readJsonLines(telemetryFile)).find((item) => item.name === 'protobuf span'), 10_000, 'the span in the file');
    expect(stored.traceId).toBe('0102030405060708090a0b0c0d0e0f10');
    expect(stored.startTimeUnixNano).toBe('1700000000000000001');
  });

  it('accepts JSON and answers with an empty JSON object', async () => {
    const answer = await httpSend(`${base}/v1/traces`, { headers: { 'content-type': 'application/json; charset=utf-8' }, body: tracesJson([span('json span')]) });

    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(JSON.parse(answer.body.toString())).toEqual({});
    await waitFor(() => spansOf(readJsonLines(telemetryFile)).some((item) => item.name === 'json span'), 10_000, 'the JSON span in the file');
  });

  it('accepts logs', async () => {
    const answer = await httpSend(`${base}/v1/logs`, { headers: PROTOBUF, body: logsProtobuf(['first record', 'second record']) });

    expect(answer.status).toBe(200);
    expect(watchpost.metric('watchpost_receiver_accepted_items_total', { receiver: 'otlp', signal: 'logs' })).toBe(2);
  });

  it('accepts gzip and deflate bodies', async () => {
    const gzipped = await httpSend(`${base}/v1/traces`, { headers: { ...PROTOBUF, 'content-encoding': 'gzip' }, body: gzipSync(tracesProtobuf([span('gzip span')])) });
    const deflated = await httpSend(`${base}/v1/traces`, { headers: { ...JSON_TYPE, 'content-encoding': 'deflate' }, body: deflateSync(tracesJson([span('deflate span')])) });

    expect(gzipped.status).toBe(200);
    expect(deflated.status).toBe(200);
    await waitFor(() => {
      const names = spansOf(readJsonLines(telemetryFile)).map((item) => item.name);
      return names.includes('gzip span') && names.includes('deflate span');
    }, 10_000, 'both compressed spans in the file');
  });

  it('answers partial success with the rejected count', async () => {
    const body = tracesProtobuf([span('good span'), span('bad span', '0102030405')]);

    const answer = await httpSend(`${base}/v1/traces`, { headers: PROTOBUF, body });

    expect(answer.status).toBe(200);
    const response = decodeResponse('traces', answer.body);
    expect(response.rejected).toBe(1);
    expect(response.errorMessage).toContain('resourceSpans[0].scopeSpans[0].spans[1].traceId: must be 16 bytes');
    await waitFor(() => spansOf(readJsonLines(telemetryFile)).some((item) => item.name === 'good span'), 10_000, 'the valid span in the file');
    expect(spansOf(readJsonLines(telemetryFile)).some((item) => item.name === 'bad span')).toBe(false);
  });

  it('answers JSON partial success in JSON', async () => {
    const json = JSON.parse(tracesJson([span('good json span'), span('bad json span')]));
    json.resourceSpans[0].scopeSpans[0].spans[1].endTimeUnixNano = '18446744073709551616';

    const answer = await httpSend(`${base}/v1/traces`, { headers: JSON_TYPE, body: JSON.stringify(json) });

    expect(answer.status).toBe(200);
    const body = JSON.parse(answer.body.toString());
    expect(body.partialSuccess.rejectedSpans).toBe('1');
    expect(body.partialSuccess.errorMessage).toContain('resourceSpans[0].scopeSpans[0].spans[1].endTimeUnixNano: value 18446744073709551616 is out of range for fixed64');
  });

  it('rejects a request whose every item is invalid with 400', async () => {
    const answer = await httpSend(`${base}/v1/traces`, { headers: PROTOBUF, body: tracesProtobuf([span('short span id', undefined, '0102')]) });

    expect(answer.status).toBe(400);
    const status = decodeRpcStatus(answer.body);
    expect(status.code).toBe(3);
    expect(status.message).toContain('spans[0].spanId: must be 8 bytes');
  });

  it('rejects malformed protobuf with a google.rpc.Status', async () => {
    const answer = await httpSend(`${base}/v1/logs`, { headers: PROTOBUF, body: Buffer.from([0x0a, 0xff, 0x01, 0x02]) });

    expect(answer.status).toBe(400);
    expect(answer.headers['content-type']).toBe('application/x-protobuf');
    const status = decodeRpcStatus(answer.body);
    expect(status.code).toBe(3);
    expect(status.message).toMatch(/^invalid OTLP\/protobuf logs request: /);
  });

  it('rejects malformed JSON with a JSON status', async () => {
    const answer = await httpSend(`${base}/v1/logs`, { headers: JSON_TYPE, body: '{"resourceLogs": [' });

    expect(answer.status).toBe(400);
    expect(answer.headers['content-type']).toBe('application/json');
    const status = JSON.parse(answer.body.toString());
    expect(status.code).toBe(3);
    expect(status.message).toContain('invalid JSON');
  });

  it('answers 405 with Allow for GET', async () => {
    const answer = await httpSend(`${base}/v1/traces`, { method: 'GET' });

    expect(answer.status).toBe(405);
    expect(answer.headers.allow).toBe('POST');
  });

  it('answers 404 for an unknown path and an unpiped signal', async () => {
    const unknown = await httpSend(`${base}/v1/profiles`, { headers: PROTOBUF, body: Buffer.alloc(0) });
    const metrics = await httpSend(`${base}/v1/metrics`, { headers: PROTOBUF, body: metricsProtobuf([1]) });

    expect(unknown.status).toBe(404);
    expect(metrics.status).toBe(404);
    expect(decodeRpcStatus(metrics.body).message).toContain('no pipeline takes metrics');
  });

  it('answers 415 for an unsupported content type or encoding', async () => {
    const type = await httpSend(`${base}/v1/traces`, { headers: { 'content-type': 'text/plain' }, body: 'hello' });
    const encoding = await httpSend(`${base}/v1/traces`, { headers: { ...PROTOBUF, 'content-encoding': 'br' }, body: Buffer.from([1]) });

    expect(type.status).toBe(415);
    expect(JSON.parse(type.body.toString()).message).toContain('unsupported content type "text/plain"');
    expect(encoding.status).toBe(415);
  });

  it('answers 413 for a body declared over the limit', async () => {
    const answer = await httpSend(`${base}/v1/traces`, { headers: PROTOBUF, body: Buffer.alloc(70_000) });

    expect(answer.status).toBe(413);
    expect(decodeRpcStatus(answer.body).message).toContain('larger than the limit of 65536 bytes');
  });

  it('answers 413 for a small gzip body that expands past the limit', async () => {
    const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(65536);

    const answer = await httpSend(`${base}/v1/traces`, { headers: { ...PROTOBUF, 'content-encoding': 'gzip' }, body: bomb });

    expect(answer.status).toBe(413);
  });

  it('answers 413 for a chunked body past the limit', async () => {
    const answer = await new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
      const request = httpRequest(`${base}/v1/traces`, { method: 'POST', headers: PROTOBUF }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
      });
      // The server closes the connection after its response, which may cut the upload short.
      request.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
      });
      const piece = Buffer.alloc(16 * 1024, 0x20);
      for (let sent = 0; sent < 200 * 1024; sent += piece.length) request.write(piece);
      request.end();
    });

    expect(answer.status).toBe(413);
    expect(decodeRpcStatus(answer.body).message).toContain('larger than the limit of 65536 bytes');
  });

  it('answers 400 for a corrupt gzip body', async () => {
    const answer = await httpSend(`${base}/v1/traces`, { headers: { ...PROTOBUF, 'content-encoding': 'gzip' }, body: Buffer.from('not gzip at all') });

    expect(answer.status).toBe(400);
    expect(decodeRpcStatus(answer.body).message).toContain('invalid gzip body');
  });

  it('answers 503 with Retry-After while admission refuses', async () => {
    watchpost.service.admission.refuse('test', 'memory above the soft limit', 7);
    try {
      const protobuf = await httpSend(`${base}/v1/traces`, { headers: PROTOBUF, body: tracesProtobuf([span('refused span')]) });
      const json = await httpSend(`${base}/v1/traces`, { headers: JSON_TYPE, body: tracesJson([span('refused span')]) });

      expect(protobuf.status).toBe(503);
      expect(protobuf.headers['retry-after']).toBe('7');
      expect(decodeRpcStatus(protobuf.body)).toMatchObject({ code: 14, message: 'refusing data: memory above the soft limit; retry later' });
      expect(json.status).toBe(503);
      expect(JSON.parse(json.body.toString()).code).toBe(14);
    } finally {
      watchpost.service.admission.admit('test');
    }
    const after = await httpSend(`${base}/v1/traces`, { headers: PROTOBUF, body: tracesProtobuf([span('after refusal')]) });
    expect(after.status).toBe(200);
  });

  it('counts refused requests by reason', () => {
    expect(watchpost.metric('watchpost_receiver_refused_requests_total', { receiver: 'otlp', protocol: 'http', reason: 'too_large' })).toBe(3);
    expect(watchpost.metric('watchpost_receiver_refused_requests_total', { receiver: 'otlp', protocol: 'http', reason: 'method_not_allowed' })).toBe(1);
    expect(watchpost.metric('watchpost_receiver_refused_requests_total', { receiver: 'otlp', protocol: 'http', reason: 'unavailable' })).toBe(2);
    expect(watchpost.metric('watchpost_receiver_refused_items_total', { receiver: 'otlp', signal: 'traces', reason: 'invalid' })).toBe(2);
  });

  it('keeps the connection usable after an error', async () => {
    const logs = encodeRequest('logs', { resourceLogs: [] });
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await httpSend(`${base}/v1/logs`, { headers: PROTOBUF, body: i === 1 ? Buffer.from([0xff]) : logs }));

    expect(answers.map((answer) => answer.status)).toEqual([200, 400, 200]);
  });
});
