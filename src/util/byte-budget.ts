/**
 * A budget of bytes shared by concurrent writers (restore: record batches between their
 * encoding and the broker's acknowledgement, across all partitions). `acquire` waits until
 * the bytes fit; waiters are served in arrival order, so a large request is not starved by
 * small ones. A single request larger than the whole budget is let through alone (a record
 * bigger than the budget still has to be written), never alongside others.
 */
export class ByteBudget {
  private used = 0;
  private readonly waiting: Array<{ bytes: number; grant: () => void }> = [];

  constructor(readonly limit: number) {
    if (!Number.isFinite(limit) || limit <= 0) throw new RangeError(`byte budget must be positive, got ${limit}`);
  }

  get inUse(): number {
    return this.used;
  }

  private fits(bytes: number): boolean {
    return this.used === 0 || this.used + bytes <= this.limit;
  }

  acquire(bytes: number): Promise<void> {
    if (this.waiting.length === 0 && this.fits(bytes)) {
      this.used += bytes;
      return Promise.resolve();
    }
    return new Promise((grant) => this.waiting.push({ bytes, grant }));
  }

  release(bytes: number): void {
    this.used -= bytes;
    if (this.used < 0) throw new RangeError(`byte budget released ${-this.used} bytes more than it granted`);
    while (this.waiting.length > 0 && this.fits(this.waiting[0]!.bytes)) {
      const next = this.waiting.shift()!;
      this.used += next.bytes;
      next.grant();
    }
  }

  /** Runs `fn` holding `bytes` of the budget. */
  async with<T>(bytes: number, fn: () => Promise<T>): Promise<T> {
    await this.acquire(bytes);
    try {
      return await fn();
    } finally {
      this.release(bytes);
    }
  }
}
