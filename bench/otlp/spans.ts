import Long from 'long';
import { encodeRequest, type ISpan } from '../../core/otlp/codec.js';
import { toAttributes } from '../../core/otlp/attributes.js';

/** Spans per export request by default, the most the OpenTelemetry SDK's batch span processor sends at once. */
export const SPANS_PER_BATCH = 512;

const ROUTES = ['/api/orders/{id}', '/api/products', '/api/cart', '/api/users/{id}/profile', '/api/search', '/login', '/api/payments'];
const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36', 'okhttp/4.12.0', 'python-requests/2.32.3'];

/** Attack payloads of the kinds the default rules catch, carried by about one span in 30. */
const ATTACKS: Record<string, string>[] = [
  { 'url.query': "id=1' OR '1'='1" },
  { 'url.query': 'q=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E' },
  { 'url.path': '/static/../../../../etc/passwd' },
  { 'user_agent.original': 'sqlmap/1.8.2#stable (https://sqlmap.org)' },
  { 'url.query': 'search=1 UNION SELECT username,password FROM users--' },
];

function hex(random: () => number, bytes: number): Buffer {
  const buffer = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) buffer[i] = Math.floor(random() * 256);
  return buffer;
}

/** A seeded generator, so every run sends the same data. */
function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return state / 4294967296;
  };
}

function makeSpan(random: () => number, index: number, nowNanos: Long): ISpan {
  const route = ROUTES[index % ROUTES.length];
  const path = route.replace('{id}', String(1000 + Math.floor(random() * 9000)));
  const attack = index % 30 === 7 ? ATTACKS[Math.floor(index / 30) % ATTACKS.length] : {};
  const start = nowNanos.add(index * 1000);
  return {
    traceId: hex(random, 16),
    spanId: hex(random, 8),
    name: `GET ${route}`,
    kind: 2,
    startTimeUnixNano: start,
    endTimeUnixNano: start.add(3_000_000 + Math.floor(random() * 40_000_000)),
    attributes: toAttributes({
      'http.request.method': 'GET',
      'url.scheme': 'https',
      'url.path': path,
      'url.query': `page=${index % 7}&size=20`,
      'http.route': route,
      'http.response.status_code': index % 17 === 0 ? 500 : 200,
      'client.address': `198.51.100.${index % 250}`,
      'user_agent.original': AGENTS[index % AGENTS.length],
      'server.address': 'shop.example.com',
      'network.protocol.version': '1.1',
      ...attack,
    }),
    status: { code: index % 17 === 0 ? 2 : 0 },
  };
}

/** Encodes `count` distinct export requests of `spansPerBatch` HTTP SERVER spans with about 10 attributes each. */
export function encodeBatches(count: number, seed = 42, spansPerBatch = SPANS_PER_BATCH): Uint8Array[] {
  const random = randomSource(seed);
  const nowNanos = Long.fromNumber(Date.now(), true).mul(1_000_000);
  const batches: Uint8Array[] = [];
  for (let b = 0; b < count; b++) {
    const spans: ISpan[] = [];
    for (let i = 0; i < spansPerBatch; i++) spans.push(makeSpan(random, b * spansPerBatch + i, nowNanos));
    batches.push(encodeRequest('traces', {
      resourceSpans: [{
        resource: { attributes: toAttributes({ 'service.name': `shop-${b % 4}`, 'host.name': `node-${b % 3}`, 'deployment.environment.name': 'bench' }) },
        scopeSpans: [{ scope: { name: 'io.opentelemetry.http', version: '1.0.0' }, spans }],
      }],
    }));
  }
  return batches;
}
