import Long from 'long';
import type { IAnyValue, IKeyValue } from './codec.js';

/** A JavaScript value of an OTLP AnyValue. int64 values beyond 2^53 become strings to stay exact. */
export type AttributeValue = string | number | boolean | Uint8Array | AttributeValue[] | { [key: string]: AttributeValue } | null;

export function anyValueToJs(value: IAnyValue | null | undefined): AttributeValue {
  if (!value) return null;
  if (value.stringValue !== undefined && value.stringValue !== null && Object.hasOwn(value, 'stringValue')) return value.stringValue;
  if (Object.hasOwn(value, 'intValue') && value.intValue !== null && value.intValue !== undefined) return int64ToJs(value.intValue);
  if (Object.hasOwn(value, 'boolValue') && value.boolValue !== null && value.boolValue !== undefined) return value.boolValue;
  if (Object.hasOwn(value, 'doubleValue') && value.doubleValue !== null && value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(anyValueToJs);
  if (value.kvlistValue) {
    const result: Record<string, AttributeValue> = {};
    for (const item of value.kvlistValue.values ?? []) result[item.key ?? ''] = anyValueToJs(item.value);
    return result;
  }
  if (value.bytesValue) return value.bytesValue;
  return null;
}

function int64ToJs(value: number | Long | string): number | string {
  if (typeof value === 'number') return value;
  const long = typeof value === 'string' ? Long.fromString(value) : Long.fromBits(value.low, value.high, value.unsigned);
  const number = long.toNumber();
  return Number.isSafeInteger(number) ? number : long.toString();
}

/** Returns the value of the first attribute with this key, or undefined. */
export function findAttribute(attributes: IKeyValue[] | null | undefined, key: string): AttributeValue | undefined {
  if (!attributes) return undefined;
  for (const attribute of attributes) {
    if (attribute.key === key) return anyValueToJs(attribute.value);
  }
  return undefined;
}

/** Returns an attribute as a string when it is a string or a number, else undefined. */
export function stringAttribute(attributes: IKeyValue[] | null | undefined, key: string): string | undefined {
  const value = findAttribute(attributes, key);
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** Returns an attribute as a number when it is a number or a numeric string, else undefined. */
export function numberAttribute(attributes: IKeyValue[] | null | undefined, key: string): number | undefined {
  const value = findAttribute(attributes, key);
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

/** Builds an AnyValue from a JavaScript value. Integers become intValue, other numbers doubleValue. */
export function toAnyValue(value: AttributeValue | undefined): IAnyValue {
  if (value === null || value === undefined) return {};
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number') return Number.isInteger(value) ? { intValue: Long.fromNumber(value) } : { doubleValue: value };
  if (value instanceof Uint8Array) return { bytesValue: value };
  if (Array.isArray(value)) return { arrayValue: { values: value.map(toAnyValue) } };
  return { kvlistValue: { values: Object.entries(value).map(([key, item]) => ({ key, value: toAnyValue(item) })) } };
}

export function keyValue(key: string, value: AttributeValue | undefined): IKeyValue {
  return { key, value: toAnyValue(value) };
}

/** Builds an attribute list from an object, leaving out undefined values. */
export function toAttributes(values: Record<string, AttributeValue | undefined>): IKeyValue[] {
  const attributes: IKeyValue[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined) attributes.push(keyValue(key, value));
  }
  return attributes;
}

/** Sets an attribute, replacing an existing one with the same key. */
export function setAttribute(attributes: IKeyValue[], key: string, value: AttributeValue): void {
  const existing = attributes.find((attribute) => attribute.key === key);
  if (existing) existing.value = toAnyValue(value);
  else attributes.push(keyValue(key, value));
}

/** Converts OTLP nanoseconds (Long, number or string) to milliseconds since the epoch; 0 when unset. */
export function nanosToMillis(value: number | Long | string | null | undefined): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'number') return Math.floor(value / 1e6);
  const long = typeof value === 'string' ? Long.fromString(value, true) : Long.fromBits(value.low, value.high, true);
  return long.div(1_000_000).toNumber();
}

/** Converts milliseconds since the epoch to OTLP nanoseconds as an unsigned Long. */
export function millisToNanos(ms: number): Long {
  return Long.fromNumber(Math.floor(ms), true).mul(1_000_000);
}
