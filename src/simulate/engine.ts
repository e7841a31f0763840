/**
 * The simulation engine: a load generator drives the core's QueueBroker + ConnectionPool (+ optional
 * CircuitBreaker and retry) on any Clock. No React, no I/O of its own: the executor decides what
 * "serving a task on a connection" means (a virtual timer, or a real statement), and the UI polls
 * `snapshot()`.
 */
import {
  BackpressureError,
  type CallbackTask,
  CircuitBreaker,
  type CircuitState,
  type Clock,
  type ConnectionPool,
  type ConnectionPoolOptions,
  type Priority,
  type TaskContext,
  QueueBroker,
  type Random,
  VirtualClock,
  seededRandom,
  settle,
} from '../core/index.js'
import {type SimulationConfig, peakRate, totalDurationMs} from './config.js'
import {type Sampler, nextArrival, rateAt, serviceSampler} from './distributions.js'
import {Histogram, type Summary, round} from './histogram.js'
import {SimulationClock} from './virtual.js'

/** The pool options the engine decides; the executor adds how connections are made. */
export type EnginePoolOptions = Pick<ConnectionPoolOptions<unknown>, 'max' | 'idleTimeoutMs' | 'acquireTimeoutMs' | 'clock' | 'random'>

/** What serving one task means: hold a connection for `serviceMs` (virtual) or run a statement. */
export interface Executor<C> {
  createPool(options: EnginePoolOptions): ConnectionPool<C>
  /** Serve one task on `connection`, then call `done` once: with an error if it failed. */
  serve(connection: C, serviceMs: number, context: TaskContext, done: (error?: unknown) => void): void
  /** Whether serve() reads `context.signal` (creating it costs an AbortController per task). */
  readonly cancellable: boolean
}

/** A task that fails on purpose (`--failure-rate`). */
export class SimulatedFailure extends Error {
  override readonly name = 'SimulatedFailure'
}

export interface HistorySample {
  /** Seconds since the start of the run (simulated time in virtual mode). */
  t: number
  queueDepth: number
  inUse: number
  /** Mean latency of the tasks completed during this second; 0 when none. */
  latencyMs: number
  completed: number
  rejected: number
}

export interface Totals {
  submitted: number
  completed: number
  rejected: number
  failed: number
  timedOut: number
  deadLettered: number
  /** Stopped before they finished (Ctrl-C / q). */
  aborted: number
}

export interface Snapshot {
  elapsedMs: number
  durationMs: number
  /** Arrival rate the load generator is at now (per second). */
  offeredRate: number
  pool: {inUse: number; idle: number; max: number; pending: number}
  queue: {depth: number; bound: number; active: number; maxActive: number}
  totals: Totals
  throughputPerSec: number
  latencyMs: Summary
  queueWaitMs: Summary
  serviceMs: Summary
  breaker: CircuitState | 'off'
  history: HistorySample[]
  finished: boolean
}

export interface SimulationResult {
  config: SimulationConfig
  /** Time the run covered, load and drain (simulated time in virtual mode). */
  elapsedMs: number
  /** Wall-clock time it took. */
  wallMs: number
  stopped: boolean
  totals: Totals
  latencyMs: Summary
  queueWaitMs: Summary
  serviceMs: Summary
  byPriority: Record<'high' | 'low', {completed: number; latencyMs: Summary}>
  byTenant: {tenant: string; submitted: number; completed: number; rejected: number}[]
  throughputPerSec: number
  /** Highest per-second arrival count: the rate the pool had to absorb at peak. */
  peakArrivalsPerSec: number
  maxQueueDepth: number
  maxInUse: number
  retried: number
  breaker: {opened: number; rejected: number} | undefined
  /** Errors other than backpressure and the simulated failures by code, most frequent first (top 5),
   * each with its first message. */
  errors: {code: string; count: number; message: string}[]
  history: HistorySample[]
}

export interface RunOptions {
  /** Stop early: arrivals stop, the queue is aborted, every connection closed. */
  signal?: AbortSignal
  /** Called once per simulated second with the new history sample. */
  onSample?: (sample: HistorySample) => void
}

const HISTORY_LIMIT = 120
/** The load generator's own random stream is separate from retry jitter and per-attempt draws, so a
 * configuration change (e.g. more retries) never shifts the arrivals: compare runs see the same load. */
const BEHAVIOUR_SEED_SALT = 0x9e37_79b9

export class Simulation<C> {
  readonly config: SimulationConfig
  readonly #clock: Clock
  readonly #pool: ConnectionPool<C>
  readonly #broker: QueueBroker
  readonly #breaker: CircuitBreaker | undefined
  readonly #executor: Executor<C>
  readonly #load: Random
  readonly #behaviour: Random
  readonly #service: Sampler
  readonly #retryService: Sampler
  readonly #peak: number
  readonly #durationMs: number

  readonly #latency = new Histogram()
  readonly #queueWait = new Histogram()
  readonly #serviceTime = new Histogram()
  readonly #byPriority = {high: {completed: 0, latency: new Histogram()}, low: {completed: 0, latency: new Histogram()}}
  readonly #tenants: {tenant: string; submitted: number; completed: number; rejected: number}[]
  readonly #history: HistorySample[] = []
  readonly #errors = new Map<string, {count: number; message: string}>()
  readonly #optionsByKey: ({priority: Priority; tenant: string | undefined} | undefined)[] = []

  #startedAt = 0
  #endedAt: number | undefined = undefined
  #nextAt: number | undefined = 0
  #submitted = 0
  #inUse = 0
  #maxInUse = 0
  #maxQueueDepth = 0
  #arrivalsThisSecond = 0
  #peakArrivals = 0
  #interval = {completed: 0, latencySum: 0, rejected: 0}
  #sampleTimer: unknown = undefined
  #arrivalTimer: unknown = undefined
  #finished = false
  #stopping = false
  readonly #signalMatters: boolean
  #resolveArrivals!: () => void
  readonly #arrivalsOver = new Promise<void>((resolve) => {
    this.#resolveArrivals = resolve
  })

  constructor(config: SimulationConfig, options: {clock: Clock; executor: Executor<C>}) {
    this.config = config
    this.#clock = options.clock
    this.#executor = options.executor
    this.#load = seededRandom(config.seed)
    this.#behaviour = seededRandom(config.seed ^ BEHAVIOUR_SEED_SALT)
    this.#service = serviceSampler(config, this.#load)
    this.#retryService = serviceSampler(config, this.#behaviour)
    this.#peak = peakRate(config)
    this.#durationMs = totalDurationMs(config)
    this.#signalMatters = config.taskTimeoutMs > 0 || options.executor.cancellable
    this.#tenants = Array.from({length: config.tenants}, (_, i) => ({tenant: `tenant-${i + 1}`, submitted: 0, completed: 0, rejected: 0}))
    this.#pool = options.executor.createPool({
      max: config.connections,
      // Idle connections stay for the whole run: a reaper would only add timers to a virtual run.
      idleTimeoutMs: 0,
      acquireTimeoutMs: config.taskTimeoutMs > 0 ? config.taskTimeoutMs : 30_000,
      clock: this.#clock,
      random: this.#behaviour,
    })
    this.#broker = new QueueBroker({
      maxActiveTasks: config.maxActive,
      maxQueueSize: config.queueSize,
      taskTimeoutMs: config.taskTimeoutMs,
      ...(config.tenants > 0 ? {tenantLimit: config.tenantLimit} : {}),
      ...(config.retries > 0
        ? {retry: {retries: config.retries, minDelayMs: 50, maxDelayMs: 2000, jitter: 'full' as const, random: this.#behaviour}, onDeadLetter: () => {}}
        : {}),
      clock: this.#clock,
    })
    this.#breaker =
      config.breakerThreshold > 0
        ? new CircuitBreaker({failureThreshold: config.breakerThreshold, resetTimeoutMs: config.breakerResetMs, clock: this.#clock})
        : undefined
  }

  /** Run the load to the end of its phases (or until `signal` aborts), drain, close every connection. */
  async run(options: RunOptions = {}): Promise<SimulationResult> {
    const wallStart = performance.now()
    const {signal} = options
    this.#startedAt = this.#clock.now()
    let stopped = false
    const stop = (): void => {
      if (stopped || this.#finished) return
      stopped = true
      this.#stopping = true
      this.#clock.clearTimeout(this.#arrivalTimer)
      this.#nextAt = undefined
      void this.#broker.end({drain: false})
      this.#arrivalsDone()
    }
    signal?.addEventListener('abort', stop, {once: true})
    const sample = (): void => {
      const entry = this.#takeSample()
      options.onSample?.(entry)
      if (!this.#finished) this.#sampleTimer = this.#clock.setTimeout(sample, 1000)
    }
    this.#sampleTimer = this.#clock.setTimeout(sample, 1000)
    this.#nextAt = nextArrival(this.config, this.#peak, this.#durationMs, 0, this.#load)
    if (this.#nextAt === undefined) this.#arrivalsDone()
    else this.#scheduleArrival()
    const done = this.#finish()
    if (signal?.aborted) stop()

    if (this.#clock instanceof VirtualClock) {
      // Discrete-event drive: one simulated second at a time, so a wall-clock stop is seen promptly.
      const clock = this.#clock
      let idleTurns = 0
      while (!this.#finished) {
        if (clock.nextTimerAt() === undefined) {
          // Nothing scheduled yet not finished: promises still settling. Never spin forever on a bug.
          if (++idleTurns > 1000) throw new Error('simulation stalled: no timer left and the queue not drained')
          await settle()
        } else {
          idleTurns = 0
          await clock.advance(1000)
          // A microtask-settled clock never yields to the event loop by itself: let the UI's timers,
          // key presses and signals in once per simulated second.
          await settle()
        }
        if (signal?.aborted) stop()
      }
    }

    await done
    signal?.removeEventListener('abort', stop)
    const closing = this.#pool.end({timeoutMs: 2000})
    if (this.#clock instanceof VirtualClock) await this.#clock.runUntilIdle()
    await closing
    return this.#result(performance.now() - wallStart, stopped)
  }

  /** Live numbers for the UI and the metrics endpoint. O(buckets); call it a few times a second at most. */
  snapshot(): Snapshot {
    const broker = this.#broker.stats()
    const pool = this.#pool.stats()
    const elapsedMs = (this.#endedAt ?? this.#clock.now()) - this.#startedAt
    return {
      elapsedMs,
      durationMs: this.#durationMs,
      offeredRate: rateAt(this.config.phases, elapsedMs),
      pool: {inUse: pool.used, idle: pool.idle, max: pool.max, pending: pool.pending},
      queue: {depth: broker.queued, bound: broker.maxQueueSize, active: broker.active, maxActive: broker.maxActiveTasks},
      totals: this.#totals(),
      throughputPerSec: elapsedMs > 0 ? round((broker.completed / elapsedMs) * 1000) : 0,
      latencyMs: this.#latency.summary(),
      queueWaitMs: this.#queueWait.summary(),
      serviceMs: this.#serviceTime.summary(),
      breaker: this.#breaker?.state ?? 'off',
      history: this.#history,
      finished: this.#finished,
    }
  }

  // ---- load generation -------------------------------------------------------------------------

  /** No more arrivals (the phases are over, or the run stops): what is left is the drain. */
  #arrivalsDone(): void {
    // The drain awaits the queue's end(): from here on the clock must settle promises between timers.
    if (this.#clock instanceof SimulationClock) this.#clock.settleAfterEveryTimer()
    this.#resolveArrivals()
  }

  #scheduleArrival(): void {
    if (this.#nextAt === undefined) return
    this.#arrivalTimer = this.#clock.setTimeout(this.#arrive, this.#startedAt + this.#nextAt - this.#clock.now())
  }

  /** Submit every arrival that is due (a real timer may fire late: several can be), then re-arm. */
  readonly #arrive = (): void => {
    const now = this.#clock.now() - this.#startedAt
    while (this.#nextAt !== undefined && this.#nextAt <= now) {
      this.#submit()
      this.#nextAt = nextArrival(this.config, this.#peak, this.#durationMs, this.#nextAt, this.#load)
    }
    if (this.#nextAt === undefined) this.#arrivalsDone()
    else this.#scheduleArrival()
  }

  #submit(): void {
    const config = this.config
    // Every draw happens here, in arrival order, from the load stream: the same seed gives the same
    // load whatever the pool does with it.
    const serviceMs = this.#service()
    const fails = config.failureRate > 0 && this.#load() < config.failureRate
    const priority: Priority = config.backgroundShare > 0 && this.#load() < config.backgroundShare ? 'low' : 'high'
    const tenantIndex = config.tenants > 0 ? this.#pickTenant() : -1
    const tenant = tenantIndex >= 0 ? this.#tenants[tenantIndex] : undefined
    this.#submitted++
    this.#arrivalsThisSecond++
    if (tenant !== undefined) tenant.submitted++
    const enqueuedAt = this.#clock.now()
    // The core's callback APIs, not its promises: a virtual run then starts no promise per task, and its
    // clock need not settle promise chains between timers (see SimulationClock).
    const serve = (connection: C, context: TaskContext, served: (error?: unknown) => void): void => {
      const attempt = context.attempt
      const acquiredAt = this.#clock.now()
      if (++this.#inUse > this.#maxInUse) this.#maxInUse = this.#inUse
      const ms = attempt === 1 ? serviceMs : this.#retryService()
      this.#executor.serve(connection, ms, context, (error) => {
        this.#inUse--
        if (error !== undefined) return served(error)
        if (attempt === 1 ? fails : config.failureRate > 0 && this.#behaviour() < config.failureRate) {
          return served(new SimulatedFailure('simulated failure'))
        }
        if ((this.#signalMatters || this.#stopping) && context.signal.aborted) return served() // timed out or stopped: already counted
        const end = this.#clock.now()
        const latency = end - enqueuedAt
        this.#latency.record(latency)
        this.#serviceTime.record(end - acquiredAt)
        this.#queueWait.record(acquiredAt - enqueuedAt)
        const byPriority = this.#byPriority[priority === 'low' ? 'low' : 'high']
        byPriority.completed++
        byPriority.latency.record(latency)
        if (tenant !== undefined) tenant.completed++
        this.#interval.completed++
        this.#interval.latencySum += latency
        served()
      })
    }
    const task: CallbackTask<void> = (context, done) => {
      // context.signal creates an AbortController on first read: only read it when it can matter
      // (a timeout, a stop, or an executor that cancels real work), as it dominated a virtual run's cost.
      const signal = this.#signalMatters ? context.signal : undefined
      const run = (passed: (error?: unknown) => void): void =>
        this.#pool.withResourceCallback((connection, served) => serve(connection, context, served), passed, signal)
      if (this.#breaker === undefined) run(done)
      else this.#breaker.executeCallback(run, done)
    }
    this.#broker.enqueueCallback(task, this.#enqueueOptions(priority, tenantIndex), (error) => {
      if (error === undefined) return
      if (error instanceof BackpressureError) {
        this.#interval.rejected++
        if (tenant !== undefined) tenant.rejected++
      } else if (!(error instanceof SimulatedFailure)) {
        this.#noteError(error)
      }
    })
    const depth = this.#broker.queued
    if (depth > this.#maxQueueDepth) this.#maxQueueDepth = depth
  }

  /** One options object per (priority, tenant), made once: not one allocation per task. */
  #enqueueOptions(priority: Priority, tenantIndex: number): {priority: Priority; tenant: string | undefined} {
    const key = (priority === 'low' ? 1 : 0) + 2 * (tenantIndex + 1)
    let options = this.#optionsByKey[key]
    if (options === undefined) {
      options = {priority, tenant: tenantIndex >= 0 ? this.#tenants[tenantIndex].tenant : undefined}
      this.#optionsByKey[key] = options
    }
    return options
  }

  /** Real errors (not the simulated ones) by message, so a run that fails for a reason says which. */
  #noteError(error: unknown): void {
    // Grouped by code (or class): messages carry numbers ("retry in 4984ms") that would split one cause.
    const {code, name, message} = (error ?? {}) as {code?: unknown; name?: unknown; message?: unknown}
    const key = typeof code === 'string' ? code : typeof name === 'string' ? name : 'Error'
    const seen = this.#errors.get(key)
    if (seen !== undefined) seen.count++
    else if (this.#errors.size < 20) this.#errors.set(key, {count: 1, message: `${String(name ?? 'Error')}: ${String(message ?? error)}`})
  }

  /** Tenant 1 sends `noisyShare` of the traffic; the others split the rest evenly. */
  #pickTenant(): number {
    const {tenants, noisyShare} = this.config
    const u = this.#load()
    if (tenants === 1 || u < noisyShare) return 0
    return 1 + Math.min(tenants - 2, Math.floor(((u - noisyShare) / (1 - noisyShare)) * (tenants - 1)))
  }

  // ---- bookkeeping -----------------------------------------------------------------------------

  async #finish(): Promise<void> {
    await this.#arrivalsOver
    await this.#broker.end({drain: true})
    // end() above returns the promise of whichever end() came first (drain at the last arrival, or the
    // abort); either way everything accepted has settled now.
    this.#endedAt = this.#clock.now()
    this.#finished = true
    this.#clock.clearTimeout(this.#sampleTimer)
    this.#clock.clearTimeout(this.#arrivalTimer)
    if (this.#interval.completed > 0 || this.#interval.rejected > 0 || this.#arrivalsThisSecond > 0) this.#takeSample()
  }

  #takeSample(): HistorySample {
    const broker = this.#broker.stats()
    const interval = this.#interval
    const entry: HistorySample = {
      t: Math.round((this.#clock.now() - this.#startedAt) / 100) / 10,
      queueDepth: broker.queued,
      inUse: this.#inUse,
      latencyMs: interval.completed > 0 ? round(interval.latencySum / interval.completed) : 0,
      completed: interval.completed,
      rejected: interval.rejected,
    }
    if (this.#arrivalsThisSecond > this.#peakArrivals) this.#peakArrivals = this.#arrivalsThisSecond
    this.#arrivalsThisSecond = 0
    this.#interval = {completed: 0, latencySum: 0, rejected: 0}
    this.#history.push(entry)
    if (this.#history.length > HISTORY_LIMIT) this.#history.shift()
    return entry
  }

  #totals(): Totals {
    const stats = this.#broker.stats()
    return {
      submitted: this.#submitted,
      completed: stats.completed,
      rejected: stats.rejected,
      failed: stats.failed,
      timedOut: stats.timedOut,
      deadLettered: stats.deadLettered,
      aborted: stats.aborted,
    }
  }

  #result(wallMs: number, stopped: boolean): SimulationResult {
    const elapsedMs = (this.#endedAt ?? this.#clock.now()) - this.#startedAt
    const stats = this.#broker.stats()
    const breaker = this.#breaker?.stats()
    return {
      config: this.config,
      elapsedMs: round(elapsedMs),
      wallMs: round(wallMs),
      stopped,
      totals: this.#totals(),
      latencyMs: this.#latency.summary(),
      queueWaitMs: this.#queueWait.summary(),
      serviceMs: this.#serviceTime.summary(),
      byPriority: {
        high: {completed: this.#byPriority.high.completed, latencyMs: this.#byPriority.high.latency.summary()},
        low: {completed: this.#byPriority.low.completed, latencyMs: this.#byPriority.low.latency.summary()},
      },
      byTenant: this.#tenants,
      throughputPerSec: elapsedMs > 0 ? round((stats.completed / elapsedMs) * 1000) : 0,
      peakArrivalsPerSec: this.#peakArrivals,
      maxQueueDepth: this.#maxQueueDepth,
      maxInUse: this.#maxInUse,
      retried: stats.retried,
      breaker: breaker === undefined ? undefined : {opened: breaker.opened, rejected: breaker.rejected},
      errors: [...this.#errors].map(([code, {count, message}]) => ({code, count, message})).sort((a, b) => b.count - a.count).slice(0, 5),
      history: this.#history,
    }
  }
}
