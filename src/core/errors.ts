/**
 * Typed errors of the core. Callers branch on `code` (stable) or `instanceof`, never on wording.
 * Messages carry the state that explains them ("pool: 10 used, 0 idle, 90 waiting").
 */
export class PoolctlError extends Error {
  readonly code: string

  constructor(code: string, message: string, options?: {cause?: unknown}) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** An option failed eager validation (bad value, unknown key, conflicting pair). */
export class OptionsError extends PoolctlError {
  constructor(message: string) {
    super('INVALID_OPTIONS', message)
  }
}

/** `acquire()` did not get a resource before its deadline. `cause` is the last create/validate error, if any. */
export class AcquireTimeoutError extends PoolctlError {
  constructor(message: string, options?: {cause?: unknown}) {
    super('POOL_ACQUIRE_TIMEOUT', message, options)
  }
}

/** The pool is ending or has ended; nothing more is handed out. */
export class PoolEndedError extends PoolctlError {
  constructor(message = 'The pool has ended; acquire() is no longer accepted') {
    super('POOL_ENDED', message)
  }
}

/** A resource was released twice. */
export class DoubleReleaseError extends PoolctlError {
  constructor() {
    super('POOL_DOUBLE_RELEASE', 'Resource released twice: it is not borrowed from this pool')
  }
}

/** The queue is full: the task was not accepted (backpressure). Retry later or shed load. */
export class BackpressureError extends PoolctlError {
  readonly maxQueueSize: number

  constructor(maxQueueSize: number, active: number) {
    // Shedding load must stay cheap when it happens thousands of times a second: no stack capture
    // (the stack would only show the enqueue() call anyway).
    const limit = Error.stackTraceLimit
    Error.stackTraceLimit = 0
    super('QUEUE_FULL', `Queue is full (${maxQueueSize} waiting, ${active} running): task rejected`)
    Error.stackTraceLimit = limit
    this.maxQueueSize = maxQueueSize
  }
}

/** The queue is ending or has ended. */
export class QueueEndedError extends PoolctlError {
  constructor(message = 'The queue has ended; enqueue() is no longer accepted') {
    super('QUEUE_ENDED', message)
  }
}

/** A task ran longer than its timeout; its AbortSignal was aborted with this error. */
export class TaskTimeoutError extends PoolctlError {
  constructor(timeoutMs: number) {
    super('TASK_TIMEOUT', `Task timed out after ${timeoutMs}ms`)
  }
}

/** The caller's AbortSignal fired before the operation finished. */
export class AbortedError extends PoolctlError {
  constructor(message = 'The operation was aborted', options?: {cause?: unknown}) {
    super('ABORTED', message, options)
  }
}

/** The circuit breaker is open (or half-open with its probes in flight): the call was not made. */
export class BrokenCircuitError extends PoolctlError {
  readonly retryAfterMs: number

  constructor(retryAfterMs: number, options?: {cause?: unknown}) {
    super('CIRCUIT_OPEN', `Circuit is open: call not attempted (retry in ${Math.max(0, Math.round(retryAfterMs))}ms)`, options)
    this.retryAfterMs = retryAfterMs
  }
}
