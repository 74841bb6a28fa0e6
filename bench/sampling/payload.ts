import { randomBytes, randomFillSync } from 'node:crypto';
import Long from 'long';
import { encodeRequest, type ExportTraceServiceRequest, type ISpan } from '../../core/otlp/codec.js';
import { toAttributes } from '../../core/otlp/attributes.js';

/*
 * The benchmark's OTLP/protobuf traces request: one template encoded once, whose trace ids are
 * overwritten in place before each send, so every request carries new traces without encoding
 * on the sending side. Trace ids of attack traces start with ATTACK_PREFIX, so the sink can
 * count them without decoding.
 */

export const TRACES_PER_REQUEST = 50;
export const SPANS_PER_TRACE = 5;
/** One trace per request is an attack: 2% of traces. */
export const ATTACKS_PER_REQUEST = 1;
export const ATTACK_PREFIX = 0xa7;

function id(bytes: number): Uint8Array {
  return Uint8Array.from(randomBytes(bytes));
}

/**
 * A benign trace's client address: one of CLIENTS fixed-width IPv6 addresses in 2001:db8::/64,
 * written over the template's bytes for each trace. Real traffic at this rate comes from many
 * clients, each at a few requests a second at most. A few addresses sending hundreds of requests
 * a second would be rate abuse, so the security policy would rightly keep all their traces.
 */
const ADDRESS_PREFIX = '2001:db8:0:0:0:0:';
const ADDRESS_DIGITS = 8;
export const CLIENTS = 20_000;

function benignAddress(index: number): string {
  const digits = (0xb0000000 + index).toString(16);
  return `${ADDRESS_PREFIX}${digits.slice(0, 4)}:${digits.slice(4)}`;
}

function traceSpans(traceId: Uint8Array, attack: boolean, index: number): ISpan[] {
  const start = Long.fromNumber(Date.UTC(2026, 11, 4, 10, 0, 0) + index, true).mul(1_000_000);
  const root = id(8);
  const server: ISpan = {
    traceId, spanId: root, name: 'GET /products', kind: 2, startTimeUnixNano: start, endTimeUnixNano: start.add(12_000_000),
    attributes: toAttributes({
      'http.request.method': 'GET', 'url.path': '/products', 'http.route': '/products',
      'url.query': attack ? "id=1' OR '1'='1" : `page=${index % 7}`, 'http.response.status_code': attack ? 500 : 200,
      'client.address': attack ? '203.0.113.66' : benignAddress(index), 'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64)',
      'server.address': 'shop.example.com',
    }),
    status: { code: 0 },
  };
  const children = Array.from({ length: SPANS_PER_TRACE - 1 }, (_, child): ISpan => ({
    traceId, spanId: id(8), parentSpanId: root, name: child % 2 === 0 ? 'SELECT products' : 'GET inventory', kind: child % 2 === 0 ? 3 : 1,
    startTimeUnixNano: start.add(1_000_000 * (child + 1)), endTimeUnixNano: start.add(1_000_000 * (child + 2)),
    attributes: toAttributes(child % 2 === 0 ? { 'db.system': 'postgresql', 'db.query.text': 'SELECT * FROM products WHERE page = $1' } : { 'http.request.method': 'GET', 'url.full': 'http://inventory:8080/stock' }),
    status: { code: 0 },
  }));
  return [server, ...children];
}

export interface Template {
  bytes: Buffer;
  /** For each trace, the offsets of its trace id in `bytes`, of its client address's last digits (benign traces), and whether it is an attack. */
  traces: { offsets: number[]; addressOffset: number; attack: boolean }[];
}

export function buildTemplate(): Template {
  const ids = Array.from({ length: TRACES_PER_REQUEST }, () => id(16));
  const request: ExportTraceServiceRequest = {
    resourceSpans: [{
      resource: { attributes: toAttributes({ 'service.name': 'shop-api', 'deployment.environment.name': 'bench' }) },
      scopeSpans: [{ scope: { name: 'bench' }, spans: ids.flatMap((traceId, index) => traceSpans(traceId, index < ATTACKS_PER_REQUEST, index)) }],
    }],
  };
  const bytes = Buffer.from(encodeRequest('traces', request));
  const traces = ids.map((traceId, index) => {
    const offsets: number[] = [];
    for (let at = bytes.indexOf(traceId); at >= 0; at = bytes.indexOf(traceId, at + 1)) offsets.push(at);
    if (offsets.length !== SPANS_PER_TRACE) throw new Error(`trace ${index} id found ${offsets.length} times, expected ${SPANS_PER_TRACE}`);
    const attack = index < ATTACKS_PER_REQUEST;
    const address = bytes.indexOf(benignAddress(index));
    if (!attack && address < 0) throw new Error(`trace ${index} client address not found`);
    return { offsets, addressOffset: attack ? -1 : address + ADDRESS_PREFIX.length, attack };
  });
  return { bytes, traces };
}

/**
 * Writes fresh random trace ids into a copy of the template, the first byte marking attacks.
 * Random ids matter: FNV-1a, which the probabilistic policy hashes with as the Collector does,
 * barely mixes the last bytes into the top bits, so ids that differ only in a counter would all
 * get the same decision.
 */
export function nextRequest(template: Template): Buffer {
  const bytes = Buffer.from(template.bytes);
  const traceId = Buffer.alloc(16);
  for (const trace of template.traces) {
    randomFillSync(traceId);
    traceId[0] = trace.attack ? ATTACK_PREFIX : 0x01;
    for (const offset of trace.offsets) traceId.copy(bytes, offset);
    if (trace.addressOffset >= 0) writeAddressDigits(bytes, trace.addressOffset, traceId.readUInt32BE(12) % CLIENTS);
  }
  return bytes;
}

/** Writes `value` as eight hex digits, a colon after the fourth, at `offset`: the address's last two groups. */
function writeAddressDigits(bytes: Buffer, offset: number, value: number): void {
  const digits = value.toString(16).padStart(ADDRESS_DIGITS, '0');
  bytes.write(`${digits.slice(0, 4)}:${digits.slice(4)}`, offset, 'latin1');
}
