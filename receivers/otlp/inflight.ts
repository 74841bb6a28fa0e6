/**
 * A budget of request body bytes that one listener keeps in memory at once, from reading a body
 * until the pipeline took its data. It bounds what concurrent requests can add to memory between
 * two memory_limiter checks, which look at the process as a whole.
 */
export class InflightBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  /** Bytes reserved now. */
  get bytes(): number {
    return this.used;
  }

  /** Starts a request's reservation, empty until it covers bytes. */
  reservation(): Reservation {
    return new Reservation(this);
  }

  /** Takes bytes from the budget; false, taking nothing, when they do not fit. */
  tryTake(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used -= bytes;
  }

  /** The error message for a request the budget cannot take, with the current figures. */
  exhaustedMessage(): string {
    return `requests in progress use ${this.used} of the ${this.limit} bytes that max_inflight_bytes allows; retry later`;
  }
}

/** The bytes reserved for one request; released when the response is sent. */
export class Reservation {
  private reserved = 0;

  constructor(readonly budget: InflightBudget) {}

  /** Grows the reservation to `total` bytes; false when the budget cannot cover them. */
  cover(total: number): boolean {
    if (total <= this.reserved) return true;
    if (!this.budget.tryTake(total - this.reserved)) return false;
    this.reserved = total;
    return true;
  }

  release(): void {
    this.budget.give(this.reserved);
    this.reserved = 0;
  }
}
