// A counting semaphore: at most `size` holders at once, the others wait in arrival order.
// `resize` changes the size while in use: a larger gate lets waiting holders in at once, a
// smaller one takes effect as holders leave.

export class Gate {
  private holders = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private size: number) {}

  resize(size: number): void {
    this.size = Math.max(1, size);
    while (this.holders < this.size && this.waiting.length > 0) {
      this.holders++;
      this.waiting.shift()!();
    }
  }

  async enter(): Promise<void> {
    if (this.holders < this.size) {
      this.holders++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  leave(): void {
    // The slot passes straight to the next in line, unless the gate has shrunk below it.
    const next = this.holders <= this.size ? this.waiting.shift() : undefined;
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
