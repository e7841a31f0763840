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

  deliver<V>(callback: (error: unknown, value: V | undefined) => void, error: unknown, value: V | undefined): void {
    if (this.#running) {
      this.#queued.push(callback)
      this.#queued.push(error)
      this.#queued.push(value)
      return
    }

    this.#running = true
    try {
      callback(error, value)
      while (this.#queued.length > 0) {
        const next = this.#queued.shift() as Delivery
        const nextError = this.#queued.shift()
        next(nextError, this.#queued.shift())
      }
    } finally {
      // A callback that throws breaks its caller's contract; whatever is still queued is delivered
      // by the next delivery rather than lost.
      this.#running = false
    }
  }
}
