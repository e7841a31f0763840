import {type Clock, realClock} from './clock.js'
import {BrokenCircuitError, OptionsError} from './errors.js'
import {functionOption, integerOption, rejectUnknownKeys} from './options.js'

export type CircuitState = 'closed' | 'open' | 'half-open'

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. @default 5 */
  failureThreshold?: number
  /** How long the circuit stays open before letting probes through. @default 10000 */
  resetTimeoutMs?: number
  /** Calls allowed through at once while half-open. @default 1 */
  halfOpenMaxProbes?: number
  /** Probe successes in a row that close the circuit again. @default 1 */
  successThreshold?: number
  /** Whether an error counts against the circuit (e.g. not a unique violation). @default () => true */
  isFailure?: (error: unknown) => boolean
  onStateChange?: (state: CircuitState, previous: CircuitState) => void
  clock?: Clock
}

export interface CircuitBreakerStats {
  state: CircuitState
  consecutiveFailures: number
  successes: number
  failures: number
  rejected: number
  opened: number
}

const OPTION_KEYS = [
  'failureThreshold',
  'resetTimeoutMs',
  'halfOpenMaxProbes',
  'successThreshold',
  'isFailure',
  'onStateChange',
  'clock',
] as const

/**
 * closed → (failureThreshold consecutive failures) → open → (resetTimeoutMs) → half-open, where at most
 * `halfOpenMaxProbes` calls go through: `successThreshold` successes close it, one failure re-opens it.
 * The open → half-open step is taken lazily on the next call, so an idle breaker holds no timer.
 */
export class CircuitBreaker {
  readonly #failureThreshold: number
  readonly #resetTimeoutMs: number
  readonly #halfOpenMaxProbes: number
  readonly #successThreshold: number
  readonly #isFailure: (error: unknown) => boolean
  readonly #onStateChange: CircuitBreakerOptions['onStateChange']
  readonly #clock: Clock

  #state: CircuitState = 'closed'
  #consecutiveFailures = 0
  #probeSuccesses = 0
  #probesInFlight = 0
  #openedAt = 0
  #lastError: unknown = undefined
  #successes = 0
  #failures = 0
  #rejected = 0
  #opened = 0

  constructor(options: CircuitBreakerOptions = {}) {
    const where = 'CircuitBreaker'
    if (options === null || typeof options !== 'object') throw new OptionsError(`${where}: options must be an object`)
    rejectUnknownKeys(where, options, OPTION_KEYS)
    this.#failureThreshold = integerOption(where, 'failureThreshold', options.failureThreshold, {min: 1, fallback: 5})
    this.#resetTimeoutMs = integerOption(where, 'resetTimeoutMs', options.resetTimeoutMs, {min: 0, fallback: 10_000})
    this.#halfOpenMaxProbes = integerOption(where, 'halfOpenMaxProbes', options.halfOpenMaxProbes, {min: 1, fallback: 1})
    this.#successThreshold = integerOption(where, 'successThreshold', options.successThreshold, {min: 1, fallback: 1})
    this.#isFailure = functionOption(where, 'isFailure', options.isFailure, false) ?? (() => true)
    this.#onStateChange = functionOption(where, 'onStateChange', options.onStateChange, false)
    this.#clock = options.clock ?? realClock
  }

  get state(): CircuitState {
    this.#maybeHalfOpen()
    return this.#state
  }

  /** Run `fn` through the breaker; rejects with BrokenCircuitError without calling it when open. */
  execute<R>(fn: () => R | Promise<R>): Promise<R> {
    if (this.#state !== 'closed') return this.#executeGuarded(fn)
    let result: Promise<R>
    try {
      result = Promise.resolve(fn())
    } catch (error) {
      this.#onFailure(error)
      return Promise.reject(error)
    }

    return result.then(this.#passSuccess, this.#passFailure) as Promise<R>
  }

  /**
   * execute() for hot paths that cannot afford promises per call (the simulator): `fn` calls `done` once
   * with its outcome (a throw counts as a failure), which then goes to `callback`; when the circuit is
   * open, `callback` gets BrokenCircuitError at once, synchronously, without calling `fn`.
   */
  executeCallback<R>(
    fn: (done: (error?: unknown, value?: R) => void) => void,
    callback: (error: unknown, value: R | undefined) => void,
  ): void {
    let probe = false
    if (this.#state !== 'closed') {
      const refused = this.#admitGuarded()
      if (refused !== undefined) return callback(refused, undefined)
      probe = this.#state === 'half-open'
    }

    let finished = false
    const done = (error?: unknown, value?: R): void => {
      if (finished) return
      finished = true
      if (probe) this.#probesInFlight--
      if (error === undefined || error === null) {
        this.#onSuccess()
        callback(undefined, value)
      } else {
        this.#onFailure(error)
        callback(error, undefined)
      }
    }

    try {
      fn(done)
    } catch (error) {
      // A throw after done() came from the outcome's callback, not from fn: not fn's failure.
      if (finished) throw error
      done(error ?? new Error('CircuitBreaker: fn threw a nullish value'))
    }
  }

  stats(): CircuitBreakerStats {
    return {
      state: this.state,
      consecutiveFailures: this.#consecutiveFailures,
      successes: this.#successes,
      failures: this.#failures,
      rejected: this.#rejected,
      opened: this.#opened,
    }
  }

  /** Force the circuit closed (an operator's reset). */
  reset(): void {
    this.#consecutiveFailures = 0
    this.#probeSuccesses = 0
    this.#transition('closed')
  }

  // Bound once, so the closed-state hot path allocates no closures per call.
  readonly #passSuccess = (value: unknown): unknown => {
    this.#onSuccess()
    return value
  }

  readonly #passFailure = (error: unknown): never => {
    this.#onFailure(error)
    throw error
  }

  /** Outside the closed state: the error a call is refused with, or undefined when it may pass (a
   * half-open probe is then counted in flight; the caller takes it off when the call settles). */
  #admitGuarded(): BrokenCircuitError | undefined {
    this.#maybeHalfOpen()
    if (this.#state === 'closed') return undefined
    if (this.#state === 'open' || this.#probesInFlight >= this.#halfOpenMaxProbes) {
      this.#rejected++
      const retryAfter = this.#state === 'open' ? this.#openedAt + this.#resetTimeoutMs - this.#clock.now() : 0
      return new BrokenCircuitError(retryAfter, {cause: this.#lastError})
    }

    this.#probesInFlight++
    return undefined
  }

  #executeGuarded<R>(fn: () => R | Promise<R>): Promise<R> {
    const refused = this.#admitGuarded()
    if (refused !== undefined) return Promise.reject(refused)
    if (this.#state === 'closed') return this.execute(fn)
    let result: Promise<R>
    try {
      result = Promise.resolve(fn())
    } catch (error) {
      result = Promise.reject(error)
    }

    return result.then(
      (value) => {
        this.#probesInFlight--
        this.#onSuccess()
        return value
      },
      (error: unknown) => {
        this.#probesInFlight--
        this.#onFailure(error)
        throw error
      },
    )
  }

  #onSuccess(): void {
    this.#successes++
    this.#consecutiveFailures = 0
    if (this.#state === 'half-open' && ++this.#probeSuccesses >= this.#successThreshold) this.#transition('closed')
  }

  #onFailure(error: unknown): void {
    if (!this.#isFailure(error)) {
      this.#onSuccess()
      return
    }

    this.#failures++
    this.#lastError = error
    this.#consecutiveFailures++
    if (this.#state === 'half-open' || (this.#state === 'closed' && this.#consecutiveFailures >= this.#failureThreshold)) {
      this.#openedAt = this.#clock.now()
      this.#opened++
      this.#transition('open')
    }
  }

  #maybeHalfOpen(): void {
    if (this.#state === 'open' && this.#clock.now() - this.#openedAt >= this.#resetTimeoutMs) {
      this.#probeSuccesses = 0
      this.#transition('half-open')
    }
  }

  #transition(next: CircuitState): void {
    const previous = this.#state
    if (previous === next) return
    this.#state = next
    this.#onStateChange?.(next, previous)
  }
}
