/**
 * Work that answered requests leave running (mail sent after the answer, a batched statement
 * whose caller has gone): an instance that stops waits for all of it before it closes the
 * database. Closing the pool under a running statement fails that work, and on the embedded
 * database leaves it, and the stop, waiting for ever.
 */
export class PendingWork {
  private readonly pending = new Set<Promise<unknown>>();

  /** Returns `work` itself, tracked until it settles. */
  track<T>(work: Promise<T>): Promise<T> {
    this.pending.add(work);
    const forget = () => this.pending.delete(work);
    work.then(forget, forget);
    return work;
  }

  /** Resolves once everything tracked, and anything it started tracking meanwhile, has settled. */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}
