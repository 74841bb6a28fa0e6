import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../../core/cli/builtins.js';
import { loadConfigText } from '../../../core/config/load.js';
import { createLogger } from '../../../core/logger.js';
import { decodeResponse, decodeRpcStatus } from '../../../core/otlp/codec.js';
import { Service } from '../../../core/service.js';
import { tempDirectory } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { grpcExport, InProcessWatchpost } from '../../helpers/otlp.js';
import { otlpToFile } from './file-fixture.js';
import { logsProtobuf, metricsProtobuf, readJsonLines, span, spansOf, tracesProtobuf } from './payloads.js';

/** grpc-js's number for gzip in `grpc.default_compression_algorithm`. */
const GZIP = { 'grpc.default_compression_algorithm': 2 };

describe('OTLP/gRPC receiver', () => {
  const fixture = otlpToFile({ protocols: '      grpc: { endpoint: 127.0.0.1:0, max_recv_msg_size_mib: 1 }', signals: ['traces', 'metrics'] });
  const { telemetryFile } = fixture;
  let watchpost: InProcessWatchpost;
  let address: string;

  beforeAll(() => {
    watchpost = fixture.watchpost;
    address = watchpost.endpoint('grpc');
  });

  it('exports traces and answers an empty response', async () => {
    const answer = await grpcExport(address, 'traces', tracesProtobuf([span('grpc span')]));

    expect(answer.code).toBe(GrpcStatus.OK);
    expect(answer.response?.length).toBe(0);
    const stored = await waitFor(() => spansOf(readJsonLines(telemetryFile)).find((item) => item.name === 'grpc span'), 10_000, 'the span in the file');
    expect(stored.spanId).toBe('1112131415161718');
  });

  it('exports metrics', async () => {
    const answer = await grpcExport(address, 'metrics', metricsProtobuf([5, 7, 11]));

    expect(answer.code).toBe(GrpcStatus.OK);
    expect(watchpost.metric('watchpost_receiver_accepted_items_total', { receiver: 'otlp', signal: 'metrics' })).toBe(3);
  });

  it('accepts gzip-compressed requests', async () => {
    const answer = await grpcExport(address, 'traces', tracesProtobuf([span('gzip grpc span')]), { channelOptions: GZIP });

    expect(answer.code).toBe(GrpcStatus.OK);
    await waitFor(() => spansOf(readJsonLines(telemetryFile)).some((item) => item.name === 'gzip grpc span'), 10_000, 'the gzip span in the file');
  });

  it('answers INVALID_ARGUMENT for bytes that are not a request', async () => {
    const answer = await grpcExport(address, 'traces', Buffer.from([0x0a, 0x7f, 0x01]));

    expect(answer.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(answer.details).toMatch(/^invalid OTLP\/protobuf traces request: /);
  });

  it('answers partial success with the rejected count', async () => {
    const answer = await grpcExport(address, 'traces', tracesProtobuf([span('kept'), span('bad link', undefined, '01')]));

    expect(answer.code).toBe(GrpcStatus.OK);
    const response = decodeResponse('traces', answer.response as Buffer);
    expect(response.rejected).toBe(1);
    expect(response.errorMessage).toContain('spans[1].spanId: must be 8 bytes (16 hex digits), got 1 bytes');
  });

  it('answers RESOURCE_EXHAUSTED past the size limit', async () => {
    const big = tracesProtobuf([span('big', undefined, undefined, { payload: randomBytes(800 * 1024).toString('hex') })]);

    const answer = await grpcExport(address, 'traces', big);

    expect(answer.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
  });

  it('answers RESOURCE_EXHAUSTED for a gzip body that expands past the limit', async () => {
    const expanding = tracesProtobuf([span('expanding', undefined, undefined, { payload: 'a'.repeat(2 * 1024 * 1024) })]);

    const answer = await grpcExport(address, 'traces', expanding, { channelOptions: GZIP });

    expect(answer.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect(answer.details).toContain('decompresses to a size larger than');
  });

  it('answers UNIMPLEMENTED for a signal without a pipeline', async () => {
    const answer = await grpcExport(address, 'logs', logsProtobuf(['nobody takes logs']));

    expect(answer.code).toBe(GrpcStatus.UNIMPLEMENTED);
  });

  it('answers UNAVAILABLE with RetryInfo while admission refuses', async () => {
    watchpost.service.admission.refuse('test', 'memory above the soft limit', 4);
    let answer;
    try {
      answer = await grpcExport(address, 'traces', tracesProtobuf([span('refused')]));
    } finally {
      watchpost.service.admission.admit('test');
    }

    expect(answer.code).toBe(GrpcStatus.UNAVAILABLE);
    const details = answer.trailers?.get('grpc-status-details-bin')[0] as Buffer;
    expect(decodeRpcStatus(details)).toEqual({ code: GrpcStatus.UNAVAILABLE, message: 'refusing data: memory above the soft limit; retry later', retryDelayMs: 4000 });
    const after = await grpcExport(address, 'traces', tracesProtobuf([span('after refusal')]));
    expect(after.code).toBe(GrpcStatus.OK);
  });

  it('counts refused calls by reason', () => {
    expect(watchpost.metric('watchpost_receiver_refused_requests_total', { receiver: 'otlp', protocol: 'grpc', reason: 'invalid' })).toBe(1);
    expect(watchpost.metric('watchpost_receiver_refused_requests_total', { receiver: 'otlp', protocol: 'grpc', reason: 'unavailable' })).toBe(1);
  });
});

describe('OTLP receiver start', () => {
  it('closes the gRPC listener when the HTTP port is taken', async () => {
    const directory = tempDirectory();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const takenPort = (blocker.address() as AddressInfo).port;
    const lines: string[] = [];
    const destination = new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(chunk.toString()); done(); } });
    const config = loadConfigText(`
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:0 }
      http: { endpoint: 127.0.0.1:${takenPort} }
exporters:
  debug: {}
service:
  worker_pool: { threads: 1 }
  admin: { endpoint: 127.0.0.1:0 }
  storage: { directory: ${join(directory.path, 'data')} }
  pipelines:
    traces: { receivers: [otlp], exporters: [debug] }
`, 'start.yaml', builtinRegistry(), {});
    const service = new Service(config, createLogger({ destination }));
    try {
      await expect(service.start()).rejects.toThrow(/receiver otlp: failed to start: .*EADDRINUSE/);

      const listening = lines.map((line) => JSON.parse(line)).find((line) => line.msg === 'OTLP/gRPC receiver listening');
      const port = Number(listening.endpoint.split(':').pop());
      const refused = await new Promise<string>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.destroy();
          resolve('connected');
        });
        socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      });
      expect(refused).toBe('ECONNREFUSED');
    } finally {
      await service.shutdown();
      blocker.close();
      directory.cleanup();
    }
  });
});
