import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.js';
import { splitHostPort } from '../net.js';

export type RouteHandler = (request: IncomingMessage, response: ServerResponse, url: URL) => void | Promise<void>;

/**
 * The admin HTTP endpoint: `/healthz`, `/readyz`, `/metrics`, and routes that components add (the
 * decisions API, the API inventory). It listens on 127.0.0.1:8888 unless configured otherwise.
 */
export class AdminServer {
  private readonly routes = new Map<string, RouteHandler>();
  private server: Server | undefined;

  constructor(private readonly endpoint: string, private readonly logger: Logger) {}

  /** Adds a route; `path` is matched exactly, without the query string. */
  route(method: string, path: string, handler: RouteHandler): void {
    const key = `${method.toUpperCase()} ${path}`;
    if (this.routes.has(key)) throw new Error(`admin route ${key} is registered twice`);
    this.routes.set(key, handler);
  }

  async start(): Promise<void> {
    const { host, port } = splitHostPort(this.endpoint);
    const server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.logger.info({ endpoint: this.address() }, 'admin endpoint listening');
  }

  /** The bound `host:port`, useful when the configured port was 0. */
  address(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) return this.endpoint;
    return address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;
  }

  async shutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://admin');
    const handler = this.routes.get(`${request.method} ${url.pathname}`);
    if (!handler) {
      const allowed = [...this.routes.keys()].filter((key) => key.endsWith(` ${url.pathname}`));
      if (allowed.length > 0) sendJson(response, 405, { error: `method ${request.method} not allowed on ${url.pathname}` });
      else sendJson(response, 404, { error: `no admin route ${url.pathname}` });
      return;
    }
    try {
      await handler(request, response, url);
    } catch (error) {
      this.logger.error({ err: error, path: url.pathname }, 'admin route failed');
      if (!response.headersSent) sendJson(response, 500, { error: 'internal error' });
      else response.destroy();
    }
  }
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  response.end(text);
}
