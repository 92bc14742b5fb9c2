// A counting semaphore: at most `size` holders at once, the others wait in arrival order.

export class Gate {
  private holders = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly size: number) {}

  async enter(): Promise<void> {
    if (this.holders < this.size) {
      this.holders++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  leave(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next in line; otherwise it is freed.
    if (next) next();
    else this.holders--;
  }

  /** Runs `fn` holding a slot. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.enter();
    try {
      return await fn();
    } finally {
      this.leave();
    }
  }
}
