/**
 * Virtual mode's parts: a clock that moves only from timer to timer, and an executor for which a
 * connection is a token and serving a task is a timer on that clock.
 */
import {type Clock, ConnectionPool, VirtualClock} from '../core/index.js'
import type {Executor} from './engine.js'

/**
 * The core's VirtualClock settles promise chains after every timer, so that a chain a timer started
 * finishes before the next timer fires. The engine's task path runs on the core's callback APIs and
 * starts no promises, so that settle (most of a run's cost once the rest was callbacks) is needed
 * only when something does: a pool create (the factory returns a promise; `expectPromises`), and the
 * end of the run, which awaits the queue's end (`settleAfterEveryTimer`). Between timers nothing
 * else is asynchronous, so the reports are the same as the always-settling clock's
 * (test/simulate/engine.test.ts compares them).
 */
export class SimulationClock extends VirtualClock {
  readonly #gate: {promisesInFlight: boolean; always: boolean}

  constructor() {
    const gate = {promisesInFlight: false, always: false}
    super(0, {
      needsSettle: () => gate.always || gate.promisesInFlight,
      afterSettled: (next) => {
        gate.promisesInFlight = false
        afterMicrotasks(next)
      },
    })
    this.#gate = gate
  }

  /** Something started a promise chain: settle it before the next timer fires. */
  expectPromises(): void {
    this.#gate.promisesInFlight = true
  }

  /** From now on settle after every timer (the run is ending, and its ending awaits promises). */
  settleAfterEveryTimer(): void {
    this.#gate.always = true
  }
}

const resolved = Promise.resolve()

/**
 * Call `next` once every queued microtask, and every one those queue, has run: a process.nextTick
 * scheduled from inside a promise reaction runs only once the microtask queue is empty. That settles
 * every promise chain as fully as a macrotask turn (setImmediate), without an event-loop turn.
 * The tick is scheduled from a reaction because one scheduled from a tick runs before the microtasks.
 */
function afterMicrotasks(next: () => void): void {
  // A promise reaction, not queueMicrotask: Node builds an AsyncResource for each queueMicrotask call.
  void resolved.then(() => process.nextTick(next))
}

/** Virtual mode's executor: a connection is a token, serving is a timer on the virtual clock. */
export function virtualExecutor(clock: Clock): Executor<{id: number}> {
  let next = 0
  const created = clock instanceof SimulationClock ? () => clock.expectPromises() : () => undefined
  return {
    createPool: (options) =>
      new ConnectionPool({
        ...options,
        factory: {
          create: async () => {
            created()
            return {id: ++next}
          },
          destroy: () => undefined,
        },
      }),
    cancellable: false,
    serve: (_connection, serviceMs, _context, done) => {
      clock.setTimeout(done, serviceMs)
    },
  }
}
