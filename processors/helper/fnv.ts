/**
 * FNV-1a hashes (Fowler, Noll and Vo), as Go's hash/fnv computes them, so that sampling decisions
 * match the OpenTelemetry Collector's for the same seed and trace id.
 */

const FNV32_OFFSET = 0x811c9dc5;
const FNV32_PRIME = 0x01000193;

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
  const [high, low] = fnv1a64Halves(...parts);
  return (BigInt(high) << 32n) | BigInt(low);
}

/**
 * FNV-1a, 64 bits, as its high and low 32-bit halves, computed without BigInt. The prime is
 * 2^40 + 0x1b3, so multiplying by it adds the hash shifted left by 40 bits (the low half shifted
 * by 8, into the high half) to the hash times 0x1b3.
 */
export function fnv1a64Halves(...parts: Uint8Array[]): [number, number] {
  let high = 0xcbf29ce4;
  let low = 0x84222325;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) {
      low = (low ^ part[i]) >>> 0;
      const lowProduct = low * 0x1b3;
      const carry = Math.floor(lowProduct / 0x100000000);
      high = (Math.imul(high, 0x1b3) + carry + (low << 8)) >>> 0;
      low = lowProduct >>> 0;
    }
  }
  return [high, low];
}

/** Returns the four bytes of an unsigned 32-bit integer, least significant first, as the Collector feeds its hash seed. */
export function uint32LittleEndian(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value >>> 0, true);
  return bytes;
}
