/**
 * Work that runs at most once, started by whoever needs it first (or early, by start()), whose
 * outcome every caller of get() receives. The one place the action keeps a promise that nobody
 * may be awaiting yet: its rejection is held here (so Node reports no unhandled rejection) and
 * reaches each caller of get(); `outcome()` lets the owner report it at the end, if it started.
 */
export class Once<T> {
  private running?: Promise<T>

  constructor(private readonly work: () => Promise<T>) {}

  /** Starts the work now, so that it runs while other things happen. */
  start(): this {
    void this.get().catch(() => undefined) // held: get() and outcome() hand the failure on
    return this
  }

  /** The work's result, starting the work on first use. */
  get(): Promise<T> {
    this.running ??= this.work()
    return this.running
  }

  get started(): boolean {
    return this.running !== undefined
  }

  /** Settles once the work is done when it started (rejecting with its failure), at once otherwise. */
  async outcome(): Promise<void> {
    if (this.running) await this.running
  }
}
