import { parseIsoTime } from './time.js';

/** A log line with the wrapping a container runtime added taken off. */
export interface Unwrapped {
  text: string;
  /** The runtime's receive time, for lines whose own text carries no time. */
  timeMs?: number;
}

/**
 * Removes the wrapping container runtimes put around each line of a container's output, as found
 * in `/var/log/containers/*.log` on Kubernetes nodes:
 * - CRI (containerd, CRI-O): `2025-12-31T17:37:40.493035218+01:00 stdout F <line>`;
 * - Docker's json-file driver: `{"log":"<line>\n","stream":"stdout","time":"…"}`.
 * Lines without such wrapping come back unchanged.
 *
 * NOTE: CRI splits lines longer than the runtime's buffer into `P` (partial) pieces. Each piece is
 * read as a line of its own, so such a request is parsed from its first piece only.
 */
export function unwrapContainerLine(line: string): Unwrapped {
  if (line.length > 36 && line[4] === '-' && line[10] === 'T') {
    const space = line.indexOf(' ');
    if (space > 18 && space < 40) {
      const stream = line.slice(space + 1, space + 8);
      if ((stream === 'stdout ' || stream === 'stderr ') && (line[space + 8] === 'F' || line[space + 8] === 'P') && line[space + 9] === ' ') {
        return { text: line.slice(space + 10), timeMs: parseIsoTime(line.slice(0, space)) };
      }
    }
  }
  if (line.startsWith('{"log":')) {
    try {
      const entry = JSON.parse(line) as { log?: unknown; time?: unknown };
      if (typeof entry.log === 'string') {
        const text = entry.log.endsWith('\n') ? entry.log.slice(0, -1) : entry.log;
        return { text, timeMs: typeof entry.time === 'string' ? parseIsoTime(entry.time) : undefined };
      }
    } catch {
      // Not Docker's wrapping after all; the line is read as it is.
    }
  }
  return { text: line };
}
