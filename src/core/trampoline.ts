import {RingBuffer} from './ring-buffer.js'

type Delivery = (error: unknown, value: unknown) => void

/**
 * Runs the core's callback deliveries one after another instead of inside each other. With the
 * callback APIs (acquireCallback, enqueueCallback) a delivery can trigger the next one synchronously
 * (a task that calls `done` at once frees a slot for the next queued task, whose delivery frees the
 * next, …): nested, that is one stack frame set per queued item, and a long queue overflows the stack.
 * A delivery made while another runs is queued and made as soon as the running one returns.
 */
export class Trampoline {
  #running = false
  /** Flat (callback, error, value) triples: no object per queued delivery. */
  readonly #queued = new RingBuffer<unknown>()

  /**
   * Deliver `(error, value)` to `callback`. `before` (the bookkeeping that goes with it, e.g. refilling
   * a freed slot) runs first; deliveries it causes come after this one, so outcomes keep their order.
   * A callback that throws breaks its caller's contract: the rest is still delivered, then the first
   * error is rethrown.
   */
  deliver<V>(callback: (error: unknown, value: V | undefined) => void, error: unknown, value: V | undefined, before?: () => void): void {
    if (this.#running) {
      this.#queued.push(callback)
      this.#queued.push(error)
      this.#queued.push(value)
      return before?.()
    }

    this.#running = true
    let failure: {error: unknown} | undefined
    // Whatever before() delivers is queued (we are running), so this one still goes first.
    if (before !== undefined) {
      try {
        before()
      } catch (thrown) {
        failure = {error: thrown}
      }
    }

    try {
      callback(error, value)
    } catch (thrown) {
      failure ??= {error: thrown}
    }

    while (this.#queued.length > 0) {
      const next = this.#queued.shift() as Delivery
      const nextError = this.#queued.shift()
      try {
        next(nextError, this.#queued.shift())
      } catch (thrown) {
        failure ??= {error: thrown}
      }
    }

    this.#running = false
    if (failure !== undefined) throw failure.error
  }
}
