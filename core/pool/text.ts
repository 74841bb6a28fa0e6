const decoder = new TextDecoder();

/**
 * Splits UTF-8 text into its non-empty lines, breaking at LF, CRLF and a lone CR as Node's
 * readline does. Bytes that are not valid UTF-8 become U+FFFD, as they do when a stream is read
 * as UTF-8 text.
 */
export function splitLines(bytes: Uint8Array): string[] {
  const lines: string[] = [];
  for (const line of decoder.decode(bytes).split(/\r\n|\n|\r/)) if (line.length > 0) lines.push(line);
  return lines;
}
