import { isUtf8 } from 'node:buffer';

/**
 * Decodes bytes as UTF-8, writing each byte that is not part of a valid sequence with `escape`,
 * so that the text keeps what a lossy decoder would replace with U+FFFD. Valid sequences follow
 * RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
 */
export function decodeUtf8Escaping(bytes: Buffer, escape: (byte: number) => string): string {
  if (isUtf8(bytes)) return bytes.toString('utf8');
  let output = '';
  let runStart = 0;
  let i = 0;
  while (i < bytes.length) {
    const length = validSequenceLength(bytes, i);
    if (length > 0) {
      i += length;
      continue;
    }
    output += bytes.toString('utf8', runStart, i) + escape(bytes[i]);
    i++;
    runStart = i;
  }
  return output + bytes.toString('utf8', runStart, i);
}

function isContinuation(byte: number | undefined): boolean {
  return byte !== undefined && (byte & 0xc0) === 0x80;
}

/** The length of the valid UTF-8 sequence at `i`, or 0 when the byte there does not start one. */
function validSequenceLength(bytes: Buffer, i: number): number {
  const first = bytes[i];
  if (first < 0x80) return 1;
  const second = bytes[i + 1];
  if (first >= 0xc2 && first <= 0xdf) return isContinuation(second) ? 2 : 0;
  if (first >= 0xe0 && first <= 0xef) {
    const low = first === 0xe0 ? 0xa0 : 0x80;
    const high = first === 0xed ? 0x9f : 0xbf;
    return second >= low && second <= high && isContinuation(bytes[i + 2]) ? 3 : 0;
  }
  if (first >= 0xf0 && first <= 0xf4) {
    const low = first === 0xf0 ? 0x90 : 0x80;
    const high = first === 0xf4 ? 0x8f : 0xbf;
    return second >= low && second <= high && isContinuation(bytes[i + 2]) && isContinuation(bytes[i + 3]) ? 4 : 0;
  }
  return 0;
}

function hex(byte: number): string {
  return byte.toString(16).toUpperCase().padStart(2, '0');
}

/** Writes an invalid byte as `\xHH`, the form nginx and syslog-ng use for bytes they cannot print. */
export function backslashEscape(byte: number): string {
  return `\\x${hex(byte)}`;
}

/** Writes an invalid byte as `%HH`, so URL decoding downstream sees the byte the sender sent. */
export function percentEscape(byte: number): string {
  return `%${hex(byte)}`;
}
