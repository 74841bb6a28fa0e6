/**
 * Converts wall-clock times of a named time zone to UTC, for syslog timestamps that carry no
 * offset (RFC 3164 and ISO 8601 without a zone). Offsets come from the IANA database built into
 * Node's Intl; they are cached per hour, so a stream of messages costs one lookup an hour.
 */
export class TimeZone {
  readonly name: string;
  private readonly format: Intl.DateTimeFormat | undefined;
  private readonly offsets = new Map<number, number>();

  /** `name` is an IANA zone such as `Europe/Berlin`, `UTC`, or `Local` for the process's zone. */
  constructor(name: string) {
    const resolved = name === 'Local' ? Intl.DateTimeFormat().resolvedOptions().timeZone : name;
    this.name = resolved;
    this.format = resolved === 'UTC' || resolved === 'Etc/UTC' ? undefined : new Intl.DateTimeFormat('en-US', {
      timeZone: resolved,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** Reports whether Node knows the zone; `Local` and `UTC` always pass. */
  static isValid(name: string): boolean {
    if (name === 'Local' || name === 'UTC') return true;
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: name });
      return true;
    } catch {
      return false;
    }
  }

  /** The zone's offset from UTC at an instant, in milliseconds (positive east of Greenwich). */
  offsetAt(instantMs: number): number {
    if (!this.format) return 0;
    const hour = Math.floor(instantMs / 3_600_000);
    let offset = this.offsets.get(hour);
    if (offset === undefined) {
      offset = this.computeOffset(hour * 3_600_000);
      if (this.offsets.size > 10_000) this.offsets.clear();
      this.offsets.set(hour, offset);
    }
    return offset;
  }

  /**
   * Converts a wall-clock time in this zone, given as milliseconds since the epoch as if the wall
   * clock were UTC, to the real instant. A time that a DST change skips or repeats resolves to
   * the offset in force just before the change.
   */
  wallClockToUtc(wallMs: number): number {
    if (!this.format) return wallMs;
    const first = wallMs - this.offsetAt(wallMs);
    return wallMs - this.offsetAt(first);
  }

  /** The wall-clock year and month (0-11) in this zone at an instant. */
  yearAndMonthAt(instantMs: number): { year: number; month: number } {
    const wall = new Date(instantMs + this.offsetAt(instantMs));
    return { year: wall.getUTCFullYear(), month: wall.getUTCMonth() };
  }

  private computeOffset(instantMs: number): number {
    const parts = (this.format as Intl.DateTimeFormat).formatToParts(new Date(instantMs));
    const value = (type: string) => Number(parts.find((part) => part.type === type)?.value);
    const wall = Date.UTC(value('year'), value('month') - 1, value('day'), value('hour'), value('minute'), value('second'));
    return wall - instantMs;
  }
}
