/*
 * TCP framing of syslog messages, RFC 6587 section 3.4:
 *   octet counting:        MSG-LEN SP SYSLOG-MSG        (MSG-LEN in decimal, no leading zero)
 *   non-transparent:       SYSLOG-MSG TRAILER           (TRAILER is LF, or NUL for some senders)
 * In `auto` mode each message picks its framing: a digit 1-9 starts an octet count when the
 * digits are followed by a space and `<`, and anything else is non-transparent. The decoder
 * works on bytes and keeps at most one message (up to the maximum size) between reads.
 */

export type Framing = 'auto' | 'octet_counting' | 'non_transparent';

export interface FrameSink {
  /**
   * Takes one message. `bytes` is only valid during the call. `originalSize` is set when the
   * message was cut to the maximum size: the full size in bytes when the framing told it, or
   * -1 when it did not (non-transparent framing delivers the head before the trailer arrives).
   */
  frame(bytes: Buffer, originalSize?: number): void;
  /** Reports a framing problem that did not lose data, such as a frame cut short by the peer. */
  problem(reason: 'invalid_octet_count' | 'incomplete_frame' | 'missing_trailer'): void;
}

export interface FrameDecoderOptions {
  framing: Framing;
  /** The non-transparent trailer. */
  trailer: 'LF' | 'NUL';
  /** Longest message kept, in bytes; longer messages are cut to this head. */
  maxMessageSize: number;
}

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const SP = 0x20;
const LT = 0x3c;
/** MSG-LEN digits read before a prefix counts as invalid; 10 digits exceed any sane size. */
const MAX_LENGTH_DIGITS = 10;

const EMPTY = Buffer.alloc(0);

function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}

type OctetHeader = { length: number; start: number } | 'need_more' | 'not_octet';

export class FrameDecoder {
  private rest: Buffer = EMPTY;
  /** Bytes of an over-long octet-counted message still to skip. */
  private skipBytes = 0;
  /** True while the rest of an over-long non-transparent message is skipped up to its trailer. */
  private skipToTrailer = false;
  private readonly trailer: number;

  constructor(private readonly options: FrameDecoderOptions, private readonly sink: FrameSink) {
    this.trailer = options.trailer === 'NUL' ? NUL : LF;
  }

  /** Bytes held between reads: at most one partial message. */
  get buffered(): number {
    return this.rest.length;
  }

  push(chunk: Buffer): void {
    const data = this.rest.length > 0 ? Buffer.concat([this.rest, chunk]) : chunk;
    let position = 0;
    for (;;) {
      const next = this.step(data, position);
      if (next < 0) break;
      position = next;
    }
    this.rest = this.skipToTrailer || this.skipBytes > 0 ? EMPTY : data.subarray(position);
  }

  /** Delivers what is left when the peer closes: a last message without trailer, or a cut-short frame. */
  end(): void {
    const data = this.rest;
    this.rest = EMPTY;
    if (data.length === 0) return;
    if (this.options.framing !== 'non_transparent') {
      const header = this.octetHeader(data, 0);
      if (typeof header === 'object') {
        this.sink.problem('incomplete_frame');
        this.sink.frame(data.subarray(header.start), header.length);
        return;
      }
      if (this.options.framing === 'octet_counting') this.sink.problem('invalid_octet_count');
    }
    this.sink.problem('missing_trailer');
    this.emitNonTransparent(data);
  }

  /** Handles one message or skip at `position`; returns the next position, or -1 to wait for more bytes. */
  private step(data: Buffer, position: number): number {
    if (this.skipBytes > 0) {
      const skipped = Math.min(this.skipBytes, data.length - position);
      this.skipBytes -= skipped;
      return this.skipBytes > 0 ? -1 : position + skipped;
    }
    if (this.skipToTrailer) {
      const trailer = data.indexOf(this.trailer, position);
      if (trailer < 0) return -1;
      this.skipToTrailer = false;
      return trailer + 1;
    }
    if (position >= data.length) return -1;

    if (this.options.framing !== 'non_transparent') {
      const header = this.octetHeader(data, position);
      if (header === 'need_more') return -1;
      if (typeof header === 'object') return this.octetFrame(data, header);
      if (this.options.framing === 'octet_counting') this.sink.problem('invalid_octet_count');
    }
    return this.nonTransparentFrame(data, position);
  }

  /** Reads `MSG-LEN SP` at `position`. */
  private octetHeader(data: Buffer, position: number): OctetHeader {
    if (data[position] < 0x31 || data[position] > 0x39) return 'not_octet';
    let i = position;
    let length = 0;
    while (i < data.length && isDigit(data[i]) && i - position < MAX_LENGTH_DIGITS) {
      length = length * 10 + data[i] - 0x30;
      i++;
    }
    if (i >= data.length) return 'need_more';
    if (data[i] !== SP) return 'not_octet';
    if (this.options.framing === 'auto') {
      // In auto mode, a line that happens to start with a number must not be read as a count.
      if (i + 1 >= data.length) return 'need_more';
      if (data[i + 1] !== LT) return 'not_octet';
    }
    return { length, start: i + 1 };
  }

  private octetFrame(data: Buffer, header: { length: number; start: number }): number {
    const kept = Math.min(header.length, this.options.maxMessageSize);
    if (data.length - header.start < kept) return -1;
    const end = header.start + kept;
    if (kept < header.length) {
      this.sink.frame(data.subarray(header.start, end), header.length);
      this.skipBytes = header.length - kept;
    } else {
      this.sink.frame(data.subarray(header.start, end));
    }
    return end;
  }

  private nonTransparentFrame(data: Buffer, position: number): number {
    const trailer = data.indexOf(this.trailer, position);
    const max = this.options.maxMessageSize;
    if (trailer < 0 || trailer - position > max) {
      if (data.length - position <= max) return -1;
      // Deliver the head now, so one endless line cannot hold memory; skip the rest.
      this.sink.frame(data.subarray(position, position + max), -1);
      if (trailer < 0) {
        this.skipToTrailer = true;
        return -1;
      }
      return trailer + 1;
    }
    this.emitNonTransparent(data.subarray(position, trailer));
    return trailer + 1;
  }

  /** Strips a CR before an LF trailer and NUL bytes before the trailer; skips empty lines. */
  private emitNonTransparent(frame: Buffer): void {
    let end = frame.length;
    while (end > 0 && (frame[end - 1] === NUL || (this.trailer === LF && frame[end - 1] === CR))) end--;
    if (end > 0) this.sink.frame(frame.subarray(0, end));
  }
}
