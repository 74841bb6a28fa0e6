import { describe, expect, it } from 'vitest';
import { MASK, passesLuhn, redactQuery, redactText } from '../../../processors/detection/redact.js';
import { summarize } from '../../../processors/detection/worker.js';

describe('evidence redaction', () => {
  it('masks credential parameters by name', () => {
    expect(redactQuery('user=dave&password=hunter2&api_key=abc')).toBe(`user=dave&password=${MASK}&api_key=${MASK}`);
  });

  it('masks a JWT anywhere', () => {
    expect(redactText('/cb?state=eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.')).toBe(`/cb?state=${MASK}`);
  });

  it('masks e-mail addresses, also percent-encoded', () => {
    expect(redactText('/users/jane.doe@example.com')).toBe(`/users/${MASK}`);
    expect(redactText('q=jane%40example.com')).toBe(`q=${MASK}`);
  });

  it('masks card numbers that pass the Luhn check', () => {
    expect(redactText('card=4111 1111 1111 1111')).toBe(`card=${MASK}`);
    expect(redactText('order=4111111111111112')).toBe('order=4111111111111112');
  });

  it('masks the password of a URL', () => {
    expect(redactText('next=https://admin:s3cret@internal.example/x')).toBe(`next=https://admin:${MASK}@internal.example/x`);
  });

  it('checks Luhn digits', () => {
    expect(passesLuhn('79927398713')).toBe(true);
    expect(passesLuhn('79927398710')).toBe(false);
  });

  it('summarizes a request without its secrets', () => {
    const summary = summarize({ time: 0, 'http.request.method': 'POST', 'url.path': '/login/jane@example.com', 'url.query': 'password=hunter2&next=%2F', 'http.response.status_code': 401 });

    expect(summary).toBe(`POST /login/${MASK}?password=${MASK}&next=%2F -> 401`);
    expect(summary).not.toContain('hunter2');
  });
});
