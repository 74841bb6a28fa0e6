import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { EXPORT_TYPE_NAMES } from '../../core/otlp/codec.js';

/*
 * The backend stand-in, run as its own process by run.ts: an OTLP/gRPC trace service that
 * responds to every Export with success and counts requests and bytes without decoding them,
 * so it costs little CPU. run.ts turns requests into spans (the daemon forwards each received
 * request as one request, so each carries the load generator's batch size) and checks the
 * total against the daemon's own counters.
 */

const identity = (value: Buffer) => value;
const counts = { requests: 0, bytes: 0 };

const server = new Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
server.addService({
  Export: {
    path: `/${EXPORT_TYPE_NAMES.traces.service}/Export`,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
}, {
  Export: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
    counts.requests++;
    counts.bytes += call.request.length;
    callback(null, Buffer.alloc(0));
  },
});

const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
process.send?.({ type: 'ready', address: `127.0.0.1:${port}` });
process.on('message', (message: { type: string }) => {
  if (message.type === 'counts') process.send?.({ type: 'counts', counts });
  if (message.type === 'stop') {
    server.forceShutdown();
    process.disconnect?.();
  }
});
