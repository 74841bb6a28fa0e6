import { status as GrpcStatus } from '@grpc/grpc-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeResponse } from '../../../core/otlp/codec.js';
import { grpcExport, httpSend, InProcessWatchpost } from '../../helpers/otlp.js';
import { otlpToFile } from './file-fixture.js';
import { loadCorpus } from '../../core/otlp/corpus.js';

const SIGNAL_PATHS = { traces: '/v1/traces', logs: '/v1/logs', metrics: '/v1/metrics' } as const;

describe('OTLP receivers on the corpus', () => {
  const fixture = otlpToFile({ protocols: '      grpc: { endpoint: 127.0.0.1:0 }\n      http: { endpoint: 127.0.0.1:0 }', signals: ['traces', 'logs', 'metrics'] });
  let watchpost: InProcessWatchpost;
  let base: string;
  let grpcAddress: string;

  beforeAll(() => {
    watchpost = fixture.watchpost;
    base = `http://${watchpost.endpoint('http')}`;
    grpcAddress = watchpost.endpoint('grpc');
  });

  for (const entry of loadCorpus()) {
    it(`answers ${entry.name}.json as ${entry.verdict}`, async () => {
      const acceptedBefore = watchpost.metric('watchpost_receiver_accepted_items_total', { receiver: 'otlp', signal: entry.signal });

      const answer = await httpSend(`${base}${SIGNAL_PATHS[entry.signal]}`, { headers: { 'content-type': 'application/json' }, body: entry.json });

      const body = JSON.parse(answer.body.toString());
      const accepted = watchpost.metric('watchpost_receiver_accepted_items_total', { receiver: 'otlp', signal: entry.signal }) - acceptedBefore;
      if (entry.verdict === 'rejected') {
        expect(answer.status).toBe(400);
        expect(body.code).toBe(3);
        if (entry.expected.errors) expect(body.message).toContain(entry.expected.errors[0]);
        expect(accepted).toBe(0);
      } else if (entry.verdict === 'partial') {
        expect(answer.status).toBe(200);
        expect(Object.values(body.partialSuccess)[0]).toBe(String(entry.expected.rejected));
        expect(body.partialSuccess.errorMessage).toContain(entry.expected.errors[0]);
        expect(accepted).toBe(entry.items);
      } else {
        expect(answer.status).toBe(200);
        expect(body).toEqual({});
        if (entry.items !== undefined) expect(accepted).toBe(entry.items);
      }
    });

    if (!entry.protobuf) continue;

    it(`answers ${entry.name}.pb over HTTP and gRPC`, async () => {
      const http = await httpSend(`${base}${SIGNAL_PATHS[entry.signal]}`, { headers: { 'content-type': 'application/x-protobuf' }, body: entry.protobuf });
      const grpc = await grpcExport(grpcAddress, entry.signal, entry.protobuf as Buffer);

      expect(http.status).toBe(200);
      expect(http.body.length).toBe(0);
      expect(grpc.code).toBe(GrpcStatus.OK);
      expect(decodeResponse(entry.signal, grpc.response as Buffer)).toEqual({ rejected: 0, errorMessage: '' });
    });
  }
});
