import {type Clock, realClock} from './clock.js'
import {AbortedError, BrokenCircuitError, OptionsError} from './errors.js'
import {functionOption, integerOption, numberOption, oneOfOption, rejectUnknownKeys} from './options.js'
import {type Random} from './random.js'

/** What the dead-letter hook receives: the failure that ended the last attempt and how many were made. */
export interface DeadLetter {
  error: unknown
  attempts: number
}

export interface RetryOptions {
  /** Retries after the first attempt (so `retries: 3` means up to 4 attempts). @default 3 */
  retries?: number
  /** Backoff ceiling for the first retry; multiplied by `factor` per retry. @default 100 */
  minDelayMs?: number
  /** Cap on one backoff. @default 10000 */
  maxDelayMs?: number
  /** @default 2 */
  factor?: number
  /** 'full': wait a uniform random time in [0, ceiling] (AWS "full jitter"); 'none': wait the ceiling. @default 'full' */
  jitter?: 'full' | 'none'
  /** Whether this error, after this attempt (1-based), is worth another try.
   * @default retries everything but BrokenCircuitError and AbortedError */
  shouldRetry?: (error: unknown, attempt: number) => boolean
  /** Called before each backoff wait. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void
  /** Receives a call that exhausted its retries (not one the predicate refused to retry). */
  onDeadLetter?: (letter: DeadLetter) => void
  clock?: Clock
  random?: Random
}

const OPTION_KEYS = [
  'retries',
  'minDelayMs',
  'maxDelayMs',
  'factor',
  'jitter',
  'shouldRetry',
  'onRetry',
  'onDeadLetter',
  'clock',
  'random',
] as const

const retryUnlessFinal = (error: unknown): boolean => !(error instanceof BrokenCircuitError || error instanceof AbortedError)

/** A validated retry policy: build it once, `execute` many calls through it. */
export class RetryPolicy {
  readonly retries: number
  readonly #minDelayMs: number
  readonly #maxDelayMs: number
  readonly #factor: number
  readonly #jitter: 'full' | 'none'
  readonly #shouldRetry: (error: unknown, attempt: number) => boolean
  readonly #onRetry: RetryOptions['onRetry']
  readonly #onDeadLetter: RetryOptions['onDeadLetter']
  readonly #clock: Clock
  readonly #random: Random

  constructor(options: RetryOptions = {}) {
    const where = 'retry'
    if (options === null || typeof options !== 'object') throw new OptionsError(`${where}: options must be an object`)
    rejectUnknownKeys(where, options, OPTION_KEYS)
    this.retries = integerOption(where, 'retries', options.retries, {min: 0, fallback: 3})
    this.#minDelayMs = integerOption(where, 'minDelayMs', options.minDelayMs, {min: 0, fallback: 100})
    this.#maxDelayMs = integerOption(where, 'maxDelayMs', options.maxDelayMs, {min: 0, fallback: 10_000})
    this.#factor = numberOption(where, 'factor', options.factor, {min: 1, fallback: 2})
    this.#jitter = oneOfOption(where, 'jitter', options.jitter, ['full', 'none'], 'full')
    this.#shouldRetry = functionOption(where, 'shouldRetry', options.shouldRetry, false) ?? retryUnlessFinal
    this.#onRetry = functionOption(where, 'onRetry', options.onRetry, false)
    this.#onDeadLetter = functionOption(where, 'onDeadLetter', options.onDeadLetter, false)
    this.#clock = options.clock ?? realClock
    this.#random = functionOption<Random>(where, 'random', options.random, false) ?? Math.random
  }

  /** Backoff before retry number `attempt` (1-based): exponential ceiling, optionally full jitter. */
  delayFor(attempt: number): number {
    const ceiling = Math.min(this.#maxDelayMs, this.#minDelayMs * this.#factor ** (attempt - 1))
    return this.#jitter === 'full' ? Math.round(this.#random() * ceiling) : ceiling
  }

  /** Whether a failed attempt gets another try; reports the dead letter when retries are spent. */
  shouldRetry(error: unknown, attempt: number): boolean {
    if (!this.#shouldRetry(error, attempt)) return false
    if (attempt > this.retries) {
      this.#onDeadLetter?.({error, attempts: attempt})
      return false
    }

    return true
  }

  notifyRetry(error: unknown, attempt: number, delayMs: number): void {
    this.#onRetry?.(error, attempt, delayMs)
  }

  /** Call `fn` (given the 1-based attempt number) until it succeeds or the policy gives up. */
  execute<R>(fn: (attempt: number) => R | Promise<R>, signal?: AbortSignal): Promise<R> {
    let first: Promise<R>
    try {
      first = Promise.resolve(fn(1))
    } catch (error) {
      first = Promise.reject(error)
    }

    return first.catch((error: unknown) => this.#retryAfter(fn, error, 1, signal))
  }

  async #retryAfter<R>(fn: (attempt: number) => R | Promise<R>, error: unknown, attempt: number, signal?: AbortSignal): Promise<R> {
    for (;;) {
      if (signal?.aborted || !this.shouldRetry(error, attempt)) throw error
      const delayMs = this.delayFor(attempt)
      this.notifyRetry(error, attempt, delayMs)
      await this.sleep(delayMs, signal)
      attempt++
      try {
        return await fn(attempt)
      } catch (next) {
        error = next
      }
    }
  }

  /** Wait on the policy's clock; rejects with AbortedError when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(new AbortedError('retry aborted', {cause: signal.reason}))
        return
      }

      const onAbort = (): void => {
        this.#clock.clearTimeout(timer)
        reject(new AbortedError('retry aborted', {cause: signal!.reason}))
      }

      const timer = this.#clock.setTimeout(() => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }, ms)
      signal?.addEventListener('abort', onAbort, {once: true})
    })
  }
}

/** Call `fn` with exponential backoff and full jitter. For many calls, build one RetryPolicy instead. */
export function retry<R>(fn: (attempt: number) => R | Promise<R>, options: RetryOptions & {signal?: AbortSignal} = {}): Promise<R> {
  const {signal, ...policyOptions} = options
  return new RetryPolicy(policyOptions).execute(fn, signal)
}
