import { describe, expect, it } from 'vitest';
import { MASK, passesLuhn, redactPath, redactQuery, redactText } from '../../../processors/detection/redact.js';
import { summarize } from '../../../processors/detection/worker.js';

describe('evidence redaction', () => {
  it('masks credential parameters by name', () => {
    expect(redactQuery('user=dave&password=hunter2&api_key=abc')).toBe(`user=dave&password=${MASK}&api_key=${MASK}`);
  });

  it.each(['session_id', 'auth_token', 'aws_secret_access_key', 'aspsessionid', 'passphrase', 'x-api-key', 'private_token', 'token[]'])('masks %s, which the credentials detector flags', (name) => {
    expect(redactQuery(`a=1&${name}=SECRETP16`)).toBe(`a=1&${name}=${MASK}`);
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

  it.each([
    ['/cb;jsessionid=ABCDEF0123456789', `/cb;jsessionid=${MASK}`],
    ['/cb;JSESSIONID=ABCDEF0123456789/next', `/cb;JSESSIONID=${MASK}/next`],
    ['/cart;sessionid=s3cr3t', `/cart;sessionid=${MASK}`],
    ['/index.php;sid=s3cr3t', `/index.php;sid=${MASK}`],
    ['/index.php;PHPSESSID=s3cr3t', `/index.php;PHPSESSID=${MASK}`],
    ['/a;v=1;jsessionid=s3cr3t;lang=en/b', `/a;v=1;jsessionid=${MASK};lang=en/b`],
    ['/cb%3Bjsessionid%3Ds3cr3t', `/cb%3Bjsessionid%3D${MASK}`],
    ['/cb;jsession%69d=s3cr3t', `/cb;jsession%69d=${MASK}`],
  ])('masks the session id path parameter in %s', (path, masked) => {
    expect(redactPath(path)).toBe(masked);
  });

  it('masks a segment whose separators are encoded twice', () => {
    expect(redactPath('/shop/cb%253Bjsessionid%253Ds3cr3t/x')).toBe(`/shop/${MASK}/x`);
  });

  it('keeps path parameters that carry no secret', () => {
    expect(redactPath('/a;v=1;lang=en/b;x')).toBe('/a;v=1;lang=en/b;x');
  });

  it('masks a session id in the query string', () => {
    expect(redactQuery('PHPSESSID=s3cr3t&JSESSIONID=s3cr3t&page=2')).toBe(`PHPSESSID=${MASK}&JSESSIONID=${MASK}&page=2`);
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

  it('summarizes a request without its session id path parameter', () => {
    const summary = summarize({ time: 0, 'http.request.method': 'GET', 'url.path': '/cb;jsessionid=ABCDEF0123456789', 'url.query': "q=%27%20or%201=1--", 'http.response.status_code': 200 });

    expect(summary).toBe(`GET /cb;jsessionid=${MASK}?q=%27%20or%201=1-- -> 200`);
  });
});
