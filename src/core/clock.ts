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
  readonly #settle: () => Promise<void>

  /** `options.settle`: how to let promise chains settle between timers; default one macrotask turn
   * (`settle()`, always enough). A simulator whose chains are known to be short may pass a cheaper one. */
  constructor(startMs = 0, options: {settle?: () => Promise<void>} = {}) {
    this.#now = startMs
    this.#settle = options.settle ?? settle
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
  async advance(ms: number): Promise<void> {
    const until = this.#now + ms
    await this.#settle()
    for (;;) {
      this.#dropCancelled()
      const next = this.#heap[0]
      if (!next || next.at > until) break
      this.#pop()
      this.#now = Math.max(this.#now, next.at)
      next.callback()
      await this.#settle()
    }

    this.#now = until
  }

  /** Fire timers until none is left (or `limitMs` of virtual time has passed). */
  async runUntilIdle(limitMs = Infinity): Promise<void> {
    const until = this.#now + limitMs
    await this.#settle()
    for (;;) {
      const at = this.nextTimerAt()
      if (at === undefined || at > until) return
      await this.advance(at - this.#now)
    }
  }

  #dropCancelled(): void {
    while (this.#heap.length > 0 && this.#heap[0].cancelled) this.#pop()
  }

  #less(a: VirtualTimer, b: VirtualTimer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq)
  }

  #push(timer: VirtualTimer): void {
    const heap = this.#heap
    heap.push(timer)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.#less(heap[i], heap[parent])) break
      ;[heap[i], heap[parent]] = [heap[parent], heap[i]]
      i = parent
    }
  }

  #pop(): VirtualTimer | undefined {
    const heap = this.#heap
    const top = heap[0]
    const last = heap.pop()
    if (heap.length > 0 && last) {
      heap[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < heap.length && this.#less(heap[l], heap[m])) m = l
        if (r < heap.length && this.#less(heap[r], heap[m])) m = r
        if (m === i) break
        ;[heap[i], heap[m]] = [heap[m], heap[i]]
        i = m
      }
    }

    return top
  }
}

/** Let every queued microtask (and promise chain) run: one macrotask turn. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
