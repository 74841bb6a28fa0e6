import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Decides the answer to one request; the default answers 200 with an empty body. */
export type Responder = (request: ReceivedRequest, response: ServerResponse) => void;

/**
 * A real HTTP server on 127.0.0.1 and an ephemeral port that records every request, standing in
 * for a webhook endpoint, a SIEM or a chat tool.
 */
export class HttpSink {
  readonly requests: ReceivedRequest[] = [];
  responder: Responder = (_request, response) => response.end();
  private server: Server | undefined;

  /** Listens on `port` (0: any free port), for example again on the port of an earlier run. */
  async start(port = 0): Promise<this> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const received = { method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks) };
        this.requests.push(received);
        this.responder(received, response);
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.server = server;
    return this;
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  /** Bodies of the requests received so far, parsed as JSON. */
  json<T = unknown>(): T[] {
    return this.requests.map((request) => JSON.parse(request.body.toString('utf8')) as T);
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
