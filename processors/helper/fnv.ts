/**
 * FNV-1a hashes (Fowler, Noll and Vo), as Go's hash/fnv computes them, so that sampling decisions
 * match the OpenTelemetry Collector's for the same seed and trace id.
 */

const FNV32_OFFSET = 0x811c9dc5;
const FNV32_PRIME = 0x01000193;
const FNV64_OFFSET = 0xcbf29ce484222325n;
const FNV64_PRIME = 0x100000001b3n;
const MASK64 = 0xffffffffffffffffn;

/** FNV-1a, 32 bits, over the parts in order; returns an unsigned 32-bit integer. */
export function fnv1a32(...parts: Uint8Array[]): number {
  let hash = FNV32_OFFSET;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) hash = Math.imul(hash ^ part[i], FNV32_PRIME);
  }
  return hash >>> 0;
}

/** FNV-1a, 64 bits, over the parts in order. */
export function fnv1a64(...parts: Uint8Array[]): bigint {
  let hash = FNV64_OFFSET;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) hash = ((hash ^ BigInt(part[i])) * FNV64_PRIME) & MASK64;
  }
  return hash;
}

/** The four bytes of an unsigned 32-bit integer, least significant first, as the Collector feeds its hash seed. */
export function uint32LittleEndian(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value >>> 0, true);
  return bytes;
}
