import { describe, expect, it } from 'vitest';
import { decodeResponse, decodeRpcStatus, encodeResponse, encodeRpcStatus } from '../../../core/otlp/codec.js';

describe('export responses', () => {
  it('are empty on full success', () => {
    expect(encodeResponse('traces', 0).length).toBe(0);
    expect(decodeResponse('traces', new Uint8Array(0))).toEqual({ rejected: 0, errorMessage: '' });
  });

  it('carry partial success for each signal', () => {
    for (const signal of ['traces', 'logs', 'metrics'] as const) {
      expect(decodeResponse(signal, encodeResponse(signal, 4, 'four bad items')), signal).toEqual({ rejected: 4, errorMessage: 'four bad items' });
    }
  });
});

describe('google.rpc.Status', () => {
  it('round-trips code and message', () => {
    expect(decodeRpcStatus(encodeRpcStatus(3, 'invalid data'))).toEqual({ code: 3, message: 'invalid data', retryDelayMs: undefined });
  });

  it('carries a RetryInfo delay', () => {
    expect(decodeRpcStatus(encodeRpcStatus(14, 'busy', 1500)).retryDelayMs).toBe(1500);
    expect(decodeRpcStatus(encodeRpcStatus(14, 'busy', 30_000)).retryDelayMs).toBe(30_000);
  });
});
