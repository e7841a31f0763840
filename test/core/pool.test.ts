import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {
  AbortedError,
  AcquireTimeoutError,
  BackpressureError,
  ConnectionPool,
  DoubleReleaseError,
  OptionsError,
  PoolEndedError,
  VirtualClock,
  seededRandom,
} from '../../src/core/index.js'
import {type FakeResource, fakeFactory, fakePool, tick, track} from '../support/core-fixtures.js'

describe('ConnectionPool options', () => {
  it('rejects bad values eagerly, showing the value', () => {
    const {factory} = fakeFactory()
    assert.throws(() => new ConnectionPool({factory, max: 0}), (error: Error) => {
      assert.ok(error instanceof OptionsError)
      assert.match(error.message, /`max`.*got `0` \(number\)/)
      return true
    })
    assert.throws(() => new ConnectionPool({factory, max: 2, min: 3}), /`min` \(3\) must not be greater than `max` \(2\)/)
    assert.throws(() => new ConnectionPool({factory, max: 2.5}), OptionsError)
    assert.throws(() => new ConnectionPool({factory, max: 2, acquireTimeoutMs: -1}), OptionsError)
  })

  it('rejects unknown options (a typo must not silently fall back to a default)', () => {
    const {factory} = fakeFactory()
    assert.throws(() => new ConnectionPool({factory, max: 2, acquireTimeoutMillis: 5} as never), /unknown option `acquireTimeoutMillis`/)
  })

  it('requires a factory with create and destroy', () => {
    assert.throws(() => new ConnectionPool({max: 1} as never), OptionsError)
    assert.throws(() => new ConnectionPool({max: 1, factory: {create: async () => ({})}} as never), /factory.destroy/)
  })
})

describe('ConnectionPool acquire/release', () => {
  it('never creates more than max: 20 concurrent acquirers, max 4 → exactly 4 creates', async () => {
    const {pool, counters} = fakePool({max: 4})
    let inUse = 0
    let peak = 0
    await Promise.all(
      Array.from({length: 20}, () =>
        pool.withResource(async () => {
          inUse++
          peak = Math.max(peak, inUse)
          await tick()
          inUse--
        }),
      ),
    )
    assert.equal(counters.creates, 4)
    assert.equal(peak, 4)
    assert.equal(pool.stats().size, 4)
    await pool.end()
  })

  it('a release hands the resource to the oldest waiter, in FIFO order', async () => {
    const {pool} = fakePool({max: 1})
    const first = await pool.acquire()
    const order: number[] = []
    const waiters = [1, 2, 3].map((n) => pool.acquire().then((r) => (order.push(n), r)))
    await tick()
    assert.equal(pool.stats().pending, 3)
    pool.release(first)
    const second = await waiters[0]
    assert.equal(second, first, 'the same resource is handed over directly')
    pool.release(second)
    pool.release(await waiters[1])
    pool.release(await waiters[2])
    assert.deepEqual(order, [1, 2, 3])
    assert.equal(pool.stats().idle, 1)
    await pool.end()
  })

  it('reuses idle resources (LIFO) instead of creating new ones', async () => {
    const {pool, counters} = fakePool({max: 5})
    const a = await pool.acquire()
    const b = await pool.acquire()
    pool.release(a)
    pool.release(b)
    assert.equal(await pool.acquire(), b, 'most recently used first')
    assert.equal(counters.creates, 2)
    await pool.end({timeoutMs: 0})
  })

  it('release semantics: error destroys, double release throws, unknown resource is ignored', async () => {
    const {pool, counters} = fakePool({max: 2})
    const a = await pool.acquire()
    pool.release(a)
    assert.throws(() => pool.release(a), DoubleReleaseError)
    const b = await pool.acquire()
    pool.release(b, new Error('socket hung up'))
    assert.equal(b.destroyed, true)
    assert.equal(counters.destroys, 1)
    assert.doesNotThrow(() => pool.release({id: 99, destroyed: false}))
    assert.equal(pool.stats().used, 0)
    await pool.end()
  })

  it('withResource always releases, also when the callback throws', async () => {
    const {pool} = fakePool({max: 1})
    await assert.rejects(
      pool.withResource(() => {
        throw new Error('boom')
      }),
      /boom/,
    )
    assert.equal(pool.stats().used, 0)
    assert.equal(pool.stats().idle, 1)
    assert.equal(await pool.withResource((r) => r.id), 1)
    await pool.end()
  })

  it('withResource destroys the resource when isResourceError says it is broken', async () => {
    const {pool, counters} = fakePool({max: 1, isResourceError: (error) => (error as {code?: string}).code === 'ECONNRESET'})
    await assert.rejects(pool.withResource(() => Promise.reject(Object.assign(new Error('reset'), {code: 'ECONNRESET'}))))
    assert.equal(counters.destroys, 1)
    await assert.rejects(pool.withResource(() => Promise.reject(new Error('syntax error'))))
    assert.equal(counters.destroys, 1, 'an ordinary error keeps the resource')
    await pool.end()
  })

  it('evict destroys an idle resource now and a borrowed one on release', async () => {
    const {pool} = fakePool({max: 2})
    const a = await pool.acquire()
    const b = await pool.acquire()
    pool.release(a)
    pool.evict(a)
    assert.equal(a.destroyed, true)
    pool.evict(b)
    assert.equal(b.destroyed, false, 'never pulled from under its borrower')
    pool.release(b)
    assert.equal(b.destroyed, true)
    assert.equal(pool.stats().size, 0)
    await pool.end()
  })

  it('rejects at once with BackpressureError when maxWaiters are already waiting', async () => {
    const {pool} = fakePool({max: 1, maxWaiters: 2})
    const held = await pool.acquire()
    const waiting = [track(pool.acquire()), track(pool.acquire())]
    await assert.rejects(pool.acquire(), BackpressureError)
    pool.release(held)
    await tick()
    assert.deepEqual(
      waiting.map((w) => w.status),
      ['fulfilled', 'pending'],
    )
    pool.release(waiting[0].value!)
    await tick()
    pool.release(waiting[1].value!)
    await pool.end()
  })

  it('an aborted acquire leaves the queue and rejects with AbortedError', async () => {
    const {pool} = fakePool({max: 1})
    const held = await pool.acquire()
    const controller = new AbortController()
    const aborted = pool.acquire(controller.signal)
    const next = pool.acquire()
    controller.abort()
    await assert.rejects(aborted, AbortedError)
    assert.equal(pool.stats().pending, 1)
    pool.release(held)
    assert.equal(await next, held, 'the aborted waiter was skipped')
    pool.release(held)
    await pool.end()
  })
})

describe('ConnectionPool deadlines', () => {
  it('acquire fails at its deadline with AcquireTimeoutError naming the pool state', async () => {
    const clock = new VirtualClock()
    const {pool} = fakePool({max: 1, acquireTimeoutMs: 1000, clock})
    const held = await pool.acquire()
    const waiting = track(pool.acquire())
    await clock.advance(998)
    assert.equal(waiting.status, 'pending')
    await clock.advance(2)
    assert.equal(waiting.status, 'rejected')
    assert.ok(waiting.error instanceof AcquireTimeoutError)
    assert.match((waiting.error as Error).message, /after 1000ms \(pool: 1 used, 0 idle, 0 creating, 0 waiting, max 1/)
    assert.equal(pool.stats().timeouts, 1)
    pool.release(held)
    await pool.end()
  })

  it('regression: a resource released while its waiter is timing out goes to the next waiter, never lost', async () => {
    // tarn.js-style drain: a hand-off racing a timeout must not lose the resource.
    const clock = new VirtualClock()
    const {pool, counters} = fakePool({max: 1, acquireTimeoutMs: 100, clock})
    const held = await pool.acquire()
    const timingOut = track(pool.acquire())
    await clock.advance(50)
    const next = track(pool.acquire())
    // Same instant as the first waiter's deadline: the timeout fires first, then the release.
    clock.setTimeout(() => pool.release(held), 50)
    await clock.advance(50)
    assert.equal(timingOut.status, 'rejected')
    assert.equal(next.status, 'fulfilled')
    assert.equal(next.value, held)
    pool.release(held)
    // After many timeouts the pool still serves: it did not drain to zero.
    for (let i = 0; i < 20; i++) {
      const blocker = await pool.acquire()
      const lost = track(pool.acquire())
      await clock.advance(100)
      assert.equal(lost.status, 'rejected')
      pool.release(blocker)
    }

    const stats = pool.stats()
    assert.equal(stats.idle + stats.used, stats.size)
    assert.equal(stats.size, 1)
    assert.equal(counters.creates, 1)
    const again = await pool.acquire()
    assert.equal(again.id, held.id)
    pool.release(again)
    await pool.end()
  })

  it('the deadline covers create retries: the timeout carries the last create error as its cause', async () => {
    const clock = new VirtualClock()
    const {pool, counters} = fakePool(
      {max: 1, acquireTimeoutMs: 500, createRetries: 100, createRetryDelayMs: 50, createRetryMaxDelayMs: 50, clock, random: () => 1},
      {failFirst: Infinity},
    )
    const waiting = track(pool.acquire())
    await clock.advance(500)
    assert.equal(waiting.status, 'rejected')
    assert.ok(waiting.error instanceof AcquireTimeoutError)
    assert.match((waiting.error as Error).message, /last error: connect ECONNREFUSED/)
    assert.equal(((waiting.error as Error).cause as {code: string}).code, 'ECONNREFUSED')
    assert.ok(counters.creates >= 9, `retried with backoff (${counters.creates} creates)`)
    await pool.end()
  })

  it('a create that fails with retries spent and nothing alive rejects every waiter at once', async () => {
    const clock = new VirtualClock()
    const {pool} = fakePool({max: 2, acquireTimeoutMs: 10_000, createRetries: 0, clock}, {failFirst: Infinity})
    const waiters = [track(pool.acquire()), track(pool.acquire()), track(pool.acquire())]
    await clock.advance(0)
    await tick()
    for (const waiter of waiters) {
      assert.equal(waiter.status, 'rejected')
      assert.equal((waiter.error as {code: string}).code, 'ECONNREFUSED')
    }

    assert.equal(clock.now(), 0, 'well before the 10 s deadline')
    await pool.end()
  })

  it('create fails, then recovers: the pool serves again', async () => {
    const clock = new VirtualClock()
    const {pool, counters} = fakePool({max: 2, createRetries: 0, clock}, {failFirst: 3})
    for (let i = 0; i < 3; i++) await assert.rejects(pool.acquire(), /ECONNREFUSED/)
    const resource = await pool.acquire()
    assert.equal(resource.id, 1)
    assert.equal(counters.createFailures, 3)
    assert.equal(pool.stats().createErrors, 3)
    pool.release(resource)
    await pool.end()
  })

  it('retries a failed create with backoff and succeeds within the deadline', async () => {
    const clock = new VirtualClock()
    const {pool, counters} = fakePool({max: 1, createRetries: 2, createRetryDelayMs: 100, clock, random: () => 1}, {failFirst: 2})
    const waiting = track(pool.acquire())
    await clock.advance(99)
    assert.equal(counters.creates, 1)
    await clock.advance(1)
    assert.equal(counters.creates, 2, 'first retry after 100 ms')
    await clock.advance(199)
    assert.equal(counters.creates, 2)
    await clock.advance(1)
    assert.equal(counters.creates, 3, 'second retry 200 ms later (doubled)')
    assert.equal(waiting.status, 'fulfilled')
    pool.release(waiting.value!)
    await pool.end()
  })

  it('a create that runs out of time does not fail a later waiter early: each waiter keeps its own deadline', async () => {
    const clock = new VirtualClock()
    const {pool} = fakePool({max: 1, acquireTimeoutMs: 100, createRetries: 0, clock}, {createDelayMs: 1000})
    const first = track(pool.acquire())
    await clock.advance(90)
    const second = track(pool.acquire())
    await clock.advance(10) // the first waiter's deadline and its create's deadline
    assert.ok(first.error instanceof AcquireTimeoutError)
    assert.equal(second.status, 'pending', 'the timed-out create said nothing about the second waiter')
    await clock.advance(90)
    assert.ok(second.error instanceof AcquireTimeoutError, 'rejected at its own deadline')
    await clock.advance(2000)
    await pool.end()
  })

  it('a create that completes after its deadline is destroyed, never pooled', async () => {
    const clock = new VirtualClock()
    const {pool, counters} = fakePool({max: 1, acquireTimeoutMs: 100, createTimeoutMs: 100, clock}, {createDelayMs: 300})
    const waiting = track(pool.acquire())
    await clock.advance(100)
    assert.equal(waiting.status, 'rejected')
    await clock.advance(200)
    assert.equal(counters.creates, 1)
    assert.equal(counters.destroys, 1, 'the late resource was closed')
    assert.equal(counters.live.size, 0)
    assert.equal(pool.stats().size, 0)
    await pool.end()
  })
})

describe('ConnectionPool validation', () => {
  it('a resource that fails validation is destroyed and another is handed out', async () => {
    let bad = true
    const {pool, counters} = fakePool({max: 2}, {validate: () => !bad})
    const a = await pool.acquire()
    pool.release(a)
    const b = pool.acquire()
    bad = false
    // validate() ran inside acquire(), while `a` was still bad.
    const got = await b
    assert.notEqual(got, a)
    assert.equal(a.destroyed, true)
    assert.equal(counters.creates, 2)
    assert.equal(pool.stats().validationFailures, 1)
    pool.release(got)
    await pool.end()
  })

  it('validationBypassMs: a resource used within the window skips validation, an older one is validated', async () => {
    const clock = new VirtualClock()
    let validations = 0
    const {pool} = fakePool({max: 1, validationBypassMs: 500, clock}, {validate: () => (validations++, true)})
    const r = await pool.acquire()
    pool.release(r)
    await clock.advance(499)
    pool.release(await pool.acquire())
    assert.equal(validations, 0)
    await clock.advance(500)
    pool.release(await pool.acquire())
    assert.equal(validations, 1)
    await pool.end()
  })

  it('a validation that hangs still fails the acquire at its deadline, and its signal is aborted', async () => {
    const clock = new VirtualClock()
    let seen: AbortSignal | undefined
    const {pool} = fakePool(
      {max: 1, acquireTimeoutMs: 200, clock},
      {
        validate: (_r, signal) => {
          seen = signal
          return new Promise(() => {})
        },
      },
    )
    const first = await pool.acquire() // created fresh: no validation
    pool.release(first)
    const waiting = track(pool.acquire())
    await clock.advance(200)
    assert.equal(waiting.status, 'rejected')
    assert.ok(waiting.error instanceof AcquireTimeoutError)
    assert.equal(seen?.aborted, true)
    const ended = pool.end({timeoutMs: 0})
    await clock.advance(0)
    await ended
  })

  it('regression (tarn PR #67): an acquire that times out during validation returns the resource; used goes back to 0', async () => {
    // With tarn's bug the aborted acquire's resource stayed "used" forever and the pool drained.
    const clock = new VirtualClock()
    let validations = 0
    const {pool} = fakePool(
      {max: 1, acquireTimeoutMs: 100, clock},
      // The first validation outlasts the 100 ms deadline; later ones are quick.
      {validate: () => new Promise<boolean>((resolve) => clock.setTimeout(() => resolve(true), validations++ === 0 ? 150 : 10))},
    )
    const first = await pool.acquire()
    pool.release(first)
    const waiting = track(pool.acquire())
    await clock.advance(100)
    assert.equal(waiting.status, 'rejected')
    await clock.advance(50)
    const stats = pool.stats()
    assert.equal(stats.used, 0)
    assert.equal(stats.validating, 0)
    assert.equal(stats.idle, 1, 'the validated resource is back in the pool, not lost')
    const again = track(pool.acquire())
    await clock.advance(10)
    assert.equal(again.value, first)
    pool.release(first)
    await pool.end()
  })
})

describe('ConnectionPool housekeeping', () => {
  it('idle resources above min are destroyed after idleTimeoutMs; min is kept', async () => {
    const clock = new VirtualClock()
    const {pool} = fakePool({max: 5, min: 1, idleTimeoutMs: 1000, reapIntervalMs: 100, clock})
    const held = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()])
    for (const r of held) pool.release(r)
    assert.equal(pool.stats().idle, 3)
    await clock.advance(1200)
    assert.equal(pool.stats().size, 1)
    await pool.end()
  })

  it('min resources are created up front and refilled after destroy', async () => {
    const clock = new VirtualClock()
    const {pool, counters} = fakePool({max: 5, min: 2, clock})
    await tick()
    assert.equal(pool.stats().idle, 2)
    const r = await pool.acquire()
    pool.release(r, new Error('broken'))
    await tick()
    assert.equal(pool.stats().size, 2)
    assert.equal(counters.creates, 3)
    await pool.end()
  })

  it('maxLifetimeMs retires idle resources with variation; a borrowed one is never killed', async () => {
    const clock = new VirtualClock()
    const {pool} = fakePool({max: 3, maxLifetimeMs: 1000, lifetimeVariance: 0.1, reapIntervalMs: 50, idleTimeoutMs: 0, clock, random: seededRandom(1)})
    const [a, b] = await Promise.all([pool.acquire(), pool.acquire()])
    pool.release(a)
    await clock.advance(1100)
    assert.equal(a.destroyed, true)
    assert.equal(b.destroyed, false, 'in use: not killed')
    pool.release(b)
    assert.equal(b.destroyed, true, 'retired when it came back past its lifetime')
    await pool.end()
  })

  it('reports a leak once per borrow when held past leakDetectionMs', async () => {
    const clock = new VirtualClock()
    const leaks: number[] = []
    const {pool} = fakePool({
      max: 1,
      leakDetectionMs: 500,
      reapIntervalMs: 100,
      clock,
      onLeak: (report) => leaks.push(report.heldMs),
    })
    const held = await pool.acquire()
    await clock.advance(450)
    assert.equal(leaks.length, 0)
    await clock.advance(200)
    assert.equal(leaks.length, 1)
    assert.ok(leaks[0] >= 500)
    await clock.advance(1000)
    assert.equal(leaks.length, 1, 'reported once')
    pool.release(held)
    await pool.end()
  })
})

describe('ConnectionPool end()', () => {
  it('waits for borrowed resources, rejects waiters, destroys all; created === destroyed', async () => {
    const {pool, counters} = fakePool({max: 2})
    const a = await pool.acquire()
    const b = await pool.acquire()
    const waiter = track(pool.acquire())
    const ended = track(pool.end())
    await tick()
    assert.ok(waiter.error instanceof PoolEndedError)
    assert.equal(ended.status, 'pending', 'still waits for the borrowed resources')
    pool.release(a)
    await tick()
    assert.equal(ended.status, 'pending')
    pool.release(b)
    await tick()
    assert.equal(ended.status, 'fulfilled')
    const stats = pool.stats()
    assert.equal(stats.created, stats.destroyed)
    assert.equal(counters.live.size, 0)
  })

  it('is safe to call twice (same promise), and acquire after end rejects at once', async () => {
    const {pool} = fakePool({max: 1})
    pool.release(await pool.acquire())
    const first = pool.end()
    assert.equal(pool.end(), first)
    await first
    await assert.rejects(pool.acquire(), PoolEndedError)
  })

  it('end({timeoutMs}) destroys resources whose borrowers never come back', async () => {
    const clock = new VirtualClock()
    const {pool, counters} = fakePool({max: 1, clock})
    const lost = await pool.acquire()
    const ended = track(pool.end({timeoutMs: 1000}))
    await clock.advance(1000)
    assert.equal(ended.status, 'fulfilled')
    assert.equal(lost.destroyed, true)
    assert.equal(counters.live.size, 0)
    assert.doesNotThrow(() => pool.release(lost), 'a late release is ignored')
  })

  it('waits for pending creates and destroys what they produce', async () => {
    const clock = new VirtualClock()
    const {pool, counters} = fakePool({max: 1, clock}, {createDelayMs: 100})
    const waiting = track(pool.acquire())
    const ended = track(pool.end())
    await clock.advance(50)
    assert.equal(ended.status, 'pending')
    await clock.advance(50)
    assert.equal(ended.status, 'fulfilled')
    assert.ok(waiting.error instanceof PoolEndedError)
    assert.equal(counters.live.size, 0)
  })
})

describe('ConnectionPool stats', () => {
  it('counts what happened', async () => {
    const {pool} = fakePool({max: 2})
    const a = await pool.acquire()
    const b = await pool.acquire()
    const pending = pool.acquire()
    let stats = pool.stats()
    assert.deepEqual(
      {size: stats.size, used: stats.used, idle: stats.idle, pending: stats.pending, created: stats.created, acquired: stats.acquired},
      {size: 2, used: 2, idle: 0, pending: 1, created: 2, acquired: 2},
    )
    pool.release(a)
    pool.release(await pending)
    pool.release(b)
    stats = pool.stats()
    assert.equal(stats.acquired, 3)
    assert.equal(stats.idle, 2)
    await pool.end()
    assert.equal(pool.stats().destroyed, 2)
  })
})

export type {FakeResource}
