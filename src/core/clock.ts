/**
 * Time as an injectable dependency. The core never calls Date.now/setTimeout directly, so the
 * same pool and queue run in real time (the default) or in virtual time for deterministic
 * simulation and tests (`VirtualClock`).
 */
export type TimerHandle = unknown

export interface Clock {
  /** Milliseconds on a monotonic-enough scale; only differences are meaningful. */
  now(): number
  /** `unref: true` for housekeeping timers that must not keep the process alive. */
  setTimeout(callback: () => void, delayMs: number, unref?: boolean): TimerHandle
  clearTimeout(handle: TimerHandle): void
}

export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout(callback, delayMs, unref = false) {
    const timer = setTimeout(callback, delayMs)
    if (unref) timer.unref()
    return timer
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>)
  },
}

interface VirtualTimer {
  at: number
  seq: number
  callback: () => void
  cancelled: boolean
}

/**
 * A discrete-event clock: time moves only when `advance`/`runUntilIdle` fire timers, in
 * (time, creation order). Between timers it yields to the event loop so that promise chains
 * started by one timer settle before the next one fires, which keeps runs deterministic.
 */
export class VirtualClock implements Clock {
  #now: number
  #seq = 0
  readonly #heap: VirtualTimer[] = []
  readonly #afterSettled: (next: () => void) => void
  readonly #needsSettle: () => boolean

  /**
   * `options.afterSettled(next)`: call `next` once the promise chains started so far have settled;
   * default one macrotask turn (setImmediate, always enough). A simulator may pass a cheaper one.
   * `options.needsSettle()`: asked after each timer; false means nothing asynchronous is in flight
   * (the caller knows its timers only run callbacks), so the next timer fires at once. @default always true
   */
  constructor(startMs = 0, options: {afterSettled?: (next: () => void) => void; needsSettle?: () => boolean} = {}) {
    this.#now = startMs
    this.#afterSettled = options.afterSettled ?? setImmediate
    this.#needsSettle = options.needsSettle ?? (() => true)
  }

  now(): number {
    return this.#now
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timer: VirtualTimer = {at: this.#now + Math.max(0, delayMs), seq: this.#seq++, callback, cancelled: false}
    this.#push(timer)
    return timer
  }

  clearTimeout(handle: TimerHandle): void {
    if (handle) (handle as VirtualTimer).cancelled = true
  }

  /** Number of timers still scheduled (cancelled ones excluded). */
  get pendingTimers(): number {
    return this.#heap.filter((t) => !t.cancelled).length
  }

  /** Time of the next live timer, or undefined. */
  nextTimerAt(): number | undefined {
    this.#dropCancelled()
    return this.#heap[0]?.at
  }

  /** Fire every timer due up to now + ms, settling promises between timers; then set now = now + ms. */
  advance(ms: number): Promise<void> {
    const until = this.#now + ms
    // A callback loop rather than an async function: a virtual run fires millions of timers, and
    // an await per timer (a promise and a resumption) was a fifth of its cost.
    return new Promise((resolve, reject) => {
      const run = (): void => {
        try {
          for (;;) {
            this.#dropCancelled()
            const next = this.#heap[0]
            if (next === undefined || next.at > until) {
              this.#now = until
              resolve()
              return
            }

            this.#pop()
            this.#now = Math.max(this.#now, next.at)
            next.callback()
            if (this.#needsSettle()) break
          }
        } catch (error) {
          reject(error)
          return
        }

        this.#afterSettled(run)
      }

      this.#afterSettled(run)
    })
  }

  /** Fire timers until none is left (or `limitMs` of virtual time has passed). */
  async runUntilIdle(limitMs = Infinity): Promise<void> {
    const until = this.#now + limitMs
    await new Promise<void>((resolve) => this.#afterSettled(resolve))
    for (;;) {
      const at = this.nextTimerAt()
      if (at === undefined || at > until) return
      await this.advance(at - this.#now)
    }
  }

  #dropCancelled(): void {
    while (this.#heap.length > 0 && this.#heap[0].cancelled) this.#pop()
  }

  // A binary heap ordered by (at, seq). Sifting moves a hole instead of swapping pairs: no temporary
  // arrays on the path every virtual timer takes.
  #push(timer: VirtualTimer): void {
    const heap = this.#heap
    let i = heap.length
    heap.push(timer)
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!earlier(timer, heap[parent])) break
      heap[i] = heap[parent]
      i = parent
    }

    heap[i] = timer
  }

  #pop(): VirtualTimer | undefined {
    const heap = this.#heap
    const top = heap[0]
    const last = heap.pop()
    const size = heap.length
    if (size === 0 || last === undefined) return top
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      if (left >= size) break
      const right = left + 1
      const child = right < size && earlier(heap[right], heap[left]) ? right : left
      if (!earlier(heap[child], last)) break
      heap[i] = heap[child]
      i = child
    }

    heap[i] = last
    return top
  }
}

function earlier(a: VirtualTimer, b: VirtualTimer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq)
}

/** Let every queued microtask (and promise chain) run: one macrotask turn. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
