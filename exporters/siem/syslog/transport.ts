import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIPv6, connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { splitHostPort } from '../../../core/net.js';
import { SendError } from '../../helper/errors.js';
import type { ClientTlsConfig } from '../../helper/http.js';

export type SyslogTransportName = 'udp' | 'tcp' | 'tls';
export type SyslogFraming = 'octet_counting' | 'newline';

/** Sends syslog messages to one peer. `send` resolves when the kernel took the bytes. */
export interface SyslogTransport {
  send(messages: string[], signal: AbortSignal): Promise<void>;
  close(): void;
}

export interface TransportOptions {
  endpoint: string;
  transport: SyslogTransportName;
  framing: SyslogFraming;
  tls: ClientTlsConfig;
}

export function createTransport(options: TransportOptions): SyslogTransport {
  return options.transport === 'udp' ? new UdpTransport(options.endpoint) : new StreamTransport(options);
}

/**
 * Frames a message for a stream transport. Octet counting (RFC 6587 section 3.4.1, and the only
 * framing RFC 5425 allows over TLS) prefixes the length in bytes and a space. Non-transparent
 * framing ends the message with a line feed, which is safe here because every format keeps line
 * breaks out of its messages.
 */
export function frame(message: string, framing: SyslogFraming): string {
  return framing === 'octet_counting' ? `${Buffer.byteLength(message)} ${message}` : `${message}\n`;
}

/** One datagram per message, as RFC 5426 sends syslog over UDP. Delivery is not confirmed. */
class UdpTransport implements SyslogTransport {
  private socket: UdpSocket | undefined;
  private readonly host: string;
  private readonly port: number;

  constructor(endpoint: string) {
    const { host, port } = splitHostPort(endpoint);
    this.host = host || '127.0.0.1';
    this.port = port;
  }

  async send(messages: string[]): Promise<void> {
    this.socket ??= createSocket(isIPv6(this.host) ? 'udp6' : 'udp4');
    const socket = this.socket;
    for (const message of messages) {
      await new Promise<void>((resolve, reject) => {
        socket.send(Buffer.from(message), this.port, this.host, (error) => (error ? reject(new SendError(`udp send failed: ${error.message}`, { retryable: true, cause: error })) : resolve()));
      });
    }
  }

  close(): void {
    this.socket?.close();
    this.socket = undefined;
  }
}

/**
 * A long-lived TCP or TLS connection, opened on the first send and again after it broke.
 *
 * NOTE: syslog over TCP has no application-level acknowledgment. A write resolves once the
 * kernel took the bytes, so messages written just before the peer closed the connection can be
 * lost without an error; RELP would close that gap and is not implemented.
 */
class StreamTransport implements SyslogTransport {
  private socket: Socket | undefined;
  private readonly host: string;
  private readonly port: number;

  constructor(private readonly options: TransportOptions) {
    const { host, port } = splitHostPort(options.endpoint);
    this.host = host || '127.0.0.1';
    this.port = port;
  }

  async send(messages: string[], signal: AbortSignal): Promise<void> {
    const socket = this.socket ?? await this.connect(signal);
    const payload = messages.map((message) => frame(message, this.options.framing)).join('');
    const onAbort = () => socket.destroy(new Error('write timed out'));
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.write(payload, (error) => (error ? reject(error) : resolve()));
      });
    } catch (error) {
      this.drop(socket);
      throw new SendError(`${this.options.transport} write to ${this.options.endpoint} failed: ${(error as Error).message}`, { retryable: true, cause: error });
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  close(): void {
    this.socket?.end();
    this.socket = undefined;
  }

  private connect(signal: AbortSignal): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = this.options.transport === 'tls' ? this.connectTls() : connectTcp({ host: this.host, port: this.port });
      const ready = this.options.transport === 'tls' ? 'secureConnect' : 'connect';
      const onAbort = () => socket.destroy(new Error('connect timed out'));
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once(ready, () => {
        signal.removeEventListener('abort', onAbort);
        socket.setKeepAlive(true);
        // A peer that closes or fails makes the next send open a new connection.
        socket.on('close', () => this.drop(socket));
        socket.on('end', () => this.drop(socket));
        socket.on('error', () => this.drop(socket));
        this.socket = socket;
        resolve(socket);
      });
      socket.once('error', (error) => {
        signal.removeEventListener('abort', onAbort);
        socket.destroy();
        reject(new SendError(`cannot connect to ${this.options.endpoint} over ${this.options.transport}: ${error.message}`, { retryable: true, cause: error }));
      });
    });
  }

  private connectTls(): Socket {
    const tls = this.options.tls;
    return connectTls({
      host: this.host,
      port: this.port,
      ca: tls.ca_file ? readFileSync(tls.ca_file) : undefined,
      cert: tls.cert_file ? readFileSync(tls.cert_file) : undefined,
      key: tls.key_file ? readFileSync(tls.key_file) : undefined,
      rejectUnauthorized: !tls.insecure_skip_verify,
      servername: tls.server_name_override || (isIPv6(this.host) || /^[\d.]+$/.test(this.host) ? undefined : this.host),
    });
  }

  private drop(socket: Socket): void {
    if (this.socket === socket) this.socket = undefined;
    socket.destroy();
  }
}
