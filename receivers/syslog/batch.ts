import type { Frames } from '../../core/pool/worker-api.js';

type MessageAttributes = Record<string, string | number | boolean>;

/**
 * Messages collected on the main thread for one worker-pool task: the bytes back to back, each
 * message's end offset, and the attributes of single messages. `take` hands out a compact copy,
 * so the batch's own buffer is reused.
 */
export class FrameBatch {
  private buffer: Buffer;
  private length = 0;
  private ends: number[] = [];
  private attributes: (MessageAttributes | undefined)[] | undefined;

  constructor(initialBytes = 64 * 1024) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  get count(): number {
    return this.ends.length;
  }

  get bytes(): number {
    return this.length;
  }

  add(message: Buffer, attributes?: MessageAttributes): void {
    if (this.length + message.length > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + message.length));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    message.copy(this.buffer, this.length);
    this.length += message.length;
    if (attributes) {
      this.attributes ??= [];
      this.attributes[this.ends.length] = attributes;
    }
    this.ends.push(this.length);
  }

  /** Returns the collected messages and empties the batch. */
  take(): Frames {
    const frames: Frames = { bytes: Uint8Array.prototype.slice.call(this.buffer, 0, this.length), ends: Uint32Array.from(this.ends) };
    if (this.attributes) frames.attributes = this.attributes;
    this.length = 0;
    this.ends = [];
    this.attributes = undefined;
    return frames;
  }
}
