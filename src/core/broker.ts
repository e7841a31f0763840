import {type Clock, realClock} from './clock.js'
import {AbortedError, BackpressureError, OptionsError, QueueEndedError, TaskTimeoutError} from './errors.js'
import {functionOption, integerOption, rejectUnknownKeys} from './options.js'
import {type DeadLetter, RetryPolicy, type RetryOptions} from './retry.js'
import {RingBuffer} from './ring-buffer.js'
import {Trampoline} from './trampoline.js'

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

/** enqueueCallback()'s task: it calls `done` once, with an error or its value, instead of returning a promise. */
export type CallbackTask<R> = (context: TaskContext, done: (error?: unknown, value?: R) => void) => void

/** enqueueCallback()'s outcome: an error, or the task's value. */
export type EnqueueCallback<R> = (error: unknown, value: R | undefined) => void

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

/** The rarely used parts of a job, allocated only for jobs that have one of them. */
interface JobExtras {
  tenant: string | undefined
  timeoutMs: number
  callerSignal: AbortSignal | undefined
  controller: AbortController | undefined
  timer: unknown
  onAbort: (() => void) | undefined
}

/** One shared executor instead of a closure per task: it hands `resolve` to the job being created. */
let jobBeingCreated: Job | undefined
function captureResolve(resolve: (value: never) => void): void {
  jobBeingCreated!.resolve = resolve as (value: unknown) => void
  jobBeingCreated = undefined
}

const SETTLED = 1
const RUNNING = 2
const PRIORITY_SHIFT = 2 // two bits of priority index
const ATTEMPT_SHIFT = 4

/**
 * One accepted task; also the TaskContext its function receives. A million of these can sit in a
 * queue, so it is kept small: one settle function instead of resolve + reject, flags, priority and
 * attempt packed into one number, and everything most tasks lack (tenant, timeout, signals, timer)
 * in an `extras` object that exists only when needed.
 */
class Job implements TaskContext {
  /** Settles enqueue()'s promise: with a value, or with a rejected promise for a failure. */
  resolve: ((value: unknown) => void) | undefined = undefined
  /** enqueueCallback()'s outcome callback; set means `fn` is a CallbackTask. */
  callback: EnqueueCallback<unknown> | undefined = undefined
  #bits: number
  #extras: JobExtras | undefined
  /** Links of the broker's intrusive list of running jobs (no Set, no allocation per task). */
  prev: Job | undefined = undefined
  next: Job | undefined = undefined

  constructor(
    readonly fn: Task<unknown> | CallbackTask<unknown>,
    priorityIndex: number,
    tenant: string | undefined,
    timeoutMs: number,
    callerSignal: AbortSignal | undefined,
  ) {
    this.#bits = (1 << ATTEMPT_SHIFT) | (priorityIndex << PRIORITY_SHIFT)
    this.#extras =
      tenant === undefined && timeoutMs === 0 && callerSignal === undefined
        ? undefined
        : {tenant, timeoutMs, callerSignal, controller: undefined, timer: undefined, onAbort: undefined}
  }

  get settled(): boolean {
    return (this.#bits & SETTLED) !== 0
  }

  set settled(value: boolean) {
    this.#bits = value ? this.#bits | SETTLED : this.#bits & ~SETTLED
  }

  get running(): boolean {
    return (this.#bits & RUNNING) !== 0
  }

  set running(value: boolean) {
    this.#bits = value ? this.#bits | RUNNING : this.#bits & ~RUNNING
  }

  get priorityIndex(): number {
    return (this.#bits >> PRIORITY_SHIFT) & 3
  }

  get attempt(): number {
    return this.#bits >>> ATTEMPT_SHIFT
  }

  set attempt(value: number) {
    this.#bits = (this.#bits & ((1 << ATTEMPT_SHIFT) - 1)) | (value << ATTEMPT_SHIFT)
  }

  get tenant(): string | undefined {
    return this.#extras?.tenant
  }

  get timeoutMs(): number {
    return this.#extras?.timeoutMs ?? 0
  }

  get callerSignal(): AbortSignal | undefined {
    return this.#extras?.callerSignal
  }

  get timer(): unknown {
    return this.#extras?.timer
  }

  set timer(value: unknown) {
    if (this.#extras !== undefined) this.#extras.timer = value
    else if (value !== undefined) this.#more().timer = value
  }

  get onAbort(): (() => void) | undefined {
    return this.#extras?.onAbort
  }

  set onAbort(value: (() => void) | undefined) {
    this.#more().onAbort = value
  }

  /** Created on first use: most tasks never look at it. */
  get signal(): AbortSignal {
    const extras = this.#more()
    extras.controller ??= new AbortController()
    return extras.controller.signal
  }

  abort(reason: unknown): void {
    const extras = this.#more()
    extras.controller ??= new AbortController()
    extras.controller.abort(reason)
  }

  #more(): JobExtras {
    this.#extras ??= {tenant: undefined, timeoutMs: 0, callerSignal: undefined, controller: undefined, timer: undefined, onAbort: undefined}
    return this.#extras
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
  /** enqueueCallback() outcomes, made one after another (one can start the next task, which can finish at once). */
  readonly #deliveries = new Trampoline()
  /** Live queued jobs (settled ones may still sit in a ring buffer until skipped), in all and per priority. */
  #queued = 0
  readonly #queuedBy = [0, 0, 0]
  #runningHead: Job | undefined = undefined
  #pumping = false
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
    const job = this.#accept(task as Task<unknown>, options)
    if (!(job instanceof Job)) return Promise.reject(job)
    jobBeingCreated = job
    const promise = new Promise<R>(captureResolve)
    this.#admit(job, options.signal)
    return promise
  }

  /**
   * enqueue() for hot paths that cannot afford promises per task (the simulator runs millions): the same
   * queue, limits, timeouts and retries, but `task` calls `done` instead of returning a promise, and the
   * outcome goes to `callback` (exactly once). It may run synchronously, before this returns (a full
   * queue, a task that finished at once); it must not throw.
   */
  enqueueCallback<R>(task: CallbackTask<R>, options: EnqueueOptions, callback: EnqueueCallback<R>): void {
    const job = this.#accept(task as CallbackTask<unknown>, options)
    if (!(job instanceof Job)) return this.#deliveries.deliver(callback, job, undefined)
    job.callback = callback as EnqueueCallback<unknown>
    this.#admit(job, options.signal)
  }

  /** Checks done before a task is accepted: its job, or the error it is refused with. */
  #accept(task: Task<unknown> | CallbackTask<unknown>, options: EnqueueOptions): Job | Error {
    if (this.#ending) return new QueueEndedError()
    if (typeof task !== 'function') return new OptionsError(`QueueBroker.enqueue: expected a function, got ${typeof task}`)
    const priorityIndex = options.priority === undefined ? 1 : PRIORITY_INDEX[options.priority]
    if (priorityIndex === undefined) {
      return new OptionsError(`QueueBroker.enqueue: expected \`priority\` to be one of ${PRIORITIES.join(', ')}, got \`${String(options.priority)}\``)
    }

    if (!this.#canStart() && this.#queued >= this.#maxQueueSize) {
      this.#rejected++
      return new BackpressureError(this.#maxQueueSize, this.#active)
    }

    const signal = options.signal
    if (signal?.aborted) return new AbortedError('Task aborted before it was queued', {cause: signal.reason})
    return new Job(task, priorityIndex, options.tenant, options.timeoutMs ?? this.#taskTimeoutMs, signal)
  }

  #canStart(): boolean {
    return this.#active < this.#maxActive && this.#queued === 0
  }

  /** An accepted job starts now if it may, else waits in its priority's queue. */
  #admit(job: Job, signal: AbortSignal | undefined): void {
    this.#accepted++
    if (signal !== undefined) this.#watchSignal(job, signal)
    if (this.#canStart() && (job.tenant === undefined || this.#tenantHasRoom(job.tenant))) {
      this.#start(job)
    } else {
      this.#queues[job.priorityIndex].push(job)
      this.#queued++
      this.#queuedBy[job.priorityIndex]++
      // A free slot with work queued means the queue holds parked jobs of tenants at their limit:
      // this job may still be runnable.
      if (this.#active < this.#maxActive) this.#pump()
    }
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

  /** Tasks waiting in the queue now (stats().queued without building the whole stats object). */
  get queued(): number {
    return this.#queued
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
    // Re-entrancy guard: a task that settles synchronously frees its slot inside #start, which would
    // call #pump again, one stack frame deeper per task (thousands of sync throws overflowed the stack).
    // The outer loop picks up every slot freed meanwhile.
    if (this.#pumping) return
    this.#pumping = true
    try {
      while (this.#active < this.#maxActive && this.#queued > 0) {
        const job = this.#takeNext()
        if (job === undefined) return
        this.#start(job)
      }
    } finally {
      this.#pumping = false
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
    if (job.callback !== undefined) {
      this.#startCallbackTask(job)
      return
    }

    let result: unknown
    try {
      result = (job.fn as Task<unknown>)(job)
    } catch (error) {
      this.#failedAttempt(job, error)
      return
    }

    // Plain .then (not an async function): one promise hop per task, the cheapest there is.
    if (isThenable(result)) {
      const promise = result instanceof Promise ? result : Promise.resolve(result)
      promise.then(
        (value) => this.#succeeded(job, value),
        (error: unknown) => this.#failedAttempt(job, error),
      )
    } else {
      this.#succeeded(job, result)
    }
  }

  #startCallbackTask(job: Job): void {
    const attempt = job.attempt
    const over = (): boolean => !job.running || job.attempt !== attempt
    const done = (error?: unknown, value?: unknown): void => {
      // A second call, or a late one from an attempt that has since been retried, is ignored.
      if (over()) return
      if (error === undefined || error === null) this.#succeeded(job, value)
      else this.#failedAttempt(job, error)
    }

    try {
      ;(job.fn as CallbackTask<unknown>)(job, done)
    } catch (error) {
      // A throw after done() came from the outcome's callback, not from the task: not its failure.
      if (over()) throw error
      done(error ?? new Error('QueueBroker: a task threw a nullish value'))
    }
  }

  #succeeded(job: Job, value: unknown): void {
    this.#finished(job)
    if (job.settled) return this.#afterSlotFreed()
    this.#settle(job)
    this.#completed++
    this.#tell(job, false, value, this.#refill)
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
    this.#finished(job)
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
        return this.#tell(job, true, error, this.#refill)
      }
    }

    this.#afterSlotFreed()
  }

  /**
   * Tell a job's caller its outcome: enqueue()'s promise, or enqueueCallback()'s callback. `refill` (a
   * finished job's freed slot) runs in both cases: after a promise settles (its reactions run later
   * anyway), before a callback, so that the callback sees the queue as a `.then` would (the next queued
   * task already started, its own slot not free for a new one), yet ahead of the outcomes of anything
   * the refill started (the trampoline keeps that order).
   */
  #tell(job: Job, failed: boolean, outcome: unknown, refill?: () => void): void {
    if (job.callback === undefined) {
      job.resolve!(failed ? Promise.reject(outcome) : outcome)
      refill?.()
    } else {
      this.#deliveries.deliver(job.callback, failed ? outcome : undefined, failed ? undefined : outcome, refill)
    }
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

  readonly #refill = (): void => this.#afterSlotFreed()

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
    this.#tell(job, true, error)
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

      this.#tell(job, true, error)
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
    // Every job is settled first and told after: telling one can run code that calls back in (a
    // callback task's done() inside its abort unlinks it from the running list; a freed tenant slot
    // would re-queue a parked job), which must find nothing left to start or to walk.
    const waiting: Job[] = []
    const take = (job: Job): void => {
      if (job.settled) return
      this.#settle(job)
      this.#aborted++
      waiting.push(job)
    }

    for (const queue of this.#queues) for (const job of queue.drain()) take(job)
    for (const tenant of this.#tenants.values()) for (const job of tenant.parked.drain()) take(job)
    this.#queued = 0
    this.#queuedBy.fill(0)
    for (const [job, timer] of this.#retryTimers) {
      this.#clock.clearTimeout(timer)
      take(job)
    }

    this.#retryTimers.clear()
    const running: Job[] = []
    for (let job = this.#runningHead; job !== undefined; job = job.next) {
      if (job.settled) continue
      this.#settle(job)
      this.#aborted++
      running.push(job)
    }

    const error = new QueueEndedError('The queue ended before the task ran')
    for (const job of waiting) this.#tell(job, true, error)
    for (const job of running) {
      const stopped = new QueueEndedError('The queue ended while the task was running')
      job.abort(stopped)
      this.#tell(job, true, stopped)
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

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as {then?: unknown}).then === 'function'
}
