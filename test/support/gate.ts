/** Resolvers of handler calls the test holds open (an RPC `Slow` method, an HTTP `slow` route), oldest first. */
export class Gate {
  private readonly held: (() => void)[] = [];
  private readonly failing: ((error: Error) => void)[] = [];
  /** Handler calls started so far. */
  started = 0;
  /** Handler calls that have run to their end (resolved or failed). */
  finished = 0;
  hold<T>(value: T): Promise<T> {
    this.started++;
    return new Promise<T>((resolve, reject) => {
      this.held.push(() => resolve(value));
      this.failing.push(reject);
    }).finally(() => this.finished++);
  }
  /** Lets the oldest held call finish. */
  release(): void {
    this.failing.shift();
    this.held.shift()?.();
  }
  /** Fails the oldest held call. */
  fail(error = new Error('handler failed')): void {
    this.held.shift();
    this.failing.shift()?.(error);
  }
  get waiting(): number {
    return this.held.length;
  }
}
