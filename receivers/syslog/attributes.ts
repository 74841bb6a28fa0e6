import type { IAnyValue, IKeyValue } from '../../core/otlp/codec.js';
import type { OtlpLogsEncoder } from '../helper/otlp-logs.js';

/** Distinct values kept per attribute; beyond that the attribute's values are forgotten and collected again. */
const MAX_VALUES_PER_KEY = 1024;
/** Longer values are not kept, so a few long hostnames cannot hold much memory. */
const MAX_CACHED_LENGTH = 64;

/** Returns a copy of the text that shares no memory with the message it was cut from. */
function detached(text: string): string {
  return `${text} `.slice(0, -1);
}

/** The AnyValue of a context attribute: strings, integers, other numbers and booleans. */
export function anyValue(value: string | number | boolean): IAnyValue {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  return Number.isInteger(value) ? { intValue: value as never } : { doubleValue: value };
}

/**
 * Shared KeyValue objects, encoded once, for the attribute values that repeat from message to
 * message (priority, facility, version, hostname, appname, msg_id). They save the worker both the
 * objects and their encoding for most attributes of a record.
 */
export class AttributeCache {
  private readonly ints = new Map<string, IKeyValue[]>();
  private readonly strings = new Map<string, Map<string, IKeyValue>>();

  constructor(private readonly encoder: OtlpLogsEncoder) {}

  /** A KeyValue with a small non-negative integer value, such as a priority. */
  int(key: string, value: number): IKeyValue {
    let values = this.ints.get(key);
    if (!values) this.ints.set(key, (values = []));
    return values[value] ??= this.encoder.preEncoded(key, { intValue: value as never });
  }

  /** A KeyValue with a string value; long values get a KeyValue of their own. */
  string(key: string, value: string): IKeyValue {
    if (value.length > MAX_CACHED_LENGTH) return { key, value: { stringValue: value } };
    let values = this.strings.get(key);
    if (!values) this.strings.set(key, (values = new Map()));
    const cached = values.get(value);
    if (cached) return cached;
    if (values.size >= MAX_VALUES_PER_KEY) values.clear();
    const kept = detached(value);
    const attribute = this.encoder.preEncoded(key, { stringValue: kept });
    values.set(kept, attribute);
    return attribute;
  }
}
