import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { ChannelCredentials, credentials as grpcCredentials, Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { decodeRpcStatus } from '../../../core/otlp/codec.js';
import { createTestPki, type TestPki } from '../../helpers/openssl-certs.js';
import { grpcExport, httpSend, InProcessWatchpost } from '../../helpers/otlp.js';
import { tempDirectory } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { readJsonLines, span, spansOf, tracesProtobuf } from './payloads.js';
import { ExportResultCode, exportWith, makeSpans } from './sdk.js';

const TOKEN = 'wp-test-token-6f1d2c9a';
const WRONG_TOKEN = 'wp-wrong-token-0000';
const PROTOBUF = { 'content-type': 'application/x-protobuf' };

describe('OTLP receiver security', () => {
  const directory = tempDirectory();
  const telemetryFile = join(directory.path, 'telemetry.jsonl');
  let pki: TestPki;
  let watchpost: InProcessWatchpost;

  beforeAll(async () => {
    pki = createTestPki();
    const tls = `{ cert_file: ${pki.server.cert}, key_file: ${pki.server.key} }`;
    const mutualTls = `{ cert_file: ${pki.server.cert}, key_file: ${pki.server.key}, client_ca_file: ${pki.ca.cert}, min_version: "1.3" }`;
    watchpost = await InProcessWatchpost.start(`
receivers:
  otlp/tls:
    protocols:
      grpc: { endpoint: 127.0.0.1:0, tls: ${tls}, auth: { bearer_token: "\${env:WATCHPOST_TEST_TOKEN}" } }
      http: { endpoint: 127.0.0.1:0, tls: ${tls}, auth: { bearer_token: "\${env:WATCHPOST_TEST_TOKEN}" } }
  otlp/mtls:
    protocols:
      grpc: { endpoint: 127.0.0.1:0, tls: ${mutualTls} }
      http: { endpoint: 127.0.0.1:0, tls: ${mutualTls} }
exporters:
  file: { path: ${telemetryFile} }
service:
  worker_pool: { threads: 1 }
  admin: { endpoint: 127.0.0.1:0 }
  storage: { directory: ${join(directory.path, 'data')} }
  pipelines:
    traces: { receivers: [otlp/tls, otlp/mtls], exporters: [file] }
`, { ...process.env, WATCHPOST_TEST_TOKEN: TOKEN });
  }, 60_000);

  afterAll(async () => {
    await watchpost?.stop();
    pki?.cleanup();
    directory.cleanup();
  });

  const stored = (name: string) => waitFor(() => spansOf(readJsonLines(telemetryFile)).some((item) => item.name === name), 10_000, `span "${name}" in the file`);

  describe('TLS with a bearer token', () => {
    const httpUrl = () => `https://localhost:${watchpost.endpoint('http', 'otlp/tls').split(':').pop()}/v1/traces`;
    const grpcAddress = () => `localhost:${watchpost.endpoint('grpc', 'otlp/tls').split(':').pop()}`;
    const trusted = () => grpcCredentials.createSsl(pki.ca.certPem);

    it('accepts HTTPS with the token', async () => {
      const answer = await httpSend(httpUrl(), { headers: { ...PROTOBUF, authorization: `Bearer ${TOKEN}` }, body: tracesProtobuf([span('https with token')]), tls: { ca: pki.ca.certPem } });

      expect(answer.status).toBe(200);
      await stored('https with token');
    });

    it('answers 401 without the token or with a wrong one', async () => {
      const missing = await httpSend(httpUrl(), { headers: PROTOBUF, body: tracesProtobuf([span('no token')]), tls: { ca: pki.ca.certPem } });
      const wrong = await httpSend(httpUrl(), { headers: { ...PROTOBUF, authorization: `Bearer ${WRONG_TOKEN}` }, body: tracesProtobuf([span('wrong token')]), tls: { ca: pki.ca.certPem } });
      const basic = await httpSend(httpUrl(), { headers: { ...PROTOBUF, authorization: `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}` }, body: tracesProtobuf([span('basic auth')]), tls: { ca: pki.ca.certPem } });

      for (const answer of [missing, wrong, basic]) {
        expect(answer.status).toBe(401);
        expect(answer.headers['www-authenticate']).toBe('Bearer');
        expect(decodeRpcStatus(answer.body).code).toBe(16);
      }
    });

    it('refuses plain HTTP on the TLS port', async () => {
      const plain = `http://${watchpost.endpoint('http', 'otlp/tls')}/v1/traces`;

      const attempt = httpSend(plain, { headers: { ...PROTOBUF, authorization: `Bearer ${TOKEN}` }, body: tracesProtobuf([span('plaintext')]) });

      await expect(attempt).rejects.toThrow(/socket hang up|ECONNRESET/);
    });

    it('refuses a client that does not trust the server certificate', async () => {
      const attempt = httpSend(httpUrl(), { headers: { ...PROTOBUF, authorization: `Bearer ${TOKEN}` }, body: tracesProtobuf([span('untrusting client')]) });

      await expect(attempt).rejects.toThrow(/self-signed|unable to (get|verify)/i);
    });

    it('accepts gRPC over TLS with the token', async () => {
      const answer = await grpcExport(grpcAddress(), 'traces', tracesProtobuf([span('grpc tls with token')]), { credentials: trusted(), metadata: { authorization: `Bearer ${TOKEN}` } });

      expect(answer.code).toBe(GrpcStatus.OK);
      await stored('grpc tls with token');
    });

    it('answers UNAUTHENTICATED without the token or with a wrong one', async () => {
      const missing = await grpcExport(grpcAddress(), 'traces', tracesProtobuf([span('grpc no token')]), { credentials: trusted() });
      const wrong = await grpcExport(grpcAddress(), 'traces', tracesProtobuf([span('grpc wrong token')]), { credentials: trusted(), metadata: { authorization: `Bearer ${WRONG_TOKEN}` } });

      expect(missing.code).toBe(GrpcStatus.UNAUTHENTICATED);
      expect(wrong.code).toBe(GrpcStatus.UNAUTHENTICATED);
      expect(wrong.details).toBe('the bearer token is not valid');
    });

    it('refuses a plaintext gRPC client', async () => {
      const answer = await grpcExport(watchpost.endpoint('grpc', 'otlp/tls'), 'traces', tracesProtobuf([span('grpc plaintext')]), { metadata: { authorization: `Bearer ${TOKEN}` } });

      expect(answer.code).toBe(GrpcStatus.UNAVAILABLE);
    });

    it('accepts the SDK gRPC exporter with TLS and the token', async () => {
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${TOKEN}`);
      const spans = makeSpans(2, 'sdk grpc tls');

      const result = await exportWith(new GrpcTraceExporter({ url: `https://${grpcAddress()}`, credentials: trusted(), metadata }), spans);

      expect(result.code, String(result.error)).toBe(ExportResultCode.SUCCESS);
      await stored('sdk grpc tls root');
    });

    it('accepts the SDK HTTP exporter with TLS and the token', async () => {
      const spans = makeSpans(2, 'sdk https');

      const result = await exportWith(new ProtoTraceExporter({ url: httpUrl(), headers: { Authorization: `Bearer ${TOKEN}` }, httpAgentOptions: { ca: pki.ca.certPem } }), spans);

      expect(result.code, String(result.error)).toBe(ExportResultCode.SUCCESS);
      await stored('sdk https root');
    });

    it('fails the SDK HTTP exporter without the token', async () => {
      const result = await exportWith(new ProtoTraceExporter({ url: httpUrl(), httpAgentOptions: { ca: pki.ca.certPem } }), makeSpans(1, 'sdk https no token'));

      expect(result.code).toBe(ExportResultCode.FAILED);
    });

    it('never logs the token', () => {
      expect(watchpost.metric('watchpost_receiver_refused_requests_total', { receiver: 'otlp/tls', protocol: 'http', reason: 'unauthenticated' })).toBe(4);
      expect(watchpost.metric('watchpost_receiver_refused_requests_total', { receiver: 'otlp/tls', protocol: 'grpc', reason: 'unauthenticated' })).toBe(2);
      expect(watchpost.rawLogs).toContain('refused OTLP requests');
      expect(watchpost.rawLogs).not.toContain(TOKEN);
      expect(watchpost.rawLogs).not.toContain(WRONG_TOKEN);
    });
  });

  describe('mutual TLS', () => {
    const httpUrl = () => `https://localhost:${watchpost.endpoint('http', 'otlp/mtls').split(':').pop()}/v1/traces`;
    const grpcAddress = () => `localhost:${watchpost.endpoint('grpc', 'otlp/mtls').split(':').pop()}`;

    it('accepts HTTPS with a client certificate from the trusted CA', async () => {
      const answer = await httpSend(httpUrl(), { headers: PROTOBUF, body: tracesProtobuf([span('mtls http')]), tls: { ca: pki.ca.certPem, cert: pki.client.certPem, key: pki.client.keyPem } });

      expect(answer.status).toBe(200);
      await stored('mtls http');
    });

    it('refuses HTTPS without a client certificate', async () => {
      const attempt = httpSend(httpUrl(), { headers: PROTOBUF, body: tracesProtobuf([span('mtls http no cert')]), tls: { ca: pki.ca.certPem } });

      await expect(attempt).rejects.toThrow();
    });

    it('refuses HTTPS with a certificate from an untrusted CA', async () => {
      const attempt = httpSend(httpUrl(), { headers: PROTOBUF, body: tracesProtobuf([span('mtls http untrusted')]), tls: { ca: pki.ca.certPem, cert: pki.untrustedClient.certPem, key: pki.untrustedClient.keyPem } });

      await expect(attempt).rejects.toThrow();
    });

    it('accepts gRPC with a client certificate from the trusted CA', async () => {
      const credentials = grpcCredentials.createSsl(pki.ca.certPem, pki.client.keyPem, pki.client.certPem);

      const answer = await grpcExport(grpcAddress(), 'traces', tracesProtobuf([span('mtls grpc')]), { credentials });

      expect(answer.code).toBe(GrpcStatus.OK);
      await stored('mtls grpc');
    });

    it('refuses gRPC without a client certificate or with an untrusted one', async () => {
      const withoutCertificate = await grpcExport(grpcAddress(), 'traces', tracesProtobuf([span('mtls grpc no cert')]), { credentials: grpcCredentials.createSsl(pki.ca.certPem) });
      const untrusted = await grpcExport(grpcAddress(), 'traces', tracesProtobuf([span('mtls grpc untrusted')]), { credentials: grpcCredentials.createSsl(pki.ca.certPem, pki.untrustedClient.keyPem, pki.untrustedClient.certPem) });

      expect(withoutCertificate.code).toBe(GrpcStatus.UNAVAILABLE);
      expect(untrusted.code).toBe(GrpcStatus.UNAVAILABLE);
    });

    it('refuses TLS 1.2 when the minimum is 1.3', async () => {
      const client = { ca: pki.ca.certPem, cert: pki.client.certPem, key: pki.client.keyPem };
      const http = httpSend(httpUrl(), { headers: PROTOBUF, body: tracesProtobuf([span('mtls http tls 1.2')]), tls: { ...client, maxVersion: 'TLSv1.2' } });
      await expect(http).rejects.toThrow(/protocol version|alert/i);
      const grpc = await grpcExport(grpcAddress(), 'traces', tracesProtobuf([span('mtls grpc tls 1.2')]), {
        credentials: ChannelCredentials.createFromSecureContext(createSecureContext({ ...client, maxVersion: 'TLSv1.2' })),
      });

      expect(grpc.code).toBe(GrpcStatus.UNAVAILABLE);
      const tls13 = await grpcExport(grpcAddress(), 'traces', tracesProtobuf([span('mtls grpc tls 1.3')]), {
        credentials: ChannelCredentials.createFromSecureContext(createSecureContext(client)),
      });
      expect(tls13.code).toBe(GrpcStatus.OK);
    });

    it('stored nothing that was refused', () => {
      const names = spansOf(readJsonLines(telemetryFile)).map((item) => item.name);

      for (const refused of ['no token', 'wrong token', 'basic auth', 'plaintext', 'untrusting client', 'grpc no token', 'grpc wrong token', 'grpc plaintext', 'mtls http no cert', 'mtls http untrusted', 'mtls grpc no cert', 'mtls grpc untrusted', 'mtls http tls 1.2', 'mtls grpc tls 1.2']) {
        expect(names, refused).not.toContain(refused);
      }
    });
  });
});
