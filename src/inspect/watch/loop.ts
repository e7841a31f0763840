/**
 * The refresh loop of `--watch`: one snapshot at a time (never overlapping), the next one `interval`
 * after the previous one started (or right after it, when it took longer). No React, no terminal:
 * it reports results through `onResult` and is stopped with `stop()`.
 */
export type RefreshResult<T> = {ok: true; value: T; at: Date} | {ok: false; error: unknown; at: Date}

export interface RefreshLoopOptions<T> {
  refresh(): Promise<T>
  intervalMs: number
  onResult(result: RefreshResult<T>): void
}

export class RefreshLoop<T> {
  readonly #options: RefreshLoopOptions<T>
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | undefined
  #stopped = false

  constructor(options: RefreshLoopOptions<T>) {
    if (!Number.isFinite(options.intervalMs) || options.intervalMs <= 0) {
      throw new TypeError(`RefreshLoop: expected \`intervalMs\` to be a number above 0, got \`${options.intervalMs}\``)
    }
    this.#options = options
  }

  /** Schedule the first refresh after one interval (the caller showed a first snapshot already). */
  start(): void {
    this.#schedule(this.#options.intervalMs)
  }

  /** Stop refreshing; resolves once a refresh in flight has finished. Idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    await this.#running
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return
    this.#timer = setTimeout(() => {
      this.#running = this.#tick()
    }, Math.max(0, delayMs))
  }

  async #tick(): Promise<void> {
    const startedAt = performance.now()
    let result: RefreshResult<T>
    try {
      result = {at: new Date(), ok: true, value: await this.#options.refresh()}
    } catch (error) {
      result = {at: new Date(), error, ok: false}
    }
    if (this.#stopped) return
    this.#options.onResult(result)
    this.#schedule(this.#options.intervalMs - (performance.now() - startedAt))
  }
}
