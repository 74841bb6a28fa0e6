import { Metadata, Server, ServerCredentials, status as GrpcStatus, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { EXPORT_TYPE_NAMES } from '../../../core/otlp/codec.js';
import { TELEMETRY_SIGNALS, type TelemetrySignal } from '../../../core/data/signal.js';

export interface ReceivedCall {
  signal: TelemetrySignal;
  body: Buffer;
  metadata: Record<string, string>;
}

/** Decides the response to one call: a response body, or an error status with optional trailers. */
export type GrpcResponder = (call: ReceivedCall) => { response: Buffer } | { code: GrpcStatus; details: string; trailers?: Metadata };

const identity = (value: Buffer): Buffer => value;

/**
 * A gRPC server on 127.0.0.1 that implements the three OTLP Export methods with raw bytes and
 * records every call, standing in for an OpenTelemetry backend.
 */
export class GrpcSink {
  readonly calls: ReceivedCall[] = [];
  responder: GrpcResponder = () => ({ response: Buffer.alloc(0) });
  private server: Server | undefined;
  private port = 0;

  async start(credentials = ServerCredentials.createInsecure()): Promise<this> {
    const server = new Server();
    for (const signal of TELEMETRY_SIGNALS) {
      const path = `/${EXPORT_TYPE_NAMES[signal].service}/Export`;
      server.addService({ Export: { path, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } }, {
        Export: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
          const metadata = Object.fromEntries(Object.entries(call.metadata.getMap()).map(([key, value]) => [key, String(value)]));
          const received = { signal, body: call.request, metadata };
          this.calls.push(received);
          const answer = this.responder(received);
          if ('response' in answer) callback(null, answer.response);
          else callback({ code: answer.code, details: answer.details, metadata: answer.trailers, name: 'sink', message: answer.details });
        },
      });
    }
    this.port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', credentials, (error, port) => (error ? reject(error) : resolve(port))));
    this.server = server;
    return this;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    this.server?.forceShutdown();
    this.server = undefined;
  }
}
