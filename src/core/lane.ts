import {QueueBroker, type TaskContext} from './broker.js'
import {OptionsError} from './errors.js'
import {functionOption, integerOption, rejectUnknownKeys} from './options.js'

/** The part of a pool a lane needs (a ConnectionPool fits). */
export interface ResourceSource<T> {
  acquire(signal?: AbortSignal): Promise<T>
  release(resource: T, error?: unknown): void
}

export interface SingleWriterLaneOptions<T> {
  pool: ResourceSource<T>
  /** Writes waiting their turn; beyond it a write is rejected with BackpressureError. @default Infinity */
  maxQueueSize?: number
  /** Per-write timeout; 0 = none. @default 0 */
  taskTimeoutMs?: number
  /** Whether an error thrown by a write means the resource is broken (it is then destroyed, not reused). */
  isResourceError?: (error: unknown) => boolean
}

const OPTION_KEYS = ['pool', 'maxQueueSize', 'taskTimeoutMs', 'isResourceError'] as const

/**
 * Writes that must not interleave (a migration runner, a sequence allocator, SQLite-style single-writer
 * stores) run here one at a time, in order, on one resource: the lane borrows it for its first write,
 * keeps it while writes are queued, and gives it back as soon as it has nothing left to do.
 */
export class SingleWriterLane<T> {
  readonly #pool: ResourceSource<T>
  readonly #broker: QueueBroker
  readonly #isResourceError: (error: unknown) => boolean
  #resource: T | undefined = undefined

  constructor(options: SingleWriterLaneOptions<T>) {
    const where = 'SingleWriterLane'
    if (options === null || typeof options !== 'object') throw new OptionsError(`${where}: options object is required`)
    rejectUnknownKeys(where, options, OPTION_KEYS)
    const pool = options.pool
    if (pool === null || typeof pool !== 'object' || typeof pool.acquire !== 'function' || typeof pool.release !== 'function') {
      throw new OptionsError(`${where}: \`pool\` with acquire() and release() is required`)
    }

    this.#pool = pool
    this.#isResourceError = functionOption(where, 'isResourceError', options.isResourceError, false) ?? (() => false)
    this.#broker = new QueueBroker({
      maxActiveTasks: 1,
      maxQueueSize: integerOption(where, 'maxQueueSize', options.maxQueueSize, {min: 0, fallback: Infinity, allowInfinity: true}),
      taskTimeoutMs: integerOption(where, 'taskTimeoutMs', options.taskTimeoutMs, {min: 0, fallback: 0}),
    })
  }

  /** Queue a write; it runs after every write queued before it, on the lane's resource. */
  run<R>(write: (resource: T, context: TaskContext) => R | Promise<R>, options: {signal?: AbortSignal} = {}): Promise<R> {
    return this.#broker.enqueue(async (context) => {
      const resource = this.#resource ?? (this.#resource = await this.#pool.acquire(context.signal))
      try {
        return await write(resource, context)
      } catch (error) {
        if (this.#isResourceError(error)) this.#giveBack(error)
        throw error
      } finally {
        if (this.#broker.stats().queued === 0) this.#giveBack()
      }
    }, options)
  }

  stats(): {queued: number; active: number; holdsResource: boolean} {
    const {queued, active} = this.#broker.stats()
    return {queued, active, holdsResource: this.#resource !== undefined}
  }

  /** Stop accepting writes; by default finish the queued ones. The resource is given back. */
  async end(options: {drain?: boolean; timeoutMs?: number} = {}): Promise<void> {
    await this.#broker.end(options)
    this.#giveBack()
  }

  #giveBack(error?: unknown): void {
    const resource = this.#resource
    if (resource === undefined) return
    this.#resource = undefined
    this.#pool.release(resource, error)
  }
}
