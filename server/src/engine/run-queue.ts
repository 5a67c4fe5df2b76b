// Bounds how many runs proceed at once in a workspace (setting `choppa.runs.maxParallel`);
// beyond it runs wait their turn, in order, and a cancelled waiter leaves the queue.

export class RunQueue {
  private running = 0;
  private readonly waiting: Array<{ go: () => void }> = [];

  constructor(private readonly limit: number) {}

  /** True when a new run would have to wait. */
  get full(): boolean {
    return this.running >= this.limit;
  }

  /** How many runs are waiting. */
  get backlog(): number {
    return this.waiting.length;
  }

  /** Waits for a slot; resolves false when `signal` aborted first. */
  acquire(signal?: AbortSignal): Promise<boolean> {
    if (this.running < this.limit) {
      this.running += 1;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const entry = {
        go: () => {
          signal?.removeEventListener('abort', onAbort);
          this.running += 1;
          resolve(true);
        },
      };
      const onAbort = (): void => {
        const index = this.waiting.indexOf(entry);
        if (index >= 0) this.waiting.splice(index, 1);
        resolve(false);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  release(): void {
    this.running -= 1;
    this.waiting.shift()?.go();
  }
}
