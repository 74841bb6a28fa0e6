import Long from 'long';
import type { IAnyValue, IKeyValue, ILogRecord } from '../../core/otlp/codec.js';
import { keyValue } from '../../core/otlp/attributes.js';
import type { AttributeCache } from './attributes.js';
import { SEVERITY_NUMBER, SEVERITY_TEXT, type StructuredData, type SyslogMessage, type SyslogTime } from './message.js';

const TWO_16 = 0x10000;
const TWO_32 = 0x100000000;

/**
 * OTLP nanoseconds of a syslog time between 1970 and 2554, the range of an unsigned 64-bit count
 * of nanoseconds (the parser leaves other times out). The value is put together from 16-bit
 * parts, because seconds × 10^9 exceeds 2^53 and Long multiplication costs more than the rest
 * of a record.
 */
export function timeToNanos(time: SyslogTime): Long {
  // seconds = a·2^16 + b, so the value is (a·10^9)·2^16 + (b·10^9 + nanos); each part stays below 2^53.
  const a = Math.floor(time.seconds / TWO_16);
  const b = time.seconds % TWO_16;
  const scaled = a * 1_000_000_000;
  const rest = b * 1_000_000_000 + time.nanos;
  const middle = (scaled % TWO_16) * TWO_16 + rest;
  const high = Math.floor(scaled / TWO_16) + Math.floor(middle / TWO_32);
  return Long.fromBits(middle % TWO_32 | 0, high | 0, true);
}

/** OTLP nanoseconds of a time in milliseconds, keeping sub-millisecond digits. */
export function millisToNanos(ms: number): Long {
  const whole = Math.floor(ms);
  return Long.fromNumber(whole, true).multiply(1_000_000).add(Math.round((ms - whole) * 1e6));
}

function structuredDataValue(data: StructuredData): IAnyValue {
  const elements: IKeyValue[] = [];
  for (const id in data) {
    const params: IKeyValue[] = [];
    const element = data[id];
    for (const name in element) params.push({ key: name, value: { stringValue: element[name] } });
    elements.push({ key: id, value: { kvlistValue: { values: params } } });
  }
  return { kvlistValue: { values: elements } };
}

/**
 * Builds the OTLP log record of a syslog message with the attributes of the Collector's syslog
 * receiver (`priority`, `facility`, `version`, `hostname`, `appname`, `proc_id`, `msg_id`,
 * `structured_data`) and the severity mapped from PRI & 7. A message without priority has the
 * severity unset. The body is MSG (RFC 5424) or CONTENT (RFC 3164); a message without a timestamp
 * takes the receive time. `cache` shares the attributes whose values repeat across messages.
 */
export function syslogRecord(message: SyslogMessage, observed: Long, extra: IKeyValue[], cache: AttributeCache): ILogRecord {
  const attributes: IKeyValue[] = [];
  if (message.priority !== undefined) attributes.push(cache.int('priority', message.priority), cache.int('facility', message.priority >> 3));
  if (message.version !== undefined) attributes.push(cache.int('version', message.version));
  if (message.hostname !== undefined) attributes.push(cache.string('hostname', message.hostname));
  if (message.appname !== undefined) attributes.push(cache.string('appname', message.appname));
  if (message.procId !== undefined) attributes.push(keyValue('proc_id', message.procId));
  if (message.msgId !== undefined) attributes.push(cache.string('msg_id', message.msgId));
  if (message.sequence !== undefined) attributes.push(keyValue('sequence_number', message.sequence));
  if (message.structuredData !== undefined) attributes.push({ key: 'structured_data', value: structuredDataValue(message.structuredData) });
  if (message.error !== undefined) attributes.push(keyValue('watchpost.parse.error', message.error));
  for (const attribute of extra) attributes.push(attribute);
  const record: ILogRecord = {
    timeUnixNano: message.time ? timeToNanos(message.time) : observed,
    observedTimeUnixNano: observed,
    body: { stringValue: message.message },
    attributes,
  };
  if (message.priority !== undefined) {
    record.severityNumber = SEVERITY_NUMBER[message.priority & 7];
    record.severityText = SEVERITY_TEXT[message.priority & 7];
  }
  return record;
}
