import type { IAnyValue, IKeyValue } from '../../core/otlp/codec.js';
import { attributeOf, type EncodedAttribute, type OtlpLogsEncoder } from '../helper/otlp-logs.js';

/** Distinct values kept per attribute; past this bound the attribute's values are dropped and encoded again on use. */
const MAX_VALUES_PER_KEY = 1024;
/** Longer values are not kept, so a few long hostnames cannot hold much memory. */
const MAX_CACHED_LENGTH = 64;

/** Returns a copy of the text that shares no memory with the message it was cut from. */
function detached(text: string): string {
  return `${text} `.slice(0, -1);
}

/** Returns the AnyValue of a context attribute: a string, an integer, another number or a boolean. */
export function anyValue(value: string | number | boolean): IAnyValue {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  return Number.isInteger(value) ? { intValue: value as never } : { doubleValue: value };
}

/**
 * Encodings of the attribute values that repeat from message to message (priority, facility,
 * version, hostname, appname, msg_id), made once per value. Every record still gets KeyValue
 * objects of its own; the logs encoder copies the bytes as long as they are unchanged.
 */
export class AttributeCache {
  private readonly ints = new Map<string, EncodedAttribute[]>();
  private readonly strings = new Map<string, Map<string, EncodedAttribute>>();

  constructor(private readonly encoder: OtlpLogsEncoder) {}

  /** Returns a KeyValue with a small non-negative integer value, such as a priority. */
  int(key: string, value: number): IKeyValue {
    let values = this.ints.get(key);
    if (!values) this.ints.set(key, (values = []));
    return attributeOf(values[value] ??= this.encoder.encodeAttribute(key, value));
  }

  /** Returns a KeyValue with a string value; long values are encoded with the record instead. */
  string(key: string, value: string): IKeyValue {
    if (value.length > MAX_CACHED_LENGTH) return { key, value: { stringValue: value } };
    let values = this.strings.get(key);
    if (!values) this.strings.set(key, (values = new Map()));
    let encoded = values.get(value);
    if (!encoded) {
      if (values.size >= MAX_VALUES_PER_KEY) values.clear();
      const copy = detached(value);
      encoded = this.encoder.encodeAttribute(key, copy);
      values.set(copy, encoded);
    }
    return attributeOf(encoded);
  }
}
