import {type Clock, realClock} from './clock.js'
import {AbortedError, BackpressureError, OptionsError, QueueEndedError, TaskTimeoutError} from './errors.js'
import {functionOption, integerOption, rejectUnknownKeys} from './options.js'
import {type DeadLetter, RetryPolicy, type RetryOptions} from './retry.js'
import {RingBuffer} from './ring-buffer.js'

export type Priority = 'high' | 'normal' | 'low'

/** What a running task is given. */
export interface TaskContext {
  /** Aborted when the task times out, its caller aborts, or end({drain: false}) stops it. */
  readonly signal: AbortSignal
  /** 1 for the first run, 2 for the first retry, … */
  readonly attempt: number
  readonly tenant: string | undefined
}

export type Task<R> = (context: TaskContext) => R | Promise<R>

export interface EnqueueOptions {
  /** FIFO within a priority; high before normal before low. @default 'normal' */
  priority?: Priority
  /** Tasks of one tenant never run more than its limit at once. */
  tenant?: string
  /** Overrides the queue's `taskTimeoutMs` for this task; 0 = none. */
  timeoutMs?: number
  /** Cancels the task: removed if still queued, aborted if running. */
  signal?: AbortSignal
}

export interface QueueBrokerOptions {
  /** Tasks running at once, never exceeded. */
  maxActiveTasks: number
  /** Tasks waiting to run; a task beyond it is rejected at once with BackpressureError. May be Infinity. */
  maxQueueSize: number
  /** Default per-task timeout; 0 = none. The task's signal aborts and its promise rejects with
   * TaskTimeoutError, but its slot stays taken until it really returns (so `maxActiveTasks` is honest). @default 0 */
  taskTimeoutMs?: number
  /** Default active-task limit for each tenant. @default Infinity */
  tenantLimit?: number
  /** Per-tenant overrides of `tenantLimit`. */
  tenantLimits?: Record<string, number>
  /** Retry failed tasks (backoff with full jitter); a retried task goes back to the front of its priority. */
  retry?: RetryOptions
  /** Receives a task that exhausted its retries, with its error and attempt count. */
  onDeadLetter?: (letter: DeadLetter & {priority: Priority; tenant: string | undefined}) => void
  clock?: Clock
}

export interface QueueBrokerStats {
  maxActiveTasks: number
  maxQueueSize: number
  active: number
  queued: number
  /** Failed tasks waiting out their backoff before a retry. */
  retrying: number
  queuedByPriority: Record<Priority, number>
  accepted: number
  completed: number
  failed: number
  rejected: number
  timedOut: number
  aborted: number
  retried: number
  deadLettered: number
}

const PRIORITIES: readonly Priority[] = ['high', 'normal', 'low']
const PRIORITY_INDEX: Record<string, number> = {high: 0, normal: 1, low: 2}
const NO_OPTIONS: EnqueueOptions = {}

interface TenantState {
  active: number
  limit: number
  /** Tasks skipped because the tenant was at its limit, oldest first. */
  parked: RingBuffer<Job>
}

/** One accepted task. It is also the TaskContext its function receives (one allocation per task). */
class Job implements TaskContext {
  resolve!: (value: unknown) => void
  reject!: (error: unknown) => void
  settled = false
  attempt = 1
  controller: AbortController | undefined = undefined
  timer: unknown = undefined
  onAbort: (() => void) | undefined = undefined
  /** Links of the broker's intrusive list of running jobs (no Set, no allocation per task). */
  running = false
  prev: Job | undefined = undefined
  next: Job | undefined = undefined

  constructor(
    readonly fn: Task<unknown>,
    readonly priorityIndex: number,
    readonly tenant: string | undefined,
    readonly timeoutMs: number,
    readonly callerSignal: AbortSignal | undefined,
  ) {}

  /** Created on first use: most tasks never look at it. */
  get signal(): AbortSignal {
    this.controller ??= new AbortController()
    return this.controller.signal
  }

  abort(reason: unknown): void {
    this.controller ??= new AbortController()
    this.controller.abort(reason)
  }
}

const OPTION_KEYS = [
  'maxActiveTasks',
  'maxQueueSize',
  'taskTimeoutMs',
  'tenantLimit',
  'tenantLimits',
  'retry',
  'onDeadLetter',
  'clock',
] as const

/**
 * A bounded task queue: at most `maxActiveTasks` running, at most `maxQueueSize` waiting (a full queue
 * rejects at once: backpressure, not unbounded memory), FIFO within three priorities, optional per-tenant
 * limits, per-task timeouts, retries with a dead-letter hook, and an end() that drains or aborts.
 */
export class QueueBroker {
  readonly #maxActive: number
  readonly #maxQueueSize: number
  readonly #taskTimeoutMs: number
  readonly #tenantLimit: number
  readonly #tenantLimits: Record<string, number>
  readonly #retry: RetryPolicy | undefined
  readonly #onDeadLetter: QueueBrokerOptions['onDeadLetter']
  readonly #clock: Clock

  readonly #queues = [new RingBuffer<Job>(), new RingBuffer<Job>(), new RingBuffer<Job>()]
  readonly #tenants = new Map<string, TenantState>()
  readonly #retryTimers = new Map<Job, unknown>()
  /** Live queued jobs (settled ones may still sit in a ring buffer until skipped), in all and per priority. */
  #queued = 0
  readonly #queuedBy = [0, 0, 0]
  #runningHead: Job | undefined = undefined
  #active = 0
  #accepted = 0
  #completed = 0
  #failed = 0
  #rejected = 0
  #timedOut = 0
  #aborted = 0
  #retried = 0
  #deadLettered = 0

  #ending = false
  #drain = true
  #endPromise: Promise<void> | undefined = undefined
  #resolveEnd: (() => void) | undefined = undefined

  constructor(options: QueueBrokerOptions) {
    const where = 'QueueBroker'
    if (options === null || typeof options !== 'object') throw new OptionsError(`${where}: options object is required`)
    rejectUnknownKeys(where, options, OPTION_KEYS)
    this.#maxActive = integerOption(where, 'maxActiveTasks', options.maxActiveTasks, {min: 1})
    this.#maxQueueSize = integerOption(where, 'maxQueueSize', options.maxQueueSize, {min: 0, allowInfinity: true})
    this.#taskTimeoutMs = integerOption(where, 'taskTimeoutMs', options.taskTimeoutMs, {min: 0, fallback: 0})
    this.#tenantLimit = integerOption(where, 'tenantLimit', options.tenantLimit, {min: 1, fallback: Infinity, allowInfinity: true})
    const limits = options.tenantLimits ?? {}
    if (limits === null || typeof limits !== 'object') {
      throw new OptionsError(`${where}: expected \`tenantLimits\` to be an object of tenant → limit`)
    }

    for (const [tenant, limit] of Object.entries(limits)) integerOption(where, `tenantLimits.${tenant}`, limit, {min: 1})
    this.#tenantLimits = {...limits}
    this.#clock = options.clock ?? realClock
    this.#retry = options.retry === undefined ? undefined : new RetryPolicy({clock: this.#clock, ...options.retry})
    this.#onDeadLetter = functionOption(where, 'onDeadLetter', options.onDeadLetter, false)
    if (this.#onDeadLetter !== undefined && this.#retry === undefined) {
      throw new OptionsError(`${where}: \`onDeadLetter\` needs \`retry\` (a dead letter is a task that exhausted its retries)`)
    }
  }

  /** Accept a task and return its result. Rejects at once with BackpressureError when the queue is full
   * and QueueEndedError after end(). */
  enqueue<R>(task: Task<R>, options: EnqueueOptions = NO_OPTIONS): Promise<R> {
    if (this.#ending) return Promise.reject(new QueueEndedError())
    if (typeof task !== 'function') {
      return Promise.reject(new OptionsError(`QueueBroker.enqueue: expected a function, got ${typeof task}`))
    }

    const priorityIndex = options.priority === undefined ? 1 : PRIORITY_INDEX[options.priority]
    if (priorityIndex === undefined) {
      return Promise.reject(
        new OptionsError(`QueueBroker.enqueue: expected \`priority\` to be one of ${PRIORITIES.join(', ')}, got \`${String(options.priority)}\``),
      )
    }

    const canStart = this.#active < this.#maxActive && this.#queued === 0
    if (!canStart && this.#queued >= this.#maxQueueSize) {
      this.#rejected++
      return Promise.reject(new BackpressureError(this.#maxQueueSize, this.#active))
    }

    const signal = options.signal
    if (signal?.aborted) return Promise.reject(new AbortedError('Task aborted before it was queued', {cause: signal.reason}))
    const job = new Job(task as Task<unknown>, priorityIndex, options.tenant, options.timeoutMs ?? this.#taskTimeoutMs, signal)
    const promise = new Promise<R>((resolve, reject) => {
      job.resolve = resolve as (value: unknown) => void
      job.reject = reject
    })
    this.#accepted++
    if (signal !== undefined) this.#watchSignal(job, signal)
    if (canStart && (job.tenant === undefined || this.#tenantHasRoom(job.tenant))) {
      this.#start(job)
    } else {
      this.#queues[priorityIndex].push(job)
      this.#queued++
      this.#queuedBy[priorityIndex]++
      // A free slot with work queued means the queue holds parked jobs of tenants at their limit:
      // this job may still be runnable.
      if (this.#active < this.#maxActive) this.#pump()
    }

    return promise
  }

  /** Stop accepting. drain (default): run what is queued, then resolve. drain: false: reject what is
   * queued and abort what runs. `timeoutMs`: after that, stop as with drain: false and resolve at once.
   * Every call returns the same promise. */
  end(options: {drain?: boolean; timeoutMs?: number} = {}): Promise<void> {
    if (this.#endPromise !== undefined) return this.#endPromise
    const timeoutMs = integerOption('QueueBroker.end', 'timeoutMs', options.timeoutMs, {min: 0, fallback: Infinity, allowInfinity: true})
    this.#ending = true
    this.#drain = options.drain ?? true
    this.#endPromise = new Promise<void>((resolve) => {
      this.#resolveEnd = resolve
    })
    if (!this.#drain) this.#abortAll()
    if (timeoutMs !== Infinity) {
      const timer = this.#clock.setTimeout(() => {
        this.#abortAll()
        this.#finishEnd(true)
      }, timeoutMs)
      void this.#endPromise.then(() => this.#clock.clearTimeout(timer))
    }

    this.#finishEnd(false)
    return this.#endPromise
  }

  get ended(): boolean {
    return this.#ending
  }

  stats(): QueueBrokerStats {
    const [high, normal, low] = this.#queuedBy
    return {
      maxActiveTasks: this.#maxActive,
      maxQueueSize: this.#maxQueueSize,
      active: this.#active,
      queued: this.#queued,
      retrying: this.#retryTimers.size,
      queuedByPriority: {high, normal, low},
      accepted: this.#accepted,
      completed: this.#completed,
      failed: this.#failed,
      rejected: this.#rejected,
      timedOut: this.#timedOut,
      aborted: this.#aborted,
      retried: this.#retried,
      deadLettered: this.#deadLettered,
    }
  }

  /** Active count of one tenant (0 for an unknown tenant). */
  tenantActive(tenant: string): number {
    return this.#tenants.get(tenant)?.active ?? 0
  }

  // ---- running --------------------------------------------------------------------------------

  #pump(): void {
    while (this.#active < this.#maxActive && this.#queued > 0) {
      const job = this.#takeNext()
      if (job === undefined) return
      this.#start(job)
    }
  }

  /** The oldest runnable job of the highest priority; jobs of a tenant at its limit are parked. */
  #takeNext(): Job | undefined {
    for (const queue of this.#queues) {
      for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
        if (job.settled) continue
        if (job.tenant !== undefined && !this.#tenantHasRoom(job.tenant)) {
          this.#tenant(job.tenant).parked.push(job)
          continue
        }

        this.#queued--
        this.#queuedBy[job.priorityIndex]--
        return job
      }
    }

    return undefined
  }

  #start(job: Job): void {
    this.#active++
    job.running = true
    job.next = this.#runningHead
    if (this.#runningHead !== undefined) this.#runningHead.prev = job
    this.#runningHead = job
    if (job.tenant !== undefined) this.#tenant(job.tenant).active++
    if (job.timeoutMs > 0) job.timer = this.#clock.setTimeout(() => this.#timeOut(job), job.timeoutMs)
    void this.#run(job)
  }

  async #run(job: Job): Promise<void> {
    let value: unknown
    try {
      value = await job.fn(job)
    } catch (error) {
      this.#finished(job)
      this.#failedAttempt(job, error)
      return
    }

    this.#finished(job)
    if (!job.settled) {
      this.#settle(job)
      this.#completed++
      job.resolve(value)
    }

    this.#afterSlotFreed()
  }

  /** Bookkeeping common to success and failure: the slot is free again. */
  #finished(job: Job): void {
    if (job.timer !== undefined) {
      this.#clock.clearTimeout(job.timer)
      job.timer = undefined
    }

    this.#active--
    job.running = false
    if (job.prev === undefined) this.#runningHead = job.next
    else job.prev.next = job.next
    if (job.next !== undefined) job.next.prev = job.prev
    job.prev = job.next = undefined
    if (job.tenant !== undefined) this.#tenantFreed(job.tenant)
  }

  #failedAttempt(job: Job, error: unknown): void {
    if (!job.settled) {
      if (this.#retry !== undefined && !(this.#ending && !this.#drain) && this.#retry.shouldRetry(error, job.attempt)) {
        this.#scheduleRetry(job, error)
      } else {
        if (this.#retry !== undefined && job.attempt > this.#retry.retries) {
          this.#deadLettered++
          this.#onDeadLetter?.({error, attempts: job.attempt, priority: PRIORITIES[job.priorityIndex], tenant: job.tenant})
        }

        this.#settle(job)
        this.#failed++
        job.reject(error)
      }
    }

    this.#afterSlotFreed()
  }

  #scheduleRetry(job: Job, error: unknown): void {
    const delayMs = this.#retry!.delayFor(job.attempt)
    this.#retry!.notifyRetry(error, job.attempt, delayMs)
    this.#retried++
    job.attempt++
    const timer = this.#clock.setTimeout(() => {
      this.#retryTimers.delete(job)
      if (job.settled) return this.#finishEnd(false)
      // Already accepted once, so it does not count against maxQueueSize again.
      this.#queues[job.priorityIndex].unshift(job)
      this.#queued++
      this.#queuedBy[job.priorityIndex]++
      this.#pump()
    }, delayMs)
    this.#retryTimers.set(job, timer)
  }

  #afterSlotFreed(): void {
    if (this.#queued > 0) this.#pump()
    if (this.#ending) this.#finishEnd(false)
  }

  #timeOut(job: Job): void {
    job.timer = undefined
    if (job.settled) return
    const error = new TaskTimeoutError(job.timeoutMs)
    this.#settle(job)
    this.#timedOut++
    job.abort(error)
    job.reject(error)
  }

  #settle(job: Job): void {
    job.settled = true
    if (job.onAbort !== undefined) job.callerSignal!.removeEventListener('abort', job.onAbort)
  }

  #watchSignal(job: Job, signal: AbortSignal): void {
    job.onAbort = () => {
      if (job.settled) return
      const error = new AbortedError('Task aborted', {cause: signal.reason})
      this.#settle(job)
      this.#aborted++
      if (job.running) {
        job.abort(error)
      } else if (this.#retryTimers.has(job)) {
        this.#cancelRetry(job)
      } else {
        // Stays in its ring buffer as a settled entry, skipped when reached.
        this.#queued--
        this.#queuedBy[job.priorityIndex]--
      }

      job.reject(error)
      if (this.#ending) this.#finishEnd(false)
    }

    signal.addEventListener('abort', job.onAbort, {once: true})
  }

  #cancelRetry(job: Job): void {
    this.#clock.clearTimeout(this.#retryTimers.get(job))
    this.#retryTimers.delete(job)
  }

  // ---- tenants --------------------------------------------------------------------------------

  #tenant(name: string): TenantState {
    let state = this.#tenants.get(name)
    if (state === undefined) {
      state = {active: 0, limit: this.#tenantLimits[name] ?? this.#tenantLimit, parked: new RingBuffer<Job>(4)}
      this.#tenants.set(name, state)
    }

    return state
  }

  #tenantHasRoom(name: string): boolean {
    const state = this.#tenants.get(name)
    return state === undefined || state.active < state.limit
  }

  /** A tenant's slot freed: its oldest parked job goes back to the front of its priority queue. */
  #tenantFreed(name: string): void {
    const state = this.#tenants.get(name)!
    state.active--
    for (let job = state.parked.shift(); job !== undefined; job = state.parked.shift()) {
      if (job.settled) continue
      this.#queues[job.priorityIndex].unshift(job)
      break
    }
  }

  // ---- ending ---------------------------------------------------------------------------------

  /** Reject everything queued or waiting to retry; abort what runs (its slot frees when it returns). */
  #abortAll(): void {
    const error = new QueueEndedError('The queue ended before the task ran')
    const reject = (job: Job): void => {
      if (job.settled) return
      this.#settle(job)
      this.#aborted++
      job.reject(error)
    }

    for (const queue of this.#queues) for (const job of queue.drain()) reject(job)
    for (const tenant of this.#tenants.values()) for (const job of tenant.parked.drain()) reject(job)
    this.#queued = 0
    this.#queuedBy.fill(0)
    for (const [job, timer] of this.#retryTimers) {
      this.#clock.clearTimeout(timer)
      reject(job)
    }

    this.#retryTimers.clear()
    for (let job = this.#runningHead; job !== undefined; job = job.next) {
      if (job.settled) continue
      const stopped = new QueueEndedError('The queue ended while the task was running')
      this.#settle(job)
      this.#aborted++
      job.abort(stopped)
      job.reject(stopped)
    }
  }

  #finishEnd(force: boolean): void {
    if (this.#resolveEnd === undefined) return
    const idle = this.#active === 0 && this.#queued === 0 && this.#retryTimers.size === 0
    if (idle || force) {
      this.#resolveEnd()
      this.#resolveEnd = undefined
    }
  }
}
