import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {
  BrokenCircuitError,
  CircuitBreaker,
  type CircuitState,
  OptionsError,
  RetryPolicy,
  RingBuffer,
  SingleWriterLane,
  VirtualClock,
  retry,
  seededRandom,
} from '../../src/core/index.js'
import {fakePool, tick, track} from '../support/core-fixtures.js'

const fail = (message = 'down') => () => Promise.reject(new Error(message))
const succeed = () => Promise.resolve('ok')

describe('CircuitBreaker', () => {
  it('opens after failureThreshold consecutive failures and then rejects without calling', async () => {
    const clock = new VirtualClock()
    const changes: string[] = []
    const breaker = new CircuitBreaker({failureThreshold: 3, resetTimeoutMs: 1000, clock, onStateChange: (s, p) => changes.push(`${p}→${s}`)})
    await assert.rejects(breaker.execute(fail()))
    await breaker.execute(succeed) // a success resets the consecutive count
    for (let i = 0; i < 3; i++) await assert.rejects(breaker.execute(fail()), /down/)
    assert.equal(breaker.state, 'open')
    let called = false
    await assert.rejects(
      breaker.execute(async () => {
        called = true
      }),
      (error: unknown) => error instanceof BrokenCircuitError && error.code === 'CIRCUIT_OPEN' && (error.cause as Error).message === 'down',
    )
    assert.equal(called, false)
    assert.deepEqual(changes, ['closed→open'])
    assert.equal(breaker.stats().rejected, 1)
  })

  it('half-open after resetTimeoutMs lets at most halfOpenMaxProbes through; a success closes it', async () => {
    const clock = new VirtualClock()
    const breaker = new CircuitBreaker({failureThreshold: 1, resetTimeoutMs: 1000, halfOpenMaxProbes: 1, clock})
    await assert.rejects(breaker.execute(fail()))
    await clock.advance(999)
    assert.equal(breaker.state, 'open')
    await clock.advance(1)
    assert.equal(breaker.state, 'half-open')
    let finishProbe!: () => void
    const probe = breaker.execute(() => new Promise<void>((resolve) => (finishProbe = resolve)))
    await assert.rejects(breaker.execute(succeed), BrokenCircuitError, 'second concurrent probe refused')
    finishProbe()
    await probe
    assert.equal(breaker.state, 'closed')
  })

  it('a failed probe re-opens the circuit for another resetTimeoutMs', async () => {
    const clock = new VirtualClock()
    const breaker = new CircuitBreaker({failureThreshold: 1, resetTimeoutMs: 500, clock})
    await assert.rejects(breaker.execute(fail()))
    await clock.advance(500)
    await assert.rejects(breaker.execute(fail('still down')), /still down/)
    assert.equal(breaker.state, 'open')
    await clock.advance(499)
    assert.equal(breaker.state, 'open')
    await clock.advance(1)
    assert.equal(breaker.state, 'half-open')
    assert.equal(breaker.stats().opened, 2)
  })

  it('successThreshold needs that many probe successes; isFailure ignores errors that are not the dependency\'s fault', async () => {
    const clock = new VirtualClock()
    const states: CircuitState[] = []
    const breaker = new CircuitBreaker({
      failureThreshold: 2,
      resetTimeoutMs: 10,
      successThreshold: 2,
      clock,
      isFailure: (error) => (error as Error).message !== 'unique violation',
      onStateChange: (s) => states.push(s),
    })
    for (let i = 0; i < 5; i++) await assert.rejects(breaker.execute(fail('unique violation')))
    assert.equal(breaker.state, 'closed')
    await assert.rejects(breaker.execute(fail()))
    await assert.rejects(breaker.execute(fail()))
    await clock.advance(10)
    await breaker.execute(succeed)
    assert.equal(breaker.state, 'half-open')
    await breaker.execute(succeed)
    assert.deepEqual(states, ['open', 'half-open', 'closed'])
  })

  it('a synchronous throw counts as a failure', async () => {
    const breaker = new CircuitBreaker({failureThreshold: 1})
    await assert.rejects(
      breaker.execute(() => {
        throw new Error('sync')
      }),
      /sync/,
    )
    assert.equal(breaker.state, 'open')
  })

  it('validates its options', () => {
    assert.throws(() => new CircuitBreaker({failureThreshold: 0}), OptionsError)
    assert.throws(() => new CircuitBreaker({threshold: 1} as never), /unknown option `threshold`/)
  })
})

describe('retry', () => {
  it('retries with exponential backoff until success', async () => {
    const clock = new VirtualClock()
    const delays: number[] = []
    const attempts: number[] = []
    const result = track(
      retry(
        async (attempt) => {
          attempts.push(attempt)
          if (attempt < 4) throw new Error('flaky')
          return attempt
        },
        {retries: 5, minDelayMs: 100, factor: 2, jitter: 'none', clock, onRetry: (_e, _a, ms) => delays.push(ms)},
      ),
    )
    await clock.runUntilIdle()
    assert.equal(result.value, 4)
    assert.deepEqual(attempts, [1, 2, 3, 4])
    assert.deepEqual(delays, [100, 200, 400])
    assert.equal(clock.now(), 700)
  })

  it('full jitter keeps each delay within [0, ceiling] and caps at maxDelayMs', () => {
    const policy = new RetryPolicy({minDelayMs: 100, maxDelayMs: 1000, random: seededRandom(7)})
    for (let attempt = 1; attempt <= 10; attempt++) {
      const ceiling = Math.min(1000, 100 * 2 ** (attempt - 1))
      for (let i = 0; i < 50; i++) {
        const delay = policy.delayFor(attempt)
        assert.ok(delay >= 0 && delay <= ceiling, `attempt ${attempt}: ${delay} within [0, ${ceiling}]`)
      }
    }
  })

  it('gives up after `retries` and reports the dead letter with the attempt count', async () => {
    const clock = new VirtualClock()
    const letters: {error: unknown; attempts: number}[] = []
    const result = track(retry(fail('gone'), {retries: 2, minDelayMs: 1, clock, onDeadLetter: (l) => letters.push(l)}))
    await clock.runUntilIdle()
    assert.match((result.error as Error).message, /gone/)
    assert.equal(letters.length, 1)
    assert.equal(letters[0].attempts, 3)
  })

  it('does not retry what shouldRetry refuses, nor an open circuit (no dead letter either)', async () => {
    let calls = 0
    const letters: unknown[] = []
    await assert.rejects(
      retry(
        async () => {
          calls++
          throw new Error('bad request')
        },
        {shouldRetry: (error) => (error as Error).message !== 'bad request', onDeadLetter: (l) => letters.push(l)},
      ),
    )
    assert.equal(calls, 1)
    const breaker = new CircuitBreaker({failureThreshold: 1})
    await assert.rejects(breaker.execute(fail()))
    calls = 0
    await assert.rejects(
      retry(() => breaker.execute(async () => void calls++), {minDelayMs: 0}),
      BrokenCircuitError,
    )
    assert.equal(calls, 0)
    assert.equal(letters.length, 0)
  })

  it('an abort during backoff stops retrying', async () => {
    const clock = new VirtualClock()
    const controller = new AbortController()
    let calls = 0
    const result = track(
      retry(
        async () => {
          calls++
          throw new Error('x')
        },
        {retries: 10, minDelayMs: 1000, clock, signal: controller.signal},
      ),
    )
    await tick()
    controller.abort()
    await tick()
    assert.equal(result.status, 'rejected')
    assert.equal((result.error as {code?: string}).code, 'ABORTED')
    assert.equal(calls, 1)
  })
})

describe('SingleWriterLane', () => {
  it('runs writes one at a time, in order, on one resource, and gives it back when idle', async () => {
    const {pool} = fakePool({max: 3})
    const lane = new SingleWriterLane({pool})
    const seen: number[] = []
    let running = 0
    let peak = 0
    const writes = Array.from({length: 10}, (_, i) =>
      lane.run(async (resource) => {
        running++
        peak = Math.max(peak, running)
        seen.push(resource.id)
        await tick()
        running--
        return i
      }),
    )
    assert.deepEqual(await Promise.all(writes), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    assert.equal(peak, 1)
    assert.equal(new Set(seen).size, 1, 'all on one resource')
    assert.equal(pool.stats().used, 0, 'given back once idle')
    assert.equal(lane.stats().holdsResource, false)
    await lane.end()
    await pool.end()
  })

  it('a resource error destroys the resource; the next write gets a fresh one', async () => {
    const {pool, counters} = fakePool({max: 1})
    const lane = new SingleWriterLane({pool, isResourceError: (error) => (error as Error).message === 'connection lost'})
    await assert.rejects(lane.run(() => Promise.reject(new Error('connection lost'))))
    assert.equal(counters.destroys, 1)
    assert.equal(await lane.run((resource) => resource.id), 2)
    await lane.end()
    await pool.end()
  })

  it('rejects writes beyond maxQueueSize', async () => {
    const {pool} = fakePool({max: 1})
    const lane = new SingleWriterLane({pool, maxQueueSize: 1})
    let open!: () => void
    const first = lane.run(() => new Promise<void>((resolve) => (open = resolve)))
    await tick()
    const second = lane.run(async () => 2)
    await assert.rejects(lane.run(async () => 3), /Queue is full/)
    open()
    await first
    assert.equal(await second, 2)
    await lane.end()
    await pool.end()
  })
})

describe('RingBuffer', () => {
  it('is a FIFO across growth and wrap-around, with unshift at the front', () => {
    const ring = new RingBuffer<number>(2)
    const model: number[] = []
    const random = seededRandom(42)
    for (let i = 0; i < 10_000; i++) {
      const r = random()
      if (r < 0.5) {
        ring.push(i)
        model.push(i)
      } else if (r < 0.6) {
        ring.unshift(i)
        model.unshift(i)
      } else {
        assert.equal(ring.shift(), model.shift())
      }

      assert.equal(ring.length, model.length)
      assert.equal(ring.peek(), model[0])
    }

    assert.deepEqual(ring.drain(), model)
    assert.equal(ring.length, 0)
  })
})

describe('VirtualClock', () => {
  it('fires timers in time order, creation order on ties, and settles promises in between', async () => {
    const clock = new VirtualClock()
    const fired: string[] = []
    clock.setTimeout(() => fired.push('b@20'), 20)
    clock.setTimeout(() => {
      fired.push('a@10')
      void Promise.resolve().then(() => fired.push('a-then'))
    }, 10)
    clock.setTimeout(() => fired.push('c@20'), 20)
    const cancelled = clock.setTimeout(() => fired.push('cancelled'), 15)
    clock.clearTimeout(cancelled)
    await clock.advance(25)
    assert.deepEqual(fired, ['a@10', 'a-then', 'b@20', 'c@20'])
    assert.equal(clock.now(), 25)
    assert.equal(clock.pendingTimers, 0)
  })
})
