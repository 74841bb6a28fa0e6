import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { PushServer, type PushHandler } from '../../../receivers/gatewaylog/http.js';
import { Admission } from '../../../core/admission.js';
import { retryableError } from '../../../core/errors.js';
import { silentLogger } from '../../../core/logger.js';

interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function post(endpoint: string, method: string, body: string, headers: Record<string, string>): Promise<Response> {
  const port = Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, path: '/', method, headers }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => { text += chunk.toString('utf8'); });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }));
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

describe('push endpoint', () => {
  let server: PushServer | undefined;

  afterEach(async () => {
    await server?.shutdown();
    server = undefined;
  });

  async function start(handle: PushHandler, admission = new Admission()): Promise<string> {
    server = new PushServer({ config: { endpoint: '127.0.0.1:0', path: '/', max_request_body_size: 1 << 20 }, format: 'nginx_combined', handle, admission, logger: silentLogger() });
    await server.start();
    return server.address();
  }

  it('splits newline-delimited bodies into lines', async () => {
    const received: string[][] = [];
    const endpoint = await start(async (lines) => {
      received.push(lines);
      return { accepted: lines.length, unparsed: 0 };
    });

    const response = await post(endpoint, 'POST', 'one\r\ntwo\n\nthree', { 'content-type': 'application/x-ndjson' });

    expect(response.status).toBe(200);
    expect(received).toEqual([['one', 'two', 'three']]);
  });

  it('answers 503 with Retry-After while the daemon refuses data', async () => {
    const admission = new Admission();
    let calls = 0;
    const endpoint = await start(async () => {
      calls++;
      return { accepted: 1, unparsed: 0 };
    }, admission);
    admission.refuse('memory_limiter', 'memory above the limit', 7);

    const response = await post(endpoint, 'POST', '{}', { 'content-type': 'application/json' });

    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('7');
    expect(calls).toBe(0);
  });

  it('answers 503 when the pipelines are busy', async () => {
    const endpoint = await start(async () => {
      throw retryableError('WP_ERR_EXPORTER_QUEUE_FULL', 'queue full');
    });

    const response = await post(endpoint, 'POST', '{}', { 'content-type': 'application/json' });

    expect(response.status).toBe(503);
    expect(JSON.parse(response.body)).toEqual({ error: 'queue full' });
  });

  it('answers 405 for another method', async () => {
    const endpoint = await start(async () => ({ accepted: 0, unparsed: 0 }));

    const response = await post(endpoint, 'PUT', '{}', { 'content-type': 'application/json' });

    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('POST');
  });

  it('answers 400 for an empty body', async () => {
    const endpoint = await start(async () => ({ accepted: 0, unparsed: 0 }));

    const response = await post(endpoint, 'POST', '  ', { 'content-type': 'application/json' });

    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toEqual({ error: 'the request body is empty' });
  });
});
