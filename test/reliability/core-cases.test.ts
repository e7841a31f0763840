/**
 * The named cases of shared/reference/reliability-cases.md that are about the core's own logic, run
 * on the virtual clock (no sleeping). Titles start with the case name (and the known bug they guard).
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {
  AcquireTimeoutError,
  BackpressureError,
  BrokenCircuitError,
  CircuitBreaker,
  PoolEndedError,
  QueueBroker,
  VirtualClock,
  seededRandom,
} from '../../src/core/index.js'
import {type FakeResource, fakePool, tick, track} from '../support/core-fixtures.js'

describe('reliability: core cases on the virtual clock', () => {
  it('lifetime_and_leak: rotation at maxLifetime with variation, in-use never killed, leak warning at the threshold', async () => {
    const clock = new VirtualClock()
    const retiredAt = new Map<number, number>()
    const leaks: number[] = []
    const {pool} = fakePool({
      max: 10,
      maxLifetimeMs: 10_000,
      lifetimeVariance: 0.025,
      idleTimeoutMs: 0,
      reapIntervalMs: 10,
      leakDetectionMs: 2000,
      onLeak: (report) => leaks.push((report.resource as FakeResource).id),
      clock,
      random: seededRandom(3),
    })
    const all = await Promise.all(Array.from({length: 10}, () => pool.acquire()))
    const borrowed = all[0]
    for (const r of all.slice(1)) pool.release(r)
    await clock.advance(2000)
    assert.deepEqual(leaks, [borrowed.id], 'the leak is reported at the threshold, once')
    for (let t = 0; t < 12_000; t += 10) {
      await clock.advance(10)
      for (const r of all) if (r.destroyed && !retiredAt.has(r.id)) retiredAt.set(r.id, clock.now())
    }

    assert.equal(borrowed.destroyed, false, 'in use: never killed for age')
    const times = [...retiredAt.values()]
    assert.equal(times.length, 9)
    assert.ok(times.every((t) => t >= 10_000 * 0.975 && t <= 10_000 + 10), `retired within the variation window: ${times}`)
    assert.ok(new Set(times).size > 1, 'not all at the same instant')
    pool.release(borrowed)
    assert.equal(borrowed.destroyed, true, 'retired once it came back past its lifetime')
    await pool.end()
  })

  it('aborted_acquire_during_validation (regression: tarn.js PR #67): the resource is returned and used goes back to 0', async () => {
    // With tarn's bug the acquire aborted mid-validation still resolved; the resource stayed "used"
    // forever and after `max` such timeouts the pool served nobody. Here the pool keeps serving.
    const clock = new VirtualClock()
    let slow = true
    const {pool} = fakePool(
      {max: 1, acquireTimeoutMs: 100, clock},
      {validate: () => new Promise<boolean>((resolve) => clock.setTimeout(() => resolve(true), slow ? 150 : 1))},
    )
    pool.release(await pool.acquire())
    for (let i = 0; i < 5; i++) {
      const aborted = track(pool.acquire())
      await clock.advance(150)
      assert.ok(aborted.error instanceof AcquireTimeoutError)
      assert.equal(pool.stats().used, 0)
      assert.equal(pool.stats().idle, 1)
    }

    slow = false
    const served = track(pool.acquire())
    await clock.advance(1)
    assert.equal(served.status, 'fulfilled')
    pool.release(served.value!)
    await pool.end()
  })

  it('queue_backpressure_breaker: a full queue rejects at once with a typed error; the breaker opens after N failures and lets one probe through when half-open', async () => {
    const clock = new VirtualClock()
    const broker = new QueueBroker({maxActiveTasks: 1, maxQueueSize: 1, clock})
    const blocker = broker.enqueue(() => new Promise<void>((resolve) => clock.setTimeout(resolve, 100)))
    const queued = broker.enqueue(async () => 'queued')
    const started = clock.now()
    await assert.rejects(broker.enqueue(async () => 'x'), (error: unknown) => error instanceof BackpressureError && error.code === 'QUEUE_FULL')
    assert.equal(clock.now(), started, 'at once, not after a wait')
    await clock.advance(100)
    await blocker
    assert.equal(await queued, 'queued')

    const breaker = new CircuitBreaker({failureThreshold: 3, resetTimeoutMs: 1000, halfOpenMaxProbes: 1, clock})
    const down = () => Promise.reject(new Error('dependency down'))
    for (let i = 0; i < 3; i++) await assert.rejects(breaker.execute(down))
    assert.equal(breaker.state, 'open')
    await assert.rejects(breaker.execute(async () => 'x'), BrokenCircuitError)
    await clock.advance(1000)
    let release!: () => void
    const probe = breaker.execute(() => new Promise<string>((resolve) => (release = () => resolve('probe'))))
    await assert.rejects(breaker.execute(async () => 'second'), BrokenCircuitError, 'only one probe while half-open')
    release()
    assert.equal(await probe, 'probe')
    assert.equal(breaker.state, 'closed')
  })

  it('end_semantics (regression: tarn.js #81): acquire after end() rejects at once instead of waiting out the timeout', async () => {
    // With tarn #81, acquire() after destroy() waited the full acquireTimeoutMillis before failing.
    const clock = new VirtualClock()
    const {pool} = fakePool({max: 1, acquireTimeoutMs: 30_000, clock})
    pool.release(await pool.acquire())
    await pool.end()
    const late = track(pool.acquire())
    await tick()
    assert.ok(late.error instanceof PoolEndedError)
    assert.equal(clock.now(), 0, 'no virtual time passed')
  })
})
