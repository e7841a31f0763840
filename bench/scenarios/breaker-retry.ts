/**
 * Scenario 5: the overhead of a retry policy around a circuit breaker on the happy path (the wrapped
 * function always succeeds, so no retry ever waits), as a sequential awaited loop. Configurations are
 * matched: 3 retries with exponential backoff, 5 consecutive failures open the circuit, 10 s half-open.
 */
import cockatiel from 'cockatiel'
import OpossumBreaker from 'opossum'
import {CircuitBreaker, RetryPolicy} from '../../src/core/index.js'
import {labelFor} from '../env.js'
import {type BenchOptions, type Contender, type Scenario, TimeBox, perSecond, persistent} from '../harness.js'

/** The protected call: a trivial async function. */
const fn = async (): Promise<number> => 1

/** Each contender's policy is built once (as a caller would) and reused by every round. */
type Call = () => Promise<unknown>

function corePolicy(): Call {
  const breaker = new CircuitBreaker({failureThreshold: 5, resetTimeoutMs: 10_000})
  const policy = new RetryPolicy({retries: 3, minDelayMs: 128, maxDelayMs: 30_000})
  const guarded = (): Promise<number> => breaker.execute(fn)
  return () => policy.execute(guarded)
}

function cockatielPolicy(): Call {
  const {wrap, retry, circuitBreaker, handleAll, ExponentialBackoff, ConsecutiveBreaker} = cockatiel
  const policy = wrap(
    retry(handleAll, {maxAttempts: 3, backoff: new ExponentialBackoff()}),
    circuitBreaker(handleAll, {halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5)}),
  )
  return () => policy.execute(fn)
}

async function coreCalls(call: Call, durationMs: number): Promise<number> {
  const box = new TimeBox(durationMs)
  while (!box.stop) {
    await call()
    box.tick()
  }

  return box.rate()
}

async function cockatielCalls(call: Call, durationMs: number): Promise<number> {
  const box = new TimeBox(durationMs)
  while (!box.stop) {
    await call()
    box.tick()
  }

  return box.rate()
}

async function opossumCalls(breaker: OpossumBreaker<[], number>, durationMs: number): Promise<number> {
  const box = new TimeBox(durationMs)
  while (!box.stop) {
    await breaker.fire()
    box.tick()
  }

  return box.rate()
}

async function bareCalls(_none: undefined, durationMs: number): Promise<number> {
  const box = new TimeBox(durationMs)
  while (!box.stop) {
    await fn()
    box.tick()
  }

  return box.rate()
}

export function breakerRetryScenarios({quick}: BenchOptions): Scenario[] {
  const durationMs = quick ? 100 : 400
  const entry = <T>(
    id: string,
    label: string,
    open: () => T,
    run: (subject: T, ms: number) => Promise<number>,
    note?: string,
    reference = false,
  ): Contender =>
    persistent<T>({
      id,
      label,
      note,
      reference,
      open,
      // opossum keeps a rolling-statistics interval running until shutdown().
      close: (subject) => (subject instanceof OpossumBreaker ? subject.shutdown() : undefined),
      measure: (subject) => run(subject, durationMs),
      warmup: (subject) => run(subject, Math.min(durationMs, 200)),
    })
  return [
    {
      id: 'breaker-retry',
      group: 'breaker-retry',
      title: 'Retry + circuit breaker around a trivial async function',
      method: `One sequential loop of awaited calls for ${durationMs} ms; the function always succeeds; calls/s.`,
      unit: perSecond('calls/s'),
      rounds: quick ? 3 : 7,
      subject: 'core',
      contenders: [
        entry(
          'core',
          'poolctl RetryPolicy + CircuitBreaker',
          corePolicy,
          coreCalls,
          '`policy.execute(() => breaker.execute(fn))`, retries 3, failureThreshold 5, resetTimeoutMs 10000',
        ),
        entry(
          'cockatiel',
          `${labelFor('cockatiel')} wrap(retry, circuitBreaker)`,
          cockatielPolicy,
          cockatielCalls,
          'maxAttempts 3 with ExponentialBackoff, ConsecutiveBreaker(5), halfOpenAfter 10000',
        ),
        entry(
          'opossum',
          `${labelFor('opossum')} (breaker only: opossum has no retry)`,
          () => new OpossumBreaker(fn, {timeout: false, resetTimeout: 10_000, errorThresholdPercentage: 50}),
          opossumCalls,
          '`breaker.fire()`; `timeout: false` (its default 10 s per-call timer is off, as neither other contender times calls), resetTimeout 10000',
        ),
        entry('bare', 'reference: bare `await fn()`', () => undefined, bareCalls, 'no policy at all', true),
      ],
      goals: [{kind: 'faster', vs: 'cockatiel', factor: 2}],
    },
  ]
}
