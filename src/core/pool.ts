import {type Clock, realClock} from './clock.js'
import {
  AbortedError,
  AcquireTimeoutError,
  BackpressureError,
  DoubleReleaseError,
  OptionsError,
  PoolEndedError,
} from './errors.js'
import {functionOption, integerOption, numberOption, rejectUnknownKeys} from './options.js'
import {type Random} from './random.js'
import {RingBuffer} from './ring-buffer.js'
import {Trampoline} from './trampoline.js'

/** How the pool makes, checks and disposes of resources. Resources must be distinct objects. */
export interface ResourceFactory<T> {
  /** Make one resource. `signal` aborts when the create deadline passes or the pool ends; a resource
   * that still arrives after that is destroyed, never pooled. */
  create(signal: AbortSignal): Promise<T>
  /** Dispose of a resource. Errors are reported to `onError`, never thrown at the caller. */
  destroy(resource: T): void | Promise<void>
  /** Check an idle resource before it is handed out. false or a throw: destroyed, the acquire goes on.
   * `signal` aborts at the acquire's deadline: a validation that hangs must give up then. */
  validate?(resource: T, signal: AbortSignal): boolean | Promise<boolean>
}

export interface LeakReport<T> {
  resource: T
  heldMs: number
  /** Stack of the acquire() call that borrowed it. */
  acquiredAt: string | undefined
}

export type PoolErrorContext = 'create' | 'destroy' | 'validate' | 'idle'

export interface ConnectionPoolOptions<T> {
  factory: ResourceFactory<T>
  /** Most resources alive at once (idle + borrowed + being validated), never exceeded. */
  max: number
  /** Resources kept open even when idle. @default 0 */
  min?: number
  /** Deadline for acquire(), covering create, retries and validation. @default 30000 */
  acquireTimeoutMs?: number
  /** Deadline for one create() call. @default acquireTimeoutMs */
  createTimeoutMs?: number
  /** An idle resource above `min` is destroyed after this long; 0 = never. @default 30000 */
  idleTimeoutMs?: number
  /** An idle resource older than this is retired (borrowed ones are never killed); 0 = never. @default 0 */
  maxLifetimeMs?: number
  /** Each resource's lifetime is shortened by up to this fraction so they do not all expire at once. @default 0.025 */
  lifetimeVariance?: number
  /** How often idle, expired and leaked resources are looked for. @default 1000 */
  reapIntervalMs?: number
  /** An idle resource used more recently than this is handed out without validation (HikariCP's
   * alive-bypass window); 0 = validate every time. @default 0 */
  validationBypassMs?: number
  /** Times a failed create is retried (with exponential backoff and full jitter) while someone waits. @default 2 */
  createRetries?: number
  /** First retry delay; doubles per retry. @default 50 */
  createRetryDelayMs?: number
  /** Cap on a retry delay. @default 2000 */
  createRetryMaxDelayMs?: number
  /** A borrowed resource held longer than this is reported to `onLeak` (once per borrow); 0 = off. @default 0 */
  leakDetectionMs?: number
  /** Most acquire() calls allowed to wait; beyond that acquire rejects at once with BackpressureError. @default Infinity */
  maxWaiters?: number
  /** withResource(): whether an error thrown by the callback means the resource is broken (destroy it). @default () => false */
  isResourceError?: (error: unknown, resource: T) => boolean
  onLeak?: (report: LeakReport<T>) => void
  /** Errors that have no caller to go to: failed destroys, idle errors, background creates. */
  onError?: (error: unknown, context: PoolErrorContext) => void
  clock?: Clock
  random?: Random
}

export interface PoolStats {
  max: number
  min: number
  /** Resources alive: idle + used + validating. */
  size: number
  idle: number
  used: number
  validating: number
  /** acquire() calls waiting. */
  pending: number
  creating: number
  created: number
  destroyed: number
  acquired: number
  timeouts: number
  createErrors: number
  validationFailures: number
}

const IDLE = 0
const BORROWED = 1
const VALIDATING = 2
const GONE = 3

class Entry<T> {
  state = IDLE
  idleSince: number
  borrowedAt = 0
  acquiredAt: string | undefined = undefined
  broken = false
  leakReported = false

  constructor(
    readonly resource: T,
    now: number,
    readonly expiresAt: number,
  ) {
    this.idleSince = now
  }
}

/** acquireCallback()'s callback: an error, or the resource. */
export type AcquireCallback<T> = (error: unknown, resource: T | undefined) => void

/** One pending acquire. Kept small (50,000 can wait at once): one settle function (the promise's, or
 * acquireCallback's callback), and the abort wiring only for acquires that passed a signal. */
class Waiter<T> {
  /** Settles acquire()'s promise: with the resource, or with a rejected promise for a failure. */
  resolve: ((value: T | Promise<never>) => void) | undefined = undefined
  callback: AcquireCallback<T> | undefined = undefined
  settled = false
  /** In the FIFO (as opposed to being served by a validation). */
  queued = true
  abort: {signal: AbortSignal; onAbort: () => void} | undefined = undefined

  constructor(readonly deadline: number) {}
}

/** One shared promise executor instead of a closure per acquire: hands `resolve` to the new waiter. */
let waiterBeingCreated: Waiter<unknown> | undefined
function captureResolve(resolve: (value: unknown) => void): void {
  waiterBeingCreated!.resolve = resolve
  waiterBeingCreated = undefined
}

const OPTION_KEYS = [
  'factory',
  'max',
  'min',
  'acquireTimeoutMs',
  'createTimeoutMs',
  'idleTimeoutMs',
  'maxLifetimeMs',
  'lifetimeVariance',
  'reapIntervalMs',
  'validationBypassMs',
  'createRetries',
  'createRetryDelayMs',
  'createRetryMaxDelayMs',
  'leakDetectionMs',
  'maxWaiters',
  'isResourceError',
  'onLeak',
  'onError',
  'clock',
  'random',
] as const

/**
 * A bounded resource pool (tarn-sized, HikariCP's promises): never more than `max` resources,
 * acquire fails at its deadline whatever create or validation are doing, a released resource goes
 * straight to the oldest waiter, and end() waits for borrowed resources then destroys everything.
 *
 * Speed comes from three choices: idle resources on an array stack, waiters on a ring buffer, and one
 * timer for the whole waiter queue (every waiter has the same timeout, so queue order is deadline order).
 */
export class ConnectionPool<T> {
  readonly #factory: ResourceFactory<T>
  readonly #max: number
  readonly #min: number
  readonly #acquireTimeoutMs: number
  readonly #createTimeoutMs: number
  readonly #idleTimeoutMs: number
  readonly #maxLifetimeMs: number
  readonly #lifetimeVariance: number
  readonly #reapIntervalMs: number
  readonly #validationBypassMs: number
  readonly #createRetries: number
  readonly #createRetryDelayMs: number
  readonly #createRetryMaxDelayMs: number
  readonly #leakDetectionMs: number
  readonly #maxWaiters: number
  readonly #isResourceError: (error: unknown, resource: T) => boolean
  readonly #onLeak: ((report: LeakReport<T>) => void) | undefined
  readonly #onError: (error: unknown, context: PoolErrorContext) => void
  readonly #clock: Clock
  readonly #random: Random

  /** Every live resource (idle, borrowed, validating) → its bookkeeping. */
  readonly #entries = new Map<T, Entry<T>>()
  /** Idle entries, most recently used on top (LIFO keeps few resources warm and lets the rest idle out). */
  readonly #idle: Entry<T>[] = []
  readonly #waiters = new RingBuffer<Waiter<T>>()
  /** acquireCallback() deliveries, made one after another (a release inside one hands out the next). */
  readonly #deliveries = new Trampoline()
  /** Live (unsettled, queued) waiters; the ring buffer may also hold settled ones (aborted) to skip. */
  #pending = 0
  #used = 0
  #validating = 0
  #creating = 0
  #destroying = 0
  #created = 0
  #destroyed = 0
  #acquired = 0
  #timeouts = 0
  #createErrors = 0
  #validationFailures = 0
  #lastError: unknown = undefined

  #queueTimer: unknown = undefined
  #reapTimer: unknown = undefined
  #refillTimer: unknown = undefined
  #refillAttempt = 0
  #ending = false
  #endPromise: Promise<void> | undefined = undefined
  #resolveEnd: (() => void) | undefined = undefined

  constructor(options: ConnectionPoolOptions<T>) {
    const where = 'ConnectionPool'
    if (options === null || typeof options !== 'object') throw new OptionsError(`${where}: options object is required`)
    rejectUnknownKeys(where, options, OPTION_KEYS)
    const factory = options.factory
    if (factory === null || typeof factory !== 'object') {
      throw new OptionsError(`${where}: \`factory\` with create() and destroy() is required`)
    }

    functionOption(where, 'factory.create', factory.create, true)
    functionOption(where, 'factory.destroy', factory.destroy, true)
    functionOption(where, 'factory.validate', factory.validate, false)
    this.#factory = factory
    this.#max = integerOption(where, 'max', options.max, {min: 1})
    this.#min = integerOption(where, 'min', options.min, {min: 0, fallback: 0})
    if (this.#min > this.#max) {
      throw new OptionsError(`${where}: \`min\` (${this.#min}) must not be greater than \`max\` (${this.#max})`)
    }

    this.#acquireTimeoutMs = integerOption(where, 'acquireTimeoutMs', options.acquireTimeoutMs, {min: 1, fallback: 30_000})
    this.#createTimeoutMs = integerOption(where, 'createTimeoutMs', options.createTimeoutMs, {
      min: 1,
      fallback: this.#acquireTimeoutMs,
    })
    this.#idleTimeoutMs = integerOption(where, 'idleTimeoutMs', options.idleTimeoutMs, {min: 0, fallback: 30_000})
    this.#maxLifetimeMs = integerOption(where, 'maxLifetimeMs', options.maxLifetimeMs, {min: 0, fallback: 0})
    this.#lifetimeVariance = numberOption(where, 'lifetimeVariance', options.lifetimeVariance, {min: 0, max: 0.5, fallback: 0.025})
    this.#reapIntervalMs = integerOption(where, 'reapIntervalMs', options.reapIntervalMs, {min: 1, fallback: 1000})
    this.#validationBypassMs = integerOption(where, 'validationBypassMs', options.validationBypassMs, {min: 0, fallback: 0})
    this.#createRetries = integerOption(where, 'createRetries', options.createRetries, {min: 0, fallback: 2})
    this.#createRetryDelayMs = integerOption(where, 'createRetryDelayMs', options.createRetryDelayMs, {min: 0, fallback: 50})
    this.#createRetryMaxDelayMs = integerOption(where, 'createRetryMaxDelayMs', options.createRetryMaxDelayMs, {
      min: 0,
      fallback: 2000,
    })
    this.#leakDetectionMs = integerOption(where, 'leakDetectionMs', options.leakDetectionMs, {min: 0, fallback: 0})
    this.#maxWaiters = integerOption(where, 'maxWaiters', options.maxWaiters, {min: 0, fallback: Infinity, allowInfinity: true})
    this.#isResourceError =
      functionOption<(error: unknown, resource: T) => boolean>(where, 'isResourceError', options.isResourceError, false) ??
      (() => false)
    this.#onLeak = functionOption(where, 'onLeak', options.onLeak, false)
    this.#onError = functionOption(where, 'onError', options.onError, false) ?? (() => {})
    this.#clock = options.clock ?? realClock
    this.#random = functionOption<Random>(where, 'random', options.random, false) ?? Math.random
    this.#dispatch()
  }

  /** Borrow a resource. Rejects with AcquireTimeoutError at the deadline, PoolEndedError after end(),
   * AbortedError when `signal` aborts, BackpressureError when `maxWaiters` are already waiting. */
  acquire(signal?: AbortSignal): Promise<T> {
    const now = this.#acquireAtOnce(signal)
    if (now !== undefined) return now instanceof Entry ? Promise.resolve(now.resource) : Promise.reject(now)
    const waiter = new Waiter<T>(this.#clock.now() + this.#acquireTimeoutMs)
    waiterBeingCreated = waiter as Waiter<unknown>
    const promise = new Promise<T>(captureResolve as (resolve: (value: T) => void) => void)
    this.#wait(waiter, signal)
    return promise
  }

  /**
   * acquire() for hot paths that cannot afford a promise per borrow (the simulator runs millions):
   * the same rules and errors, delivered to `callback`. It may run synchronously, before this returns,
   * when an idle resource is free or the acquire fails at once; it must not throw.
   */
  acquireCallback(callback: AcquireCallback<T>, signal?: AbortSignal): void {
    const now = this.#acquireAtOnce(signal)
    if (now instanceof Entry) return this.#deliveries.deliver(callback, undefined, now.resource)
    if (now !== undefined) return this.#deliveries.deliver(callback, now, undefined)
    const waiter = new Waiter<T>(this.#clock.now() + this.#acquireTimeoutMs)
    waiter.callback = callback
    this.#wait(waiter, signal)
  }

  /** What an acquire gets without waiting: an idle entry (borrowed), an error, or undefined (it waits). */
  #acquireAtOnce(signal: AbortSignal | undefined): Entry<T> | Error | undefined {
    if (this.#ending) return new PoolEndedError()
    if (signal?.aborted) return new AbortedError('acquire() aborted', {cause: signal.reason})

    // Fast path: nobody is ahead of us and an idle resource needs no validation.
    if (this.#pending === 0 && this.#factory.validate === undefined) {
      const entry = this.#takeIdle()
      if (entry !== undefined) {
        this.#borrow(entry)
        return entry
      }
    }

    if (this.#pending >= this.#maxWaiters) return new BackpressureError(this.#maxWaiters, this.#used)
    return undefined
  }

  #wait(waiter: Waiter<T>, signal: AbortSignal | undefined): void {
    this.#waiters.push(waiter)
    this.#pending++
    if (signal !== undefined) this.#watchSignal(waiter, signal)
    if (this.#queueTimer === undefined) this.#armQueueTimer()
    this.#dispatch()
  }

  /** Give a borrowed resource back. `error` (any value but undefined/false) destroys it instead.
   * Releasing twice throws DoubleReleaseError; a resource this pool does not know is ignored. */
  release(resource: T, error?: unknown): void {
    const entry = this.#entries.get(resource)
    if (entry === undefined) return
    if (entry.state !== BORROWED) throw new DoubleReleaseError()
    this.#used--
    if ((error !== undefined && error !== false) || entry.broken) {
      this.#destroyEntry(entry)
      this.#dispatch()
      return
    }

    this.#putBack(entry)
  }

  /** Mark a resource broken: destroyed now if idle, on release if borrowed (e.g. its socket errored). */
  evict(resource: T): void {
    const entry = this.#entries.get(resource)
    if (entry === undefined) return
    entry.broken = true
    if (entry.state === IDLE) {
      const at = this.#idle.indexOf(entry)
      if (at !== -1) this.#idle.splice(at, 1)
      this.#destroyEntry(entry)
      this.#dispatch()
    }
  }

  /** Run `fn` with a borrowed resource and always release it, destroying it when `isResourceError` says so. */
  async withResource<R>(fn: (resource: T) => R | Promise<R>, signal?: AbortSignal): Promise<R> {
    const resource = await this.acquire(signal)
    let broken: unknown
    try {
      return await fn(resource)
    } catch (error) {
      if (this.#isResourceError(error, resource)) broken = error
      throw error
    } finally {
      this.release(resource, broken)
    }
  }

  /**
   * withResource() in callback form (see acquireCallback): `fn` calls `done` once with its outcome
   * (a throw counts as a failure); the resource is released first (destroyed when `isResourceError`
   * says so), then `callback` receives the outcome. Calls to `done` after the first are ignored.
   */
  withResourceCallback<R>(
    fn: (resource: T, done: (error?: unknown, value?: R) => void) => void,
    callback: (error: unknown, value: R | undefined) => void,
    signal?: AbortSignal,
  ): void {
    this.acquireCallback((acquireError, resource) => {
      if (acquireError !== undefined) return callback(acquireError, undefined)
      let finished = false
      const done = (error?: unknown, value?: R): void => {
        if (finished) return
        finished = true
        const failed = error !== undefined && error !== null
        // fn released the resource itself: withResource() rejects with DoubleReleaseError then, too.
        const entry = this.#entries.get(resource!)
        if (entry !== undefined && entry.state !== BORROWED) return this.#deliveries.deliver(callback, new DoubleReleaseError(), undefined)

        const broken = failed && this.#isBroken(error, resource!)
        // The release (which may hand the resource to the next waiter) goes first, this outcome
        // before whatever that next borrower's outcome is.
        const release = (): void => this.release(resource!, broken ? error : undefined)
        this.#deliveries.deliver(callback, failed ? error : undefined, failed ? undefined : value, release)
      }

      try {
        fn(resource!, done)
      } catch (error) {
        // A throw after done() came from the outcome's callback, not from fn: not fn's failure.
        if (finished) throw error
        done(error ?? new Error('withResourceCallback: fn threw a nullish value'))
      }
    }, signal)
  }

  /** isResourceError, where a predicate that throws counts as "broken" (destroying is the safe side). */
  #isBroken(error: unknown, resource: T): boolean {
    try {
      return this.#isResourceError(error, resource)
    } catch {
      return true
    }
  }

  /** Stop handing out, reject waiters, wait for borrowed resources to come back (or `timeoutMs`),
   * destroy everything. Safe to call more than once: every call gets the same promise. */
  end(options: {timeoutMs?: number} = {}): Promise<void> {
    if (this.#endPromise !== undefined) return this.#endPromise
    const timeoutMs = integerOption('ConnectionPool.end', 'timeoutMs', options.timeoutMs, {
      min: 0,
      fallback: Infinity,
      allowInfinity: true,
    })
    this.#ending = true
    this.#endPromise = new Promise<void>((resolve) => {
      this.#resolveEnd = resolve
    })
    for (const timer of [this.#queueTimer, this.#reapTimer, this.#refillTimer]) {
      if (timer !== undefined) this.#clock.clearTimeout(timer)
    }

    this.#queueTimer = this.#reapTimer = this.#refillTimer = undefined
    const waiting: Waiter<T>[] = []
    for (let waiter = this.#nextWaiter(); waiter !== undefined; waiter = this.#nextWaiter()) {
      this.#settle(waiter)
      waiting.push(waiter)
    }

    for (const entry of this.#idle.splice(0)) this.#destroyEntry(entry)
    for (const waiter of waiting) this.#fail(waiter, new PoolEndedError('The pool ended while acquire() was waiting'))
    if (timeoutMs !== Infinity) {
      const timer = this.#clock.setTimeout(() => {
        // Borrowers that never came back: destroy their resources so end() can finish.
        for (const entry of [...this.#entries.values()]) {
          if (entry.state === BORROWED) this.#used--
          if (entry.state === VALIDATING) this.#validating--
          this.#destroyEntry(entry)
        }
      }, timeoutMs)
      void this.#endPromise.then(() => this.#clock.clearTimeout(timer))
    }

    this.#checkEnded()
    return this.#endPromise
  }

  get ended(): boolean {
    return this.#ending
  }

  stats(): PoolStats {
    return {
      max: this.#max,
      min: this.#min,
      size: this.#entries.size,
      idle: this.#idle.length,
      used: this.#used,
      validating: this.#validating,
      pending: this.#pending,
      creating: this.#creating,
      created: this.#created,
      destroyed: this.#destroyed,
      acquired: this.#acquired,
      timeouts: this.#timeouts,
      createErrors: this.#createErrors,
      validationFailures: this.#validationFailures,
    }
  }

  // ---- hand-out -------------------------------------------------------------------------------

  /** Serve waiters from idle resources, then start the creates the remaining demand needs. */
  #dispatch(): void {
    while (this.#pending > 0) {
      const entry = this.#takeIdle()
      if (entry === undefined) break
      const waiter = this.#nextWaiter()!
      if (this.#skipsValidation(entry)) this.#handOut(entry, waiter)
      else this.#validateFor(entry, waiter)
    }

    if (this.#ending) return
    let wanted = Math.max(this.#pending - this.#creating, this.#min - this.#entries.size - this.#creating)
    let room = this.#max - this.#entries.size - this.#creating
    while (wanted > 0 && room > 0) {
      this.#create(0)
      wanted--
      room--
    }

    this.#armReaper()
  }

  /** Pop the most recently used idle entry that has not outlived maxLifetime. */
  #takeIdle(): Entry<T> | undefined {
    for (let entry = this.#idle.pop(); entry !== undefined; entry = this.#idle.pop()) {
      if (this.#maxLifetimeMs === 0 || this.#clock.now() < entry.expiresAt) return entry
      this.#destroyEntry(entry)
    }

    return undefined
  }

  /** The oldest live waiter, taken off the queue. */
  #nextWaiter(): Waiter<T> | undefined {
    for (let waiter = this.#waiters.shift(); waiter !== undefined; waiter = this.#waiters.shift()) {
      if (!waiter.settled) {
        this.#pending--
        waiter.queued = false
        return waiter
      }
    }

    return undefined
  }

  #borrow(entry: Entry<T>): void {
    entry.state = BORROWED
    this.#used++
    this.#acquired++
    if (this.#leakDetectionMs > 0) {
      entry.borrowedAt = this.#clock.now()
      entry.leakReported = false
      entry.acquiredAt = new Error('acquired here').stack
      this.#armReaper()
    }
  }

  #handOut(entry: Entry<T>, waiter: Waiter<T>): void {
    this.#borrow(entry)
    this.#settle(waiter)
    this.#grant(waiter, entry.resource)
  }

  /** A resource came back healthy: straight to the oldest waiter, else onto the idle stack. */
  #putBack(entry: Entry<T>): void {
    if (this.#ending || (this.#maxLifetimeMs > 0 && this.#clock.now() >= entry.expiresAt)) {
      this.#destroyEntry(entry)
      this.#dispatch()
      return
    }

    // Just used, so it needs no validation before the direct hand-off.
    const waiter = this.#pending > 0 ? this.#nextWaiter() : undefined
    if (waiter !== undefined) {
      this.#handOut(entry, waiter)
      return
    }

    entry.state = IDLE
    if (this.#idleTimeoutMs > 0 || this.#validationBypassMs > 0) entry.idleSince = this.#clock.now()
    this.#idle.push(entry)
    this.#armReaper()
  }

  #grant(waiter: Waiter<T>, resource: T): void {
    if (waiter.callback === undefined) waiter.resolve!(resource)
    else this.#deliveries.deliver(waiter.callback, undefined, resource)
  }

  #fail(waiter: Waiter<T>, error: unknown): void {
    if (waiter.callback === undefined) waiter.resolve!(Promise.reject(error))
    else this.#deliveries.deliver(waiter.callback, error, undefined)
  }

  #settle(waiter: Waiter<T>): void {
    waiter.settled = true
    if (waiter.abort !== undefined) waiter.abort.signal.removeEventListener('abort', waiter.abort.onAbort)
  }

  #watchSignal(waiter: Waiter<T>, signal: AbortSignal): void {
    const onAbort = (): void => {
      if (waiter.settled) return
      if (waiter.queued) this.#pending--
      this.#settle(waiter)
      this.#fail(waiter, new AbortedError('acquire() aborted', {cause: signal.reason}))
    }

    waiter.abort = {signal, onAbort}
    signal.addEventListener('abort', onAbort, {once: true})
  }

  // ---- deadlines ------------------------------------------------------------------------------

  /** One timer for the whole queue, set for the oldest waiter's deadline. */
  #armQueueTimer(): void {
    let head = this.#waiters.peek()
    while (head !== undefined && head.settled) {
      this.#waiters.shift()
      head = this.#waiters.peek()
    }

    if (head === undefined) return
    const delay = Math.max(0, head.deadline - this.#clock.now())
    this.#queueTimer = this.#clock.setTimeout(() => this.#expireWaiters(), delay)
  }

  #expireWaiters(): void {
    this.#queueTimer = undefined
    const now = this.#clock.now()
    // Every expired waiter is taken off first and told after: a callback that acquires again (or
    // releases) must not meet, or be, a waiter of this same batch.
    const expired: [Waiter<T>, AcquireTimeoutError][] = []
    for (let head = this.#waiters.peek(); head !== undefined; head = this.#waiters.peek()) {
      if (!head.settled && head.deadline - now > 1) break
      this.#waiters.shift()
      if (head.settled) continue
      this.#pending--
      head.queued = false
      this.#settle(head)
      this.#timeouts++
      expired.push([head, this.#timeoutError()])
    }

    this.#armQueueTimer()
    for (const [waiter, error] of expired) this.#fail(waiter, error)
  }

  #timeoutError(detail = ''): AcquireTimeoutError {
    const cause = this.#lastError
    const because = cause instanceof Error ? `; last error: ${cause.message}` : ''
    return new AcquireTimeoutError(
      `Timed out acquiring a resource after ${this.#acquireTimeoutMs}ms${detail} (pool: ${this.#used} used, ` +
        `${this.#idle.length} idle, ${this.#creating} creating, ${this.#pending} waiting, max ${this.#max}${because})`,
      cause === undefined ? undefined : {cause},
    )
  }

  // ---- validation -----------------------------------------------------------------------------

  #skipsValidation(entry: Entry<T>): boolean {
    return (
      this.#factory.validate === undefined ||
      (this.#validationBypassMs > 0 && this.#clock.now() - entry.idleSince < this.#validationBypassMs)
    )
  }

  #validateFor(entry: Entry<T>, waiter: Waiter<T>): void {
    entry.state = VALIDATING
    this.#validating++
    const controller = new AbortController()
    const timer = this.#clock.setTimeout(
      () => {
        const error = this.#timeoutError(' (validation did not finish)')
        controller.abort(error)
        if (waiter.settled) return
        this.#settle(waiter)
        this.#timeouts++
        this.#fail(waiter, error)
      },
      Math.max(0, waiter.deadline - this.#clock.now()),
    )
    const done = (ok: boolean, error?: unknown): void => {
      this.#clock.clearTimeout(timer)
      if (entry.state !== VALIDATING) return // destroyed by end({timeoutMs}) meanwhile
      this.#validating--
      if (ok) {
        if (waiter.settled) this.#putBack(entry)
        else this.#handOut(entry, waiter)
        return
      }

      this.#validationFailures++
      if (error !== undefined) {
        this.#lastError = error
        this.#onError(error, 'validate')
      }

      this.#destroyEntry(entry)
      if (!waiter.settled && !this.#ending) {
        // Back to the front: it is the oldest waiter and keeps its deadline.
        waiter.queued = true
        this.#waiters.unshift(waiter)
        this.#pending++
        if (this.#queueTimer === undefined) this.#armQueueTimer()
      } else if (!waiter.settled) {
        this.#settle(waiter)
        this.#fail(waiter, new PoolEndedError('The pool ended while acquire() was waiting'))
      }

      this.#dispatch()
    }

    let result: boolean | Promise<boolean>
    try {
      result = this.#factory.validate!(entry.resource, controller.signal)
    } catch (error) {
      done(false, error)
      return
    }

    if (typeof result === 'boolean') done(result)
    else
      Promise.resolve(result).then(
        (ok) => done(ok === true),
        (error) => done(false, error),
      )
  }

  // ---- create / destroy -----------------------------------------------------------------------

  #create(attempt: number): void {
    this.#creating++
    const controller = new AbortController()
    const timer = this.#clock.setTimeout(
      () => controller.abort(new AcquireTimeoutError(`create() did not finish within ${this.#createTimeoutMs}ms`)),
      this.#createTimeoutMs,
    )
    let created: Promise<T>
    try {
      created = Promise.resolve(this.#factory.create(controller.signal))
    } catch (error) {
      created = Promise.reject(error)
    }

    created.then(
      (resource) => {
        this.#clock.clearTimeout(timer)
        this.#creating--
        this.#created++
        this.#refillAttempt = 0
        if (controller.signal.aborted || this.#ending) {
          // Late connect (node-postgres #3543): close it, never pool it.
          this.#destroyResource(resource)
          this.#dispatch()
          this.#checkEnded()
          return
        }

        const now = this.#clock.now()
        const lifetime = this.#maxLifetimeMs * (1 - this.#random() * this.#lifetimeVariance)
        const entry = new Entry(resource, now, this.#maxLifetimeMs > 0 ? now + lifetime : Infinity)
        this.#entries.set(resource, entry)
        entry.state = BORROWED // so that #putBack's bookkeeping matches a release
        this.#putBack(entry)
        this.#dispatch()
      },
      (error: unknown) => {
        this.#clock.clearTimeout(timer)
        this.#creating--
        this.#createErrors++
        if (controller.signal.aborted) {
          // A create that ran out of time proves nothing about the next one (a black-holed server and a
          // slow one look alike): waiters keep their own deadlines, and unserved ones get a fresh create.
          this.#lastError = controller.signal.reason
          this.#onError(controller.signal.reason, 'create')
          if (this.#ending) this.#checkEnded()
          else this.#dispatch()
          return
        }

        this.#lastError = error
        this.#onError(error, 'create')
        this.#createFailed(error, attempt)
      },
    )
  }

  #createFailed(error: unknown, attempt: number): void {
    if (this.#ending) {
      this.#checkEnded()
      return
    }

    const unserved = this.#pending - this.#creating
    if (unserved <= 0) {
      this.#scheduleRefill()
      return
    }

    if (attempt < this.#createRetries) {
      // Keep the slot reserved during the backoff so a burst of acquires does not over-create.
      this.#creating++
      this.#clock.setTimeout(() => {
        this.#creating--
        if (this.#ending) return this.#checkEnded()
        if (this.#pending - this.#creating > 0) this.#create(attempt + 1)
        else this.#dispatch()
      }, this.#backoff(attempt))
      return
    }

    // Retries spent. With nothing alive or coming that could serve them, every waiter fails now
    // (a refused port fails fast); otherwise only the oldest does, and the rest keep their chance.
    const hopeless = this.#entries.size === 0 && this.#creating === 0
    const failing: Waiter<T>[] = []
    for (let waiter = this.#nextWaiter(); waiter !== undefined; waiter = hopeless ? this.#nextWaiter() : undefined) {
      this.#settle(waiter)
      failing.push(waiter)
    }

    // Told only now: a callback that acquires again joins a fresh queue, not the batch being failed.
    for (const waiter of failing) this.#fail(waiter, error)
    this.#dispatch()
  }

  /** Background top-up to `min` failed with nobody waiting: try again later, backing off. */
  #scheduleRefill(): void {
    if (this.#refillTimer !== undefined || this.#entries.size + this.#creating >= this.#min) return
    const delay = this.#backoff(this.#refillAttempt++)
    this.#refillTimer = this.#clock.setTimeout(
      () => {
        this.#refillTimer = undefined
        this.#dispatch()
      },
      delay,
      true,
    )
  }

  /** Exponential backoff with full jitter. */
  #backoff(attempt: number): number {
    const ceiling = Math.min(this.#createRetryMaxDelayMs, this.#createRetryDelayMs * 2 ** attempt)
    return Math.round(this.#random() * ceiling)
  }

  #destroyEntry(entry: Entry<T>): void {
    if (entry.state === GONE) return
    entry.state = GONE
    this.#entries.delete(entry.resource)
    this.#destroyResource(entry.resource)
  }

  /** Fire-and-forget: a slow close must not hold up acquire(); end() waits for it. */
  #destroyResource(resource: T): void {
    this.#destroyed++
    this.#destroying++
    const finished = (): void => {
      this.#destroying--
      this.#checkEnded()
    }

    try {
      const result = this.#factory.destroy(resource)
      if (result instanceof Promise) {
        result.then(finished, (error: unknown) => {
          this.#onError(error, 'destroy')
          finished()
        })
        return
      }
    } catch (error) {
      this.#onError(error, 'destroy')
    }

    finished()
  }

  #checkEnded(): void {
    if (this.#ending && this.#entries.size === 0 && this.#creating === 0 && this.#destroying === 0) {
      this.#resolveEnd?.()
      this.#resolveEnd = undefined
    }
  }

  // ---- housekeeping ---------------------------------------------------------------------------

  #armReaper(): void {
    if (this.#reapTimer === undefined && this.#needsReaper()) {
      this.#reapTimer = this.#clock.setTimeout(() => this.#reap(), this.#reapIntervalMs, true)
    }
  }

  #needsReaper(): boolean {
    if (this.#ending) return false
    return (
      (this.#idleTimeoutMs > 0 && this.#idle.length > this.#min) ||
      (this.#maxLifetimeMs > 0 && this.#idle.length > 0) ||
      (this.#leakDetectionMs > 0 && this.#used > 0)
    )
  }

  /** Retire idle resources past idleTimeout (above min) or maxLifetime; report leaks. */
  #reap(): void {
    this.#reapTimer = undefined
    const now = this.#clock.now()
    let removable = this.#entries.size - this.#min
    // Bottom of the stack = least recently used.
    for (let i = 0; i < this.#idle.length; ) {
      const entry = this.#idle[i]
      const expired = this.#maxLifetimeMs > 0 && now >= entry.expiresAt
      const idledOut = this.#idleTimeoutMs > 0 && removable > 0 && now - entry.idleSince >= this.#idleTimeoutMs
      if (expired || idledOut) {
        this.#idle.splice(i, 1)
        this.#destroyEntry(entry)
        removable--
      } else {
        i++
      }
    }

    if (this.#leakDetectionMs > 0 && this.#onLeak !== undefined) {
      for (const entry of this.#entries.values()) {
        const heldMs = now - entry.borrowedAt
        if (entry.state === BORROWED && !entry.leakReported && heldMs >= this.#leakDetectionMs) {
          entry.leakReported = true
          this.#onLeak({resource: entry.resource, heldMs, acquiredAt: entry.acquiredAt})
        }
      }
    }

    this.#dispatch() // replaces retired resources up to min, re-arms the reaper when needed
  }
}
