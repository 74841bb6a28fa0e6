/**
 * The error catalogue. Every error Watchpost raises on purpose carries a stable code from
 * this list, so logs, metrics and tests can match on the code instead of the message.
 * docs/errors.md documents each code, and a test checks that the two agree.
 */
export const ErrorCodes = {
  /** The config file could not be read or is not valid YAML. */
  WP_ERR_CONFIG_READ: 'the config file could not be read or parsed',
  /** A key is not part of the component's or section's schema. */
  WP_ERR_CONFIG_UNKNOWN_KEY: 'a config key is not known',
  /** A value has the wrong type or is out of range. */
  WP_ERR_CONFIG_INVALID_VALUE: 'a config value has the wrong type or is out of range',
  /** A required key is missing. */
  WP_ERR_CONFIG_MISSING_KEY: 'a required config key is missing',
  /** A component id is not `type` or `type/name`, or its type is not built in. */
  WP_ERR_CONFIG_BAD_ID: 'a component id is malformed or names an unknown type',
  /** A pipeline names a component that is not configured, or one that cannot serve it. */
  WP_ERR_CONFIG_MISSING_REFERENCE: 'a pipeline references a component that is not configured',
  /** `${env:NAME}` names an unset variable without a default, or the syntax is malformed. */
  WP_ERR_CONFIG_ENV: 'an environment reference cannot be expanded',
  /** A detection rule file is invalid. */
  WP_ERR_RULE_INVALID: 'a detection rule is invalid',
  /** A component failed to start, for example because its port is taken. */
  WP_ERR_COMPONENT_START: 'a component failed to start',
  /** A receiver could not decode a request; the sender gets a permanent error. */
  WP_ERR_RECEIVER_DECODE: 'a request could not be decoded',
  /** A receiver refused data because the daemon is overloaded; the sender may retry. */
  WP_ERR_RECEIVER_OVERLOADED: 'the daemon is refusing data for now',
  /** An exporter's queue is full; the data was not accepted. */
  WP_ERR_EXPORTER_QUEUE_FULL: 'an exporter queue is full',
  /** An exporter failed to send; whether it retries depends on `retryable`. */
  WP_ERR_EXPORTER_SEND: 'an exporter failed to send',
  /** A worker-pool task failed or its worker died. */
  WP_ERR_WORKER: 'a worker-pool task failed',
  /** The service is shutting down and takes no new data. */
  WP_ERR_SHUTTING_DOWN: 'the service is shutting down',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** An error with a catalogue code and a flag that says whether repeating the operation may succeed. */
export class WatchpostError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WatchpostError';
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** Creates a permanent error: the same data will fail again, so the sender must not retry it. */
export function permanentError(code: ErrorCode, message: string, cause?: unknown): WatchpostError {
  return new WatchpostError(code, message, { retryable: false, cause });
}

/** Creates a retryable error: the same data may succeed later. */
export function retryableError(code: ErrorCode, message: string, cause?: unknown): WatchpostError {
  return new WatchpostError(code, message, { retryable: true, cause });
}

/** Reports whether an error, from Watchpost or elsewhere, is worth retrying. Unknown errors are. */
export function isRetryable(error: unknown): boolean {
  return error instanceof WatchpostError ? error.retryable : true;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
