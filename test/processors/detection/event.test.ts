import Long from 'long';
import { describe, expect, it } from 'vitest';
import { toAttributes, keyValue } from '../../../core/otlp/attributes.js';
import { parseCidr, type Cidr } from '../../../core/cidr.js';
import type { ILogRecord, ISpan } from '../../../core/otlp/codec.js';
import { DEFAULT_EXTRACT_OPTIONS, eventFromFields, eventFromLogRecord, eventFromSpan, type ExtractOptions } from '../../../processors/detection/event.js';
import { DEFAULT_DETECTOR_CONTEXT, EventView } from '../../../processors/detection/view.js';
import { apiKeyFingerprint } from '../../../processors/detection/identity.js';
import { isIdentifierSegment, objectId, routeTemplate } from '../../../processors/detection/route.js';
import { decodeHtmlEntities, decodeRepeatedly, normalize, percentDecode } from '../../../processors/detection/decode.js';
import { ApiSpec } from '../../../processors/detection/openapi.js';
import { apiSpecFromObject } from '../../../processors/detection/openapi-load.js';

const START = Long.fromNumber(Date.UTC(2024, 0, 1), true).mul(1_000_000);

function span(attributes: Record<string, string | number | string[]>): ISpan {
  return {
    kind: 2,
    startTimeUnixNano: START,
    endTimeUnixNano: START.add(250_000_000),
    traceId: Buffer.alloc(16, 1),
    spanId: Buffer.alloc(8, 2),
    attributes: toAttributes(attributes),
  };
}

function options(overrides: Partial<ExtractOptions>): ExtractOptions {
  return { ...DEFAULT_EXTRACT_OPTIONS, ...overrides };
}

function jwt(payload: Record<string, unknown>): string {
  return `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.c2ln`;
}

describe('route templates', () => {
  it.each([
    ['/api/v1/orders/1234', '/api/v1/orders/{id}'],
    ['/api/v1/orders/1234/items/7', '/api/v1/orders/{id}/items/{id}'],
    ['/users/3f2504e0-4f89-11d3-9a0c-0305e82c3301/avatar', '/users/{id}/avatar'],
    ['/blobs/9b74c9897bac770ffc029102a200c5de', '/blobs/{id}'],
    ['/objects/507f1f77bcf86cd799439011', '/objects/{id}'],
    ['/share/01ARZ3NDEKTSV4RRFFQ69G5FAV', '/share/{id}'],
    ['/api/v2/products', '/api/v2/products'],
    ['/blog/how-to-cook-rice', '/blog/how-to-cook-rice'],
    ['/static/app.3f9a.css', '/static/app.3f9a.css'],
    ['/cart;jsessionid=ABCDEF0123456789', '/cart'],
    ['/shop;jsessionid=ABCDEF0123456789/orders/1234;v=2', '/shop/orders/{id}'],
  ])('%s becomes %s', (path, route) => {
    expect(routeTemplate(path)).toBe(route);
  });

  it('keeps words that only look like hex', () => {
    expect(isIdentifierSegment('deadbeefcafe')).toBe(false);
    expect(isIdentifierSegment('facade')).toBe(false);
  });

  it('finds the object id under the last parameter', () => {
    expect(objectId('/api/v1/orders/1234', '/api/v1/orders/{orderId}')).toBe('1234');
    expect(objectId('/orders/77/items/3', '/orders/:order/items/:item')).toBe('3');
    expect(objectId('/orders', '/orders')).toBeUndefined();
    expect(objectId('/orders/1234;jsessionid=ABCDEF0123456789', '/orders/{id}')).toBe('1234');
  });

  it('templates a span without http.route and keeps one that has it', () => {
    const templated = eventFromSpan(span({ 'http.request.method': 'GET', 'url.path': '/api/orders/991' }), 'shop');
    const given = eventFromSpan(span({ 'http.request.method': 'GET', 'url.path': '/api/orders/991', 'http.route': '/api/orders/:orderId' }), 'shop');

    expect(templated?.['http.route']).toBe('/api/orders/{id}');
    expect(templated?.['object.id']).toBe('991');
    expect(given?.['http.route']).toBe('/api/orders/:orderId');
    expect(given?.['object.id']).toBe('991');
  });
});

describe('identity', () => {
  it('reads the JWT subject without verifying the token', () => {
    const event = eventFromSpan(span({ 'http.request.method': 'GET', 'url.path': '/me', 'http.request.header.authorization': [`Bearer ${jwt({ sub: 'alice', exp: 1 })}`] }), undefined);

    expect(event?.['user.id']).toBe('alice');
    expect(event?.jwt?.alg).toBe('HS256');
  });

  it('prefers the first configured source', () => {
    const attributes = { 'http.request.method': 'GET', 'url.path': '/me', 'user.id': 'from-attribute', 'http.request.header.x-user': 'from-header' };
    const event = eventFromSpan(span(attributes), undefined, options({ identitySources: [{ type: 'header', name: 'x-user' }, { type: 'attribute', name: 'user.id' }] }));

    expect(event?.['user.id']).toBe('from-header');
  });

  it('stores an API key only as its keyed hash', () => {
    const key = 'sk_live_51HxQeK2eZvKYlo2C';
    const event = eventFromSpan(span({ 'http.request.method': 'GET', 'url.path': '/v1/charges', 'http.request.header.x-api-key': key }), undefined, options({ apiKeyHashKey: 'secret' }));

    expect(event?.['api_key.fingerprint']).toBe(apiKeyFingerprint(key, 'secret'));
    expect(event?.['api_key.fingerprint']).toHaveLength(32);
    expect(JSON.stringify({ ...event, headers: undefined })).not.toContain(key);
  });

  it('takes an API key from the query', () => {
    const event = eventFromSpan(span({ 'http.request.method': 'GET', 'url.path': '/v1/maps', 'url.query': 'apikey=abc123&q=x' }), undefined, options({ apiKeyHashKey: 'secret' }));

    expect(event?.['api_key.fingerprint']).toBe(apiKeyFingerprint('abc123', 'secret'));
  });

  it('gives different fingerprints under different hash keys', () => {
    expect(apiKeyFingerprint('abc123', 'one')).not.toBe(apiKeyFingerprint('abc123', 'two'));
  });
});

describe('client address', () => {
  const trusted: Cidr[] = ['10.0.0.0/8', '192.168.0.0/16'].map((text) => parseCidr(text) as Cidr);

  it('takes the right-most untrusted X-Forwarded-For entry behind a trusted proxy', () => {
    const event = eventFromSpan(span({ 'http.request.method': 'GET', 'url.path': '/', 'network.peer.address': '10.0.0.5', 'http.request.header.x-forwarded-for': ['198.51.100.1, 203.0.113.9, 192.168.1.4'] }), undefined, options({ trustedProxies: trusted }));

    expect(event?.['client.address']).toBe('203.0.113.9');
    expect(event?.['network.peer.address']).toBe('10.0.0.5');
  });

  it('ignores X-Forwarded-For from an untrusted peer', () => {
    const event = eventFromSpan(span({ 'http.request.method': 'GET', 'url.path': '/', 'network.peer.address': '203.0.113.50', 'http.request.header.x-forwarded-for': ['127.0.0.1'] }), undefined, options({ trustedProxies: trusted }));

    expect(event?.['client.address']).toBe('203.0.113.50');
  });

  it('reads the Forwarded header', () => {
    const event = eventFromSpan(span({ 'http.request.method': 'GET', 'url.path': '/', 'network.peer.address': '10.1.1.1', 'http.request.header.forwarded': ['for="[2001:db8::7]:4711";proto=https'] }), undefined, options({ trustedProxies: trusted }));

    expect(event?.['client.address']).toBe('2001:db8::7');
  });

  it('handles an access-log line behind a trusted proxy', () => {
    const record: ILogRecord = {
      timeUnixNano: START,
      attributes: [
        keyValue('http.request.method', 'GET'), keyValue('url.path', '/'), keyValue('client.address', '10.0.0.7'),
        keyValue('http.request.header.x-forwarded-for', '198.51.100.23'), keyValue('nginx.http_x_user_id', 'bob'),
      ],
    };

    const event = eventFromLogRecord(record, undefined, options({ trustedProxies: trusted, identitySources: [{ type: 'header', name: 'x-user-id' }] }));

    expect(event?.['client.address']).toBe('198.51.100.23');
    expect(event?.['user.id']).toBe('bob');
    expect(event?.time).toBe(Date.UTC(2024, 0, 1));
  });

  it('keeps the address when no proxy is trusted', () => {
    const event = eventFromSpan(span({ 'http.request.method': 'GET', 'url.path': '/', 'client.address': '203.0.113.1', 'http.request.header.x-forwarded-for': ['1.2.3.4'] }), undefined);

    expect(event?.['client.address']).toBe('203.0.113.1');
  });
});

describe('decoding', () => {
  it('decodes percent escapes, plus as space and %u escapes', () => {
    expect(percentDecode('a%20b+c%u003c', true)).toBe('a b c<');
  });

  it('reads overlong UTF-8 as the character it encodes', () => {
    expect(percentDecode('%c0%ae%c0%ae%c0%af')).toBe('../');
    expect(percentDecode('%e0%80%ae')).toBe('.');
  });

  it('decodes nested encodings up to three rounds', () => {
    expect(decodeRepeatedly('%25253c')).toBe('<');
    expect(decodeRepeatedly('%2525253c')).toBe('%3c');
  });

  it('decodes HTML entities with and without semicolons', () => {
    expect(decodeHtmlEntities('&lt;&#60&#x3C;&colon;')).toBe('<<<:');
  });

  it('folds fullwidth forms and case', () => {
    expect(normalize('%EF%BC%9CSCRIPT%EF%BC%9E')).toBe('<script>');
  });

  it('drops NUL bytes', () => {
    expect(normalize('/etc/passwd%00.png')).toBe('/etc/passwd.png');
  });
});

describe('openapi document', () => {
  const spec = new ApiSpec(apiSpecFromObject({
    openapi: '3.0.3',
    info: { title: 'shop', version: '1' },
    servers: [{ url: 'https://api.example.com/v2' }],
    paths: {
      '/orders': { get: { deprecated: true }, post: {} },
      '/orders/{orderId}': { get: {} },
      '/orders/latest': { get: {} },
    },
  }));

  it('matches templated paths under the server base path', () => {
    expect(spec.lookup('GET', '/v2/orders/991')).toEqual({ template: '/v2/orders/{orderId}', documented: true, deprecated: false });
  });

  it('prefers a literal segment over a parameter', () => {
    expect(spec.lookup('GET', '/v2/orders/latest').template).toBe('/v2/orders/latest');
  });

  it('reports deprecated operations', () => {
    expect(spec.lookup('GET', '/v2/orders').deprecated).toBe(true);
    expect(spec.lookup('POST', '/v2/orders').deprecated).toBe(false);
  });

  it('reports undocumented methods and paths', () => {
    expect(spec.lookup('DELETE', '/v2/orders/991').documented).toBe(false);
    expect(spec.lookup('GET', '/v2/debug').documented).toBe(false);
    expect(spec.lookup('GET', '/orders/991').documented).toBe(false);
  });

  it('ignores path parameters when it looks a request up', () => {
    const event = eventFromFields({ 'http.request.method': 'GET', 'url.path': '/v2/orders;jsessionid=ABCDEF0123456789', 'client.address': '192.0.2.1' }, Date.UTC(2024, 0, 1));
    const view = new EventView(event, { ...DEFAULT_DETECTOR_CONTEXT, apiSpec: spec });

    expect(view.apiLookup()?.documented).toBe(true);
  });

  it('rejects a Swagger 2 document', () => {
    expect(() => apiSpecFromObject({ swagger: '2.0', paths: {} })).toThrow(/expected an OpenAPI 3 document/);
  });
});
