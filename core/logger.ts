import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * Config keys whose values are secrets. pino replaces them with `[redacted]` wherever they
 * appear in a logged object, at any depth up to three levels under `config`.
 */
const SECRET_KEYS = ['token', 'bearer_token', 'secret', 'password', 'api_key', 'api_keys', 'authorization', 'routing_key', 'hash_key', 'webhook_url'];

function redactPaths(): string[] {
  const paths: string[] = [];
  for (const key of SECRET_KEYS) {
    paths.push(key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`);
  }
  return paths;
}

export interface LoggerSettings {
  level?: string;
  /** Where the JSON lines go; defaults to stdout. */
  destination?: NodeJS.WritableStream;
}

/** Creates the root logger: pino JSON lines with secrets redacted. Components take children of it. */
export function createLogger(settings: LoggerSettings = {}): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? 'info',
    base: { service: 'watchpost' },
    redact: { paths: redactPaths(), censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return settings.destination ? pino(options, settings.destination) : pino(options);
}

/** A logger that drops everything, for tests and for CLI commands that print their own output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
