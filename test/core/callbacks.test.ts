import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {
  AbortedError,
  AcquireTimeoutError,
  BackpressureError,
  BrokenCircuitError,
  CircuitBreaker,
  ConnectionPool,
  type CircuitState,
  DoubleReleaseError,
  OptionsError,
  PoolEndedError,
  QueueBroker,
  QueueEndedError,
  TaskTimeoutError,
  type TaskContext,
  VirtualClock,
} from '../../src/core/index.js'
import {Trampoline} from '../../src/core/trampoline.js'
import {type FakeResource, fakePool, tick, track} from '../support/core-fixtures.js'

/** Records every call of a (error, value) callback. */
function recorder<V>() {
  const calls: {error: unknown; value: V | undefined}[] = []
  const callback = (error: unknown, value: V | undefined): void => {
    calls.push({error, value})
  }

  return {calls, callback}
}

type Done<R = unknown> = (error?: unknown, value?: R) => void

/**
 * Call `start(0, callback)`; each successful outcome (value i) starts call i + 1 from inside its
 * callback, `count` in all. Returns how many finished synchronously and the deepest callback nesting.
 */
function chainOfCalls(count: number, start: (i: number, callback: (error: unknown, value: number | undefined) => void) => void) {
  let finished = 0
  let depth = 0
  let maxDepth = 0
  const next = (i: number): void => {
    start(i, (error, value) => {
      depth++
      maxDepth = Math.max(maxDepth, depth)
      assert.equal(error, undefined)
      assert.equal(value, i)
      finished++
      if (i + 1 < count) next(i + 1)
      depth--
    })
  }

  next(0)
  return {finished, maxDepth}
}

// ---- Trampoline ---------------------------------------------------------------------------------

describe('Trampoline', () => {
  it('delivers at once, synchronously, with the given error and value, when nothing is running', () => {
    const trampoline = new Trampoline()
    const {calls, callback} = recorder<number>()
    const failure = new Error('x')
    trampoline.deliver(callback, undefined, 7)
    assert.deepEqual(calls, [{error: undefined, value: 7}])
    trampoline.deliver(callback, failure, undefined)
    assert.equal(calls.length, 2)
    assert.equal(calls[1].error, failure)
    assert.equal(calls[1].value, undefined)
  })

  it('a delivery made during another is queued and made after it returns, in FIFO order', () => {
    const trampoline = new Trampoline()
    const log: string[] = []
    const leaf = (name: string) => (error: unknown, value: unknown) => log.push(`${name}:${String(error)}:${String(value)}`)
    trampoline.deliver(
      () => {
        log.push('outer start')
        trampoline.deliver(leaf('b'), 'eb', 1)
        trampoline.deliver(
          () => {
            log.push('c start')
            trampoline.deliver(leaf('e'), undefined, 3)
            log.push('c end')
          },
          undefined,
          undefined,
        )
        trampoline.deliver(leaf('d'), undefined, 2)
        log.push('outer end')
      },
      undefined,
      undefined,
    )
    assert.deepEqual(log, ['outer start', 'outer end', 'b:eb:1', 'c start', 'c end', 'd:undefined:2', 'e:undefined:3'])
  })

  it('flattens recursion: 100,000 deliveries that each trigger the next never nest', () => {
    const trampoline = new Trampoline()
    let depth = 0
    let maxDepth = 0
    let delivered = 0
    const step = (_error: unknown, n: number | undefined): void => {
      depth++
      maxDepth = Math.max(maxDepth, depth)
      delivered++
      if (n! < 100_000) trampoline.deliver(step, undefined, n! + 1)
      depth--
    }

    trampoline.deliver(step, undefined, 1)
    assert.equal(delivered, 100_000)
    assert.equal(maxDepth, 1)
  })

  it('a callback that throws: what was queued is still delivered, in order, then the first error reaches the caller', () => {
    const trampoline = new Trampoline()
    const log: string[] = []
    assert.throws(
      () =>
        trampoline.deliver(
          () => {
            trampoline.deliver(() => log.push('queued 1'), undefined, undefined)
            trampoline.deliver(() => {
              log.push('queued 2')
              throw new Error('second')
            }, undefined, undefined)
            trampoline.deliver(() => log.push('queued 3'), undefined, undefined)
            throw new Error('boom')
          },
          undefined,
          undefined,
        ),
      /boom/,
    )
    assert.deepEqual(log, ['queued 1', 'queued 2', 'queued 3'])
    trampoline.deliver(() => log.push('next'), undefined, undefined)
    assert.deepEqual(log, ['queued 1', 'queued 2', 'queued 3', 'next'], 'usable again, nothing delivered twice')
  })

  it('before() runs first; deliveries it causes come after this one', () => {
    const trampoline = new Trampoline()
    const log: string[] = []
    trampoline.deliver(
      () => log.push('outcome A'),
      undefined,
      undefined,
      () => {
        log.push('refill')
        trampoline.deliver(() => log.push('outcome B'), undefined, undefined)
      },
    )
    assert.deepEqual(log, ['refill', 'outcome A', 'outcome B'])
  })
})

// ---- VirtualClock needsSettle -------------------------------------------------------------------

describe('VirtualClock needsSettle', () => {
  it('default: promise chains started by one timer settle before the next timer fires', async () => {
    const clock = new VirtualClock()
    const log: string[] = []
    clock.setTimeout(() => {
      log.push('t1')
      void Promise.resolve().then(() => log.push('micro after t1'))
    }, 1)
    clock.setTimeout(() => log.push('t2'), 2)
    await clock.advance(5)
    assert.deepEqual(log, ['t1', 'micro after t1', 't2'])
    assert.equal(clock.now(), 5)
  })

  it('false: the next timer fires at once, without afterSettled; asked once after each timer', async () => {
    let settles = 0
    let asked = 0
    const clock = new VirtualClock(0, {
      afterSettled: (next) => {
        settles++
        setImmediate(next)
      },
      needsSettle: () => {
        asked++
        return false
      },
    })
    const log: string[] = []
    clock.setTimeout(() => {
      log.push(`t1@${clock.now()}`)
      void Promise.resolve().then(() => log.push('micro after t1'))
    }, 1)
    clock.setTimeout(() => log.push(`t2@${clock.now()}`), 2)
    clock.setTimeout(() => log.push(`t3@${clock.now()}`), 2)
    await clock.advance(10)
    assert.deepEqual(log, ['t1@1', 't2@2', 't3@2', 'micro after t1'])
    assert.equal(asked, 3, 'needsSettle is asked after each of the 3 timers')
    assert.equal(settles, 1, 'only the initial afterSettled, none between timers')
    assert.equal(clock.now(), 10)
  })

  it('true after some timers only: afterSettled runs exactly after those', async () => {
    let settles = 0
    const answers = [false, true, false]
    const clock = new VirtualClock(0, {
      afterSettled: (next) => {
        settles++
        setImmediate(next)
      },
      needsSettle: () => answers.shift() ?? true,
    })
    const log: string[] = []
    for (const at of [1, 2, 3]) {
      clock.setTimeout(() => {
        log.push(`t${at}`)
        void Promise.resolve().then(() => log.push(`m${at}`))
      }, at)
    }

    await clock.advance(3)
    // after t1: no settle (t2 at once); after t2: settle (m1, m2 run); after t3: no settle needed, loop ends.
    assert.deepEqual(log, ['t1', 't2', 'm1', 'm2', 't3', 'm3'])
    assert.equal(settles, 2)
  })

  it('runUntilIdle with needsSettle false fires every timer, including ones scheduled by timers', async () => {
    const clock = new VirtualClock(0, {needsSettle: () => false})
    const fired: number[] = []
    const chain = (n: number): void => {
      fired.push(clock.now())
      if (n < 5) clock.setTimeout(() => chain(n + 1), 10)
    }

    clock.setTimeout(() => chain(1), 10)
    await clock.runUntilIdle()
    assert.deepEqual(fired, [10, 20, 30, 40, 50])
    assert.equal(clock.pendingTimers, 0)
  })
})

// ---- ConnectionPool -----------------------------------------------------------------------------

describe('ConnectionPool.acquireCallback', () => {
  it('an idle resource is delivered synchronously, before acquireCallback returns', async () => {
    const {pool} = fakePool({max: 2})
    const first = await pool.acquire()
    pool.release(first)
    const {calls, callback} = recorder<FakeResource>()
    pool.acquireCallback(callback)
    assert.equal(calls.length, 1, 'called before returning')
    assert.equal(calls[0].error, undefined)
    assert.equal(calls[0].value, first, 'the idle resource')
    assert.equal(pool.stats().used, 1)
    assert.equal(pool.stats().idle, 0)
    pool.release(first)
    await pool.end()
  })

  it('with nothing idle it waits and gets the newly created resource', async () => {
    const {pool, counters} = fakePool({max: 1})
    const {calls, callback} = recorder<FakeResource>()
    pool.acquireCallback(callback)
    assert.equal(calls.length, 0)
    assert.equal(pool.stats().pending, 1)
    await tick()
    assert.equal(calls.length, 1)
    assert.equal(calls[0].error, undefined)
    assert.deepEqual(calls[0].value, {id: 1, destroyed: false})
    assert.equal(counters.creates, 1)
    pool.release(calls[0].value!)
    await pool.end()
  })

  it('an ended pool: PoolEndedError synchronously', async () => {
    const {pool} = fakePool({max: 1})
    void pool.end()
    const {calls, callback} = recorder<FakeResource>()
    pool.acquireCallback(callback)
    assert.equal(calls.length, 1)
    assert.ok(calls[0].error instanceof PoolEndedError)
    assert.equal(calls[0].value, undefined)
  })

  it('an already aborted signal: AbortedError synchronously, with the reason as cause; nothing queued', async () => {
    const {pool} = fakePool({max: 1})
    const reason = new Error('caller gave up')
    const {calls, callback} = recorder<FakeResource>()
    pool.acquireCallback(callback, AbortSignal.abort(reason))
    assert.equal(calls.length, 1)
    assert.ok(calls[0].error instanceof AbortedError)
    assert.equal((calls[0].error as AbortedError).cause, reason)
    assert.equal(pool.stats().pending, 0)
    await pool.end()
  })

  it('maxWaiters reached: BackpressureError synchronously; the waiter already queued is unaffected', async () => {
    const {pool} = fakePool({max: 1, maxWaiters: 1})
    const held = await pool.acquire()
    const waiting = recorder<FakeResource>()
    pool.acquireCallback(waiting.callback)
    assert.equal(waiting.calls.length, 0)
    const refused = recorder<FakeResource>()
    pool.acquireCallback(refused.callback)
    assert.equal(refused.calls.length, 1)
    assert.ok(refused.calls[0].error instanceof BackpressureError)
    assert.equal(pool.stats().pending, 1)
    pool.release(held)
    assert.equal(waiting.calls.length, 1, 'release hands over synchronously')
    assert.equal(waiting.calls[0].value, held)
    pool.release(held)
    await pool.end()
  })

  it('regression: promise and callback acquires mixed are served in FIFO order', async () => {
    const {pool} = fakePool({max: 1})
    const held = await pool.acquire()
    const order: string[] = []
    const promises: Promise<void>[] = []
    for (let i = 0; i < 10; i++) {
      if (i % 3 === 0) {
        promises.push(
          pool.acquire().then((resource) => {
            order.push(`p${i}`)
            pool.release(resource)
          }),
        )
      } else {
        pool.acquireCallback((error, resource) => {
          assert.equal(error, undefined)
          order.push(`c${i}`)
          pool.release(resource!)
        })
      }
    }

    assert.equal(pool.stats().pending, 10)
    pool.release(held)
    await Promise.all(promises)
    await tick()
    assert.deepEqual(order, ['p0', 'c1', 'c2', 'p3', 'c4', 'c5', 'p6', 'c7', 'c8', 'p9'])
    assert.equal(pool.stats().pending, 0)
    assert.equal(pool.stats().used, 0)
    assert.equal(pool.stats().acquired, 11)
    await pool.end()
  })

  it('a waiting callback acquire gets AcquireTimeoutError at its deadline, not before', async () => {
    const clock = new VirtualClock()
    const {pool} = fakePool({max: 1, acquireTimeoutMs: 100, clock})
    const held = await pool.acquire()
    const {calls, callback} = recorder<FakeResource>()
    pool.acquireCallback(callback)
    await clock.advance(99)
    assert.equal(calls.length, 0)
    await clock.advance(1)
    assert.equal(calls.length, 1)
    assert.ok(calls[0].error instanceof AcquireTimeoutError)
    assert.equal(calls[0].value, undefined)
    assert.equal(pool.stats().timeouts, 1)
    assert.equal(pool.stats().pending, 0)
    pool.release(held)
    assert.equal(pool.stats().idle, 1, 'the timed-out waiter is not handed the released resource')
    assert.equal(calls.length, 1)
    await pool.end()
  })

  it('a waiting callback acquire gets AbortedError when its signal aborts; the resource goes to the next waiter', async () => {
    const {pool} = fakePool({max: 1})
    const held = await pool.acquire()
    const controller = new AbortController()
    const aborted = recorder<FakeResource>()
    const next = recorder<FakeResource>()
    pool.acquireCallback(aborted.callback, controller.signal)
    pool.acquireCallback(next.callback)
    assert.equal(pool.stats().pending, 2)
    controller.abort('stop')
    assert.equal(aborted.calls.length, 1, 'delivered synchronously on abort')
    assert.ok(aborted.calls[0].error instanceof AbortedError)
    assert.equal((aborted.calls[0].error as AbortedError).cause, 'stop')
    assert.equal(pool.stats().pending, 1)
    pool.release(held)
    assert.equal(aborted.calls.length, 1)
    assert.equal(next.calls.length, 1)
    assert.equal(next.calls[0].value, held)
    pool.release(held)
    await pool.end()
  })

  it('end() fails every waiting callback acquire with PoolEndedError', async () => {
    const {pool} = fakePool({max: 1})
    const held = await pool.acquire()
    const waiters = [recorder<FakeResource>(), recorder<FakeResource>()]
    for (const waiter of waiters) pool.acquireCallback(waiter.callback)
    const ended = pool.end()
    for (const waiter of waiters) {
      assert.equal(waiter.calls.length, 1)
      assert.ok(waiter.calls[0].error instanceof PoolEndedError)
    }

    assert.equal(pool.stats().pending, 0)
    pool.release(held)
    await ended
    assert.equal(held.destroyed, true)
  })
})

describe('ConnectionPool.withResourceCallback', () => {
  it('passes the value on, and releases the resource before the callback runs', async () => {
    const {pool} = fakePool({max: 1})
    let given: FakeResource | undefined
    let statsInCallback: {used: number; idle: number} | undefined
    let reacquired: FakeResource | undefined
    const {calls, callback} = recorder<string>()
    pool.withResourceCallback<string>(
      (resource, done) => {
        given = resource
        assert.equal(pool.stats().used, 1)
        done(undefined, `value from ${resource.id}`)
      },
      (error, value) => {
        const {used, idle} = pool.stats()
        statsInCallback = {used, idle}
        pool.acquireCallback((_e, resource) => (reacquired = resource))
        callback(error, value)
      },
    )
    await tick()
    assert.deepEqual(calls, [{error: undefined, value: 'value from 1'}])
    assert.deepEqual(statsInCallback, {used: 0, idle: 1})
    assert.equal(reacquired, given, 'the released resource is free for the callback')
    pool.release(reacquired!)
    await pool.end()
  })

  it('an error for which isResourceError is true destroys the resource; the callback gets the error', async () => {
    const seen: [unknown, FakeResource][] = []
    const {pool, counters} = fakePool({
      max: 1,
      isResourceError: (error, resource) => {
        seen.push([error, resource])
        return (error as Error).message === 'socket closed'
      },
    })
    const broken = new Error('socket closed')
    const {calls, callback} = recorder<unknown>()
    let used: FakeResource | undefined
    pool.withResourceCallback<unknown>(
      (resource, done) => {
        used = resource
        done(broken)
      },
      (error, value) => {
        assert.equal(pool.stats().size, 0, 'destroyed before the callback runs')
        callback(error, value)
      },
    )
    await tick()
    assert.equal(calls.length, 1)
    assert.equal(calls[0].error, broken)
    assert.deepEqual(seen, [[broken, used]])
    assert.equal(used!.destroyed, true)
    assert.equal(counters.destroys, 1)
    assert.equal(pool.stats().used, 0)
    await pool.end()
  })

  it('an error for which isResourceError is false keeps the resource', async () => {
    const {pool, counters} = fakePool({max: 1, isResourceError: () => false})
    const failure = new Error('unique violation')
    const {calls, callback} = recorder<never>()
    pool.withResourceCallback((_resource, done) => done(failure), callback)
    await tick()
    assert.equal(calls.length, 1)
    assert.equal(calls[0].error, failure)
    assert.equal(counters.destroys, 0)
    assert.deepEqual({idle: pool.stats().idle, used: pool.stats().used}, {idle: 1, used: 0})
    await pool.end()
  })

  it('a throw in fn is a failure: the callback gets the thrown error, the resource is released', async () => {
    const {pool, counters} = fakePool({max: 1})
    const thrown = new Error('fn threw')
    const {calls, callback} = recorder<never>()
    pool.withResourceCallback(() => {
      throw thrown
    }, callback)
    await tick()
    assert.equal(calls.length, 1)
    assert.equal(calls[0].error, thrown)
    assert.equal(pool.stats().used, 0)
    assert.equal(pool.stats().idle, 1)
    assert.equal(counters.destroys, 0)
    await pool.end()
  })

  it('a throw of a nullish value still counts as a failure', async () => {
    const {pool} = fakePool({max: 1})
    const {calls, callback} = recorder<never>()
    pool.withResourceCallback(() => {
      throw undefined
    }, callback)
    await tick()
    assert.equal(calls.length, 1)
    assert.ok(calls[0].error instanceof Error)
    assert.equal(pool.stats().used, 0)
    await pool.end()
  })

  it('a second done is ignored: one callback, one release, no DoubleReleaseError', async () => {
    const {pool} = fakePool({max: 1})
    const {calls, callback} = recorder<number>()
    let saved: Done<number> | undefined
    pool.withResourceCallback<number>((_resource, done) => {
      saved = done
      done(undefined, 1)
      done(undefined, 2)
      done(new Error('late'))
    }, callback)
    await tick()
    assert.doesNotThrow(() => saved!(undefined, 3))
    assert.deepEqual(calls, [{error: undefined, value: 1}])
    assert.equal(pool.stats().used, 0)
    assert.equal(pool.stats().idle, 1)
    await pool.end()
  })

  it('fn that calls done after a throw: only the first outcome counts', async () => {
    const {pool} = fakePool({max: 1})
    const {calls, callback} = recorder<string>()
    let saved: Done<string> | undefined
    pool.withResourceCallback<string>((_resource, done) => {
      saved = done
      throw new Error('first')
    }, callback)
    await tick()
    saved!(undefined, 'later')
    assert.equal(calls.length, 1)
    assert.equal((calls[0].error as Error).message, 'first')
    await pool.end()
  })

  it('parity with withResource(): fn that released the resource itself gets DoubleReleaseError, the outcome is not lost', async () => {
    // withResource() rejects with DoubleReleaseError here; the callback form must deliver an outcome too
    // (a callback that is never called hangs its caller).
    const {pool} = fakePool({max: 1})
    await assert.rejects(
      pool.withResource(async (resource) => {
        pool.release(resource)
        return 'x'
      }),
      DoubleReleaseError,
    )
    const {calls, callback} = recorder<string>()
    pool.withResourceCallback<string>((resource, done) => {
      pool.release(resource)
      done(undefined, 'x')
    }, callback)
    await tick()
    assert.equal(calls.length, 1, 'the callback is called exactly once')
    assert.ok(calls[0].error instanceof DoubleReleaseError)
    await pool.end()
  })

  it('an acquire failure goes to the callback without calling fn', async () => {
    const {pool} = fakePool({max: 1})
    await pool.end()
    let called = false
    const {calls, callback} = recorder<never>()
    pool.withResourceCallback(() => {
      called = true
    }, callback)
    assert.equal(called, false)
    assert.equal(calls.length, 1)
    assert.ok(calls[0].error instanceof PoolEndedError)
  })

  it('regression: 20,000 withResourceCallback calls on a max-1 pool, done called synchronously, all complete in FIFO order without nesting', async () => {
    const clock = new VirtualClock()
    const {pool, counters} = fakePool({max: 1, clock})
    const count = 20_000
    const order: number[] = []
    const resources = new Set<FakeResource>()
    let depth = 0
    let maxDepth = 0
    let errors = 0
    for (let i = 0; i < count; i++) {
      pool.withResourceCallback<number>(
        (resource, done) => {
          depth++
          maxDepth = Math.max(maxDepth, depth)
          resources.add(resource)
          done(undefined, i)
          depth--
        },
        (error, value) => {
          if (error !== undefined) errors++
          order.push(value!)
        },
      )
    }

    assert.equal(pool.stats().pending, count)
    await tick()
    assert.equal(errors, 0)
    assert.equal(order.length, count)
    assert.ok(
      order.every((value, index) => value === index),
      'FIFO order',
    )
    assert.equal(maxDepth, 1, 'each fn ran after the previous one returned')
    assert.equal(resources.size, 1)
    assert.equal(counters.creates, 1)
    assert.deepEqual({used: pool.stats().used, pending: pool.stats().pending, acquired: pool.stats().acquired}, {used: 0, pending: 0, acquired: count})
    await pool.end()
  })

  it('regression: a chain of 20,000 withResourceCallback calls, each started from the previous callback, does not overflow', async () => {
    const {pool} = fakePool({max: 1})
    const warm = await pool.acquire()
    pool.release(warm)
    const count = 20_000
    const {finished, maxDepth} = chainOfCalls(count, (i, callback) => pool.withResourceCallback<number>((_resource, done) => done(undefined, i), callback))
    assert.equal(finished, count, 'all ran synchronously')
    assert.equal(maxDepth, 1)
    assert.equal(pool.stats().used, 0)
    await pool.end()
  })
})

// ---- QueueBroker --------------------------------------------------------------------------------

describe('QueueBroker.enqueueCallback', () => {
  it('a task that calls done at once: the outcome is delivered synchronously, exactly once', () => {
    const broker = new QueueBroker({maxActiveTasks: 1, maxQueueSize: 1})
    const {calls, callback} = recorder<string>()
    let context: TaskContext | undefined
    broker.enqueueCallback<string>(
      (ctx, done) => {
        context = ctx
        done(undefined, 'v')
      },
      {tenant: 't'},
      callback,
    )
    assert.deepEqual(calls, [{error: undefined, value: 'v'}])
    assert.equal(context?.attempt, 1)
    assert.equal(context?.tenant, 't')
    assert.equal(broker.stats().completed, 1)
    assert.equal(broker.stats().active, 0)
  })

  it('done(error) fails the task; a throw in the task fails it too', () => {
    const broker = new QueueBroker({maxActiveTasks: 2, maxQueueSize: 0})
    const failure = new Error('failed')
    const thrown = new Error('thrown')
    const a = recorder<never>()
    const b = recorder<never>()
    broker.enqueueCallback((_ctx, done) => done(failure), {}, a.callback)
    broker.enqueueCallback(
      () => {
        throw thrown
      },
      {},
      b.callback,
    )
    assert.deepEqual(a.calls, [{error: failure, value: undefined}])
    assert.deepEqual(b.calls, [{error: thrown, value: undefined}])
    assert.equal(broker.stats().failed, 2)
    assert.equal(broker.stats().active, 0)
  })

  it('BackpressureError, QueueEndedError and OptionsError (bad priority) are delivered synchronously', async () => {
    const broker = new QueueBroker({maxActiveTasks: 1, maxQueueSize: 1})
    const held: Done[] = []
    const hold = (_ctx: TaskContext, done: Done) => void held.push(done)
    const running = recorder()
    const queued = recorder()
    broker.enqueueCallback(hold, {}, running.callback)
    broker.enqueueCallback(hold, {}, queued.callback)
    const full = recorder()
    broker.enqueueCallback(hold, {}, full.callback)
    assert.equal(full.calls.length, 1)
    assert.ok(full.calls[0].error instanceof BackpressureError)
    assert.equal((full.calls[0].error as BackpressureError).maxQueueSize, 1)
    assert.equal(broker.stats().rejected, 1)

    const badPriority = recorder()
    broker.enqueueCallback(hold, {priority: 'urgent' as never}, badPriority.callback)
    assert.equal(badPriority.calls.length, 1)
    assert.ok(badPriority.calls[0].error instanceof OptionsError)
    assert.equal(broker.stats().accepted, 2)

    const ending = broker.end()
    const late = recorder()
    broker.enqueueCallback(hold, {}, late.callback)
    assert.equal(late.calls.length, 1)
    assert.ok(late.calls[0].error instanceof QueueEndedError)
    assert.equal(held.length, 1)
    held[0](undefined, 'one')
    assert.equal(held.length, 2, 'drain: the queued task still runs')
    held[1](undefined, 'two')
    await ending
    assert.deepEqual(running.calls, [{error: undefined, value: 'one'}])
    assert.deepEqual(queued.calls, [{error: undefined, value: 'two'}])
  })

  it('an already aborted signal: AbortedError synchronously, the task never runs, nothing accepted', () => {
    const broker = new QueueBroker({maxActiveTasks: 1, maxQueueSize: 1})
    let ran = false
    const {calls, callback} = recorder()
    broker.enqueueCallback((_ctx, done) => ((ran = true), done()), {signal: AbortSignal.abort('no')}, callback)
    assert.equal(calls.length, 1)
    assert.ok(calls[0].error instanceof AbortedError)
    assert.equal(ran, false)
    assert.equal(broker.stats().accepted, 0)
  })

  it('FIFO within a priority, high before normal before low, mixed with promise enqueues', async () => {
    const broker = new QueueBroker({maxActiveTasks: 1, maxQueueSize: 100})
    const order: string[] = []
    let release!: Done
    broker.enqueueCallback((_ctx, done) => (release = done), {}, () => {})
    const promises: Promise<unknown>[] = []
    const plan = [
      ['low', 'l1', 'cb'],
      ['normal', 'n1', 'promise'],
      ['high', 'h1', 'cb'],
      ['low', 'l2', 'promise'],
      ['high', 'h2', 'promise'],
      ['normal', 'n2', 'cb'],
      ['high', 'h3', 'cb'],
    ] as const
    for (const [priority, name, form] of plan) {
      if (form === 'cb') broker.enqueueCallback((_ctx, done) => (order.push(name), done()), {priority}, () => {})
      else promises.push(broker.enqueue(() => void order.push(name), {priority}))
    }

    assert.deepEqual(broker.stats().queuedByPriority, {high: 3, normal: 2, low: 2})
    release()
    await Promise.all(promises)
    assert.deepEqual(order, ['h1', 'h2', 'h3', 'n1', 'n2', 'l1', 'l2'])
  })

  it('tenant limits apply: a tenant at its limit waits, another tenant runs', () => {
    const broker = new QueueBroker({maxActiveTasks: 3, maxQueueSize: 10, tenantLimit: 1})
    const started: string[] = []
    const dones = new Map<string, Done>()
    const task = (name: string) => (_ctx: TaskContext, done: Done) => {
      started.push(name)
      dones.set(name, done)
    }

    broker.enqueueCallback(task('a1'), {tenant: 'a'}, () => {})
    broker.enqueueCallback(task('a2'), {tenant: 'a'}, () => {})
    broker.enqueueCallback(task('b1'), {tenant: 'b'}, () => {})
    assert.deepEqual(started, ['a1', 'b1'])
    assert.equal(broker.tenantActive('a'), 1)
    assert.equal(broker.stats().queued, 1)
    dones.get('a1')!()
    assert.deepEqual(started, ['a1', 'b1', 'a2'])
    assert.equal(broker.tenantActive('a'), 1)
  })

  it('a timed-out task: TaskTimeoutError at the deadline, its signal aborts, its slot stays taken until done', async () => {
    const clock = new VirtualClock()
    const broker = new QueueBroker({maxActiveTasks: 1, maxQueueSize: 10, taskTimeoutMs: 100, clock})
    let signal: AbortSignal | undefined
    let finish!: Done<string>
    const slow = recorder<string>()
    broker.enqueueCallback<string>(
      (ctx, done) => {
        signal = ctx.signal
        finish = done
      },
      {},
      slow.callback,
    )
    const next = recorder<string>()
    broker.enqueueCallback<string>((_ctx, done) => done(undefined, 'next'), {}, next.callback)
    await clock.advance(99)
    assert.equal(slow.calls.length, 0)
    await clock.advance(1)
    assert.equal(slow.calls.length, 1)
    assert.ok(slow.calls[0].error instanceof TaskTimeoutError)
    assert.equal(signal?.aborted, true)
    assert.equal(signal?.reason, slow.calls[0].error)
    assert.equal(next.calls.length, 0, 'the slot is still taken')
    assert.equal(broker.stats().active, 1)
    assert.equal(broker.stats().timedOut, 1)
    finish(undefined, 'too late')
    assert.equal(slow.calls.length, 1, 'no second outcome')
    assert.deepEqual(next.calls, [{error: undefined, value: 'next'}])
    assert.equal(broker.stats().active, 0)
    assert.equal(broker.stats().completed, 1, 'the late value is not counted as a completion')
  })

  it('a per-task timeoutMs overrides the queue default', async () => {
    const clock = new VirtualClock()
    const broker = new QueueBroker({maxActiveTasks: 2, maxQueueSize: 10, taskTimeoutMs: 1000, clock})
    const a = recorder()
    broker.enqueueCallback(() => {}, {timeoutMs: 10}, a.callback)
    await clock.advance(10)
    assert.ok(a.calls[0]?.error instanceof TaskTimeoutError)
  })

  it('retries a failed task with backoff; the outcome is delivered once with the final value', async () => {
    const clock = new VirtualClock()
    const broker = new QueueBroker({maxActiveTasks: 1, maxQueueSize: 10, retry: {retries: 3, minDelayMs: 100, jitter: 'none'}, clock})
    const attempts: number[] = []
    const {calls, callback} = recorder<string>()
    broker.enqueueCallback<string>(
      (ctx, done) => {
        attempts.push(ctx.attempt)
        if (ctx.attempt < 3) done(new Error(`attempt ${ctx.attempt} failed`))
        else done(undefined, 'ok')
      },
      {},
      callback,
    )
    assert.deepEqual(attempts, [1])
    assert.equal(broker.stats().retrying, 1)
    await clock.advance(99)
    assert.deepEqual(attempts, [1])
    await clock.advance(1)
    assert.deepEqual(attempts, [1, 2])
    assert.equal(calls.length, 0)
    await clock.advance(200)
    assert.deepEqual(attempts, [1, 2, 3])
    assert.deepEqual(calls, [{error: undefined, value: 'ok'}])
    assert.equal(broker.stats().retried, 2)
    assert.equal(broker.stats().completed, 1)
  })

  it('exhausted retries: the callback gets the last error, the dead-letter hook gets the task', async () => {
    const clock = new VirtualClock()
    const letters: unknown[] = []
    const broker = new QueueBroker({
      maxActiveTasks: 1,
      maxQueueSize: 10,
      retry: {retries: 2, minDelayMs: 10, jitter: 'none'},
      onDeadLetter: (letter) => letters.push({...letter, error: (letter.error as Error).message}),
      clock,
    })
    const {calls, callback} = recorder()
    broker.enqueueCallback((ctx, done) => done(new Error(`fail ${ctx.attempt}`)), {tenant: 't1', priority: 'low'}, callback)
    await clock.runUntilIdle()
    assert.equal(calls.length, 1)
    assert.equal((calls[0].error as Error).message, 'fail 3')
    assert.deepEqual(letters, [{error: 'fail 3', attempts: 3, priority: 'low', tenant: 't1'}])
    assert.deepEqual(
      (({failed, deadLettered, retried, active}) => ({failed, deadLettered, retried, active}))(broker.stats()),
      {failed: 1, deadLettered: 1, retried: 2, active: 0},
    )
  })

  it('a second done is ignored: one outcome, the slot freed once (active never goes negative)', () => {
    const broker = new QueueBroker({maxActiveTasks: 1, maxQueueSize: 10})
    const {calls, callback} = recorder<number>()
    let saved!: Done<number>
    broker.enqueueCallback<number>(
      (_ctx, done) => {
        saved = done
        done(undefined, 1)
        done(undefined, 2)
      },
      {},
      callback,
    )
    saved(new Error('late'))
    assert.deepEqual(calls, [{error: undefined, value: 1}])
    assert.equal(broker.stats().active, 0)
    assert.equal(broker.stats().completed, 1)
    assert.equal(broker.stats().failed, 0)
    // The freed slot is counted once: a held task takes it, and the next one must queue.
    broker.enqueueCallback(() => {}, {}, () => {})
    const queued = recorder()
    broker.enqueueCallback((_ctx, done) => done(), {}, queued.callback)
    assert.equal(broker.stats().active, 1)
    assert.equal(broker.stats().queued, 1)
    assert.equal(queued.calls.length, 0)
  })

  it('a late done from an attempt that has since been retried is ignored', async () => {
    const clock = new VirtualClock()
    const broker = new QueueBroker({maxActiveTasks: 1, maxQueueSize: 10, retry: {retries: 2, minDelayMs: 10, jitter: 'none'}, clock})
    const dones: Done<string>[] = []
    const {calls, callback} = recorder<string>()
    broker.enqueueCallback<string>(
      (ctx, done) => {
        dones.push(done)
        if (ctx.attempt === 1) throw new Error('attempt 1 threw')
      },
      {},
      callback,
    )
    assert.equal(broker.stats().retrying, 1)
    await clock.advance(10)
    assert.equal(dones.length, 2, 'attempt 2 is running')
    assert.equal(broker.stats().active, 1)
    dones[0](undefined, 'stale from attempt 1')
    assert.equal(calls.length, 0, 'the stale done did not complete attempt 2')
    assert.equal(broker.stats().active, 1)
    dones[0](new Error('stale failure'))
    assert.equal(broker.stats().retried, 1, 'nor fail it')
    dones[1](undefined, 'fresh')
    assert.deepEqual(calls, [{error: undefined, value: 'fresh'}])
    assert.equal(broker.stats().active, 0)
    assert.equal(broker.stats().completed, 1)
  })

  it("a caller's signal: a queued task gets AbortedError and never runs; a running one gets it and its signal aborts", () => {
    const broker = new QueueBroker({maxActiveTasks: 1, maxQueueSize: 10})
    const runningController = new AbortController()
    const queuedController = new AbortController()
    let runningSignal: AbortSignal | undefined
    let finish!: Done
    const first = recorder()
    broker.enqueueCallback(
      (ctx, done) => {
        runningSignal = ctx.signal
        finish = done
      },
      {signal: runningController.signal},
      first.callback,
    )
    const ran: string[] = []
    const second = recorder()
    broker.enqueueCallback((_ctx, done) => (ran.push('second'), done()), {signal: queuedController.signal}, second.callback)
    const third = recorder()
    broker.enqueueCallback((_ctx, done) => (ran.push('third'), done()), {}, third.callback)
    queuedController.abort()
    assert.equal(second.calls.length, 1)
    assert.ok(second.calls[0].error instanceof AbortedError)
    assert.equal(broker.stats().queued, 1)
    runningController.abort()
    assert.equal(first.calls.length, 1)
    assert.ok(first.calls[0].error instanceof AbortedError)
    assert.equal(runningSignal?.aborted, true)
    assert.deepEqual(ran, [], 'the slot stays taken until the aborted task calls done')
    finish()
    assert.deepEqual(ran, ['third'])
    assert.equal(first.calls.length, 1)
    assert.equal(third.calls.length, 1)
    assert.equal(broker.stats().aborted, 2)
  })

  it('end({drain: false}): queued tasks get QueueEndedError, running ones get it too and are aborted', async () => {
    const broker = new QueueBroker({maxActiveTasks: 1, maxQueueSize: 10})
    let finish!: Done
    let signal: AbortSignal | undefined
    const running = recorder()
    broker.enqueueCallback(
      (ctx, done) => {
        signal = ctx.signal
        finish = done
      },
      {},
      running.callback,
    )
    let queuedRan = false
    const queued = recorder()
    broker.enqueueCallback((_ctx, done) => ((queuedRan = true), done()), {}, queued.callback)
    const ended = track(broker.end({drain: false}))
    assert.ok(queued.calls[0]?.error instanceof QueueEndedError)
    assert.ok(running.calls[0]?.error instanceof QueueEndedError)
    assert.equal(signal?.aborted, true)
    await tick()
    assert.equal(ended.status, 'pending', 'waits for the running task to return')
    finish()
    await tick()
    assert.equal(ended.status, 'fulfilled')
    assert.equal(queuedRan, false)
    assert.equal(running.calls.length, 1)
    assert.equal(queued.calls.length, 1)
  })

  it('an outcome callback sees the queue as enqueue().then does: the freed slot is refilled first, no spurious BackpressureError', async () => {
    // maxActiveTasks 1, maxQueueSize 1: A runs, Q waits. When A finishes, Q takes its slot; a task enqueued
    // from A's outcome then fits in the queue. The promise form behaves so; the callback form must too.
    const scenario = async (form: 'promise' | 'callback') => {
      const broker = new QueueBroker({maxActiveTasks: 1, maxQueueSize: 1})
      const seen: string[] = []
      let finishA!: () => void
      const onA = (): void => {
        const {active, queued} = broker.stats()
        seen.push(`A done: active ${active}, queued ${queued}`)
        if (form === 'promise') {
          broker.enqueue(() => new Promise(() => {})).then(
            () => seen.push('X ok'),
            (error: Error) => seen.push(`X ${error.name}`),
          )
        } else {
          broker.enqueueCallback(() => {}, {}, (error) => seen.push(`X ${(error as Error).name}`))
        }
      }

      if (form === 'promise') {
        void broker.enqueue(() => new Promise<void>((resolve) => (finishA = resolve))).then(onA)
        void broker.enqueue(() => new Promise(() => seen.push('Q started')))
      } else {
        broker.enqueueCallback((_ctx, done) => (finishA = done), {}, onA)
        broker.enqueueCallback(() => void seen.push('Q started'), {}, () => {})
      }

      finishA()
      await tick()
      return {seen, rejected: broker.stats().rejected, queued: broker.stats().queued}
    }

    const promiseForm = await scenario('promise')
    assert.deepEqual(promiseForm, {seen: ['Q started', 'A done: active 1, queued 0'], rejected: 0, queued: 1})
    assert.deepEqual(await scenario('callback'), promiseForm)
  })

  it('regression: 20,000 tasks where each outcome callback enqueues the next (a producer loop) complete without overflow', () => {
    const broker = new QueueBroker({maxActiveTasks: 1, maxQueueSize: 1})
    const count = 20_000
    const {finished: completed, maxDepth} = chainOfCalls(count, (i, callback) => broker.enqueueCallback<number>((_ctx, done) => done(undefined, i), {}, callback))
    assert.equal(completed, count)
    assert.equal(maxDepth, 1, 'each outcome is delivered after the previous callback returned')
    assert.deepEqual(
      (({active, queued, accepted, completed: done, rejected}) => ({active, queued, accepted, completed: done, rejected}))(broker.stats()),
      {active: 0, queued: 0, accepted: count, completed: count, rejected: 0},
    )
  })

  it('regression: 20,000 queued callback tasks that call done synchronously all complete in order when the blocker finishes', () => {
    const broker = new QueueBroker({maxActiveTasks: 1, maxQueueSize: 30_000})
    let release!: Done
    broker.enqueueCallback((_ctx, done) => (release = done), {}, () => {})
    const count = 20_000
    const started: number[] = []
    const outcomes: number[] = []
    for (let i = 0; i < count; i++) {
      broker.enqueueCallback<number>(
        (_ctx, done) => {
          started.push(i)
          if (i % 2 === 0) done(undefined, i)
          else throw new Error(String(i))
        },
        {},
        (error, value) => outcomes.push(error === undefined ? value! : -Number((error as Error).message)),
      )
    }

    assert.equal(broker.stats().queued, count)
    release()
    assert.equal(started.length, count)
    assert.ok(started.every((value, index) => value === index))
    assert.equal(outcomes.length, count)
    assert.ok(outcomes.every((value, index) => (index % 2 === 0 ? value === index : value === -index)))
    assert.equal(broker.stats().completed, count / 2 + 1)
    assert.equal(broker.stats().failed, count / 2)
  })
})

// ---- CircuitBreaker -----------------------------------------------------------------------------

describe('CircuitBreaker.executeCallback', () => {
  it('closed: passes the value through; a done(error) and a throw are failures that open it at the threshold', () => {
    const clock = new VirtualClock()
    const changes: string[] = []
    const breaker = new CircuitBreaker({failureThreshold: 2, resetTimeoutMs: 1000, clock, onStateChange: (s, p) => changes.push(`${p}→${s}`)})
    const ok = recorder<string>()
    breaker.executeCallback<string>((done) => done(undefined, 'v'), ok.callback)
    assert.deepEqual(ok.calls, [{error: undefined, value: 'v'}])

    const failure = new Error('down')
    const failed = recorder()
    breaker.executeCallback((done) => done(failure), failed.callback)
    assert.deepEqual(failed.calls, [{error: failure, value: undefined}])
    assert.equal(breaker.state, 'closed')

    const thrown = new Error('threw')
    const threw = recorder()
    breaker.executeCallback(() => {
      throw thrown
    }, threw.callback)
    assert.deepEqual(threw.calls, [{error: thrown, value: undefined}])
    assert.equal(breaker.state, 'open')
    assert.deepEqual(changes, ['closed→open'])
    assert.deepEqual(breaker.stats(), {state: 'open', consecutiveFailures: 2, successes: 1, failures: 2, rejected: 0, opened: 1})
  })

  it('open: BrokenCircuitError synchronously, fn not called, retryAfterMs and cause set', async () => {
    const clock = new VirtualClock()
    const breaker = new CircuitBreaker({failureThreshold: 1, resetTimeoutMs: 1000, clock})
    const failure = new Error('down')
    breaker.executeCallback((done) => done(failure), () => {})
    await clock.advance(300)
    let called = false
    const {calls, callback} = recorder()
    breaker.executeCallback(() => {
      called = true
    }, callback)
    assert.equal(called, false)
    assert.equal(calls.length, 1)
    const error = calls[0].error as BrokenCircuitError
    assert.ok(error instanceof BrokenCircuitError)
    assert.equal(error.retryAfterMs, 700)
    assert.equal(error.cause, failure)
    assert.equal(breaker.stats().rejected, 1)
  })

  it('half-open admits halfOpenMaxProbes probes and refuses the next; probes succeeding close it', async () => {
    const clock = new VirtualClock()
    const changes: CircuitState[] = []
    const breaker = new CircuitBreaker({failureThreshold: 1, resetTimeoutMs: 100, halfOpenMaxProbes: 2, successThreshold: 2, clock, onStateChange: (s) => changes.push(s)})
    breaker.executeCallback((done) => done(new Error('down')), () => {})
    await clock.advance(100)
    const probes: Done<number>[] = []
    const results = [recorder<number>(), recorder<number>(), recorder<number>()]
    let calledThird = false
    breaker.executeCallback<number>((done) => probes.push(done), results[0].callback)
    breaker.executeCallback<number>((done) => probes.push(done), results[1].callback)
    breaker.executeCallback<number>(() => {
      calledThird = true
    }, results[2].callback)
    assert.equal(probes.length, 2)
    assert.equal(calledThird, false)
    assert.ok(results[2].calls[0]?.error instanceof BrokenCircuitError)
    assert.equal((results[2].calls[0].error as BrokenCircuitError).retryAfterMs, 0)
    probes[0](undefined, 1)
    assert.equal(breaker.state, 'half-open', 'successThreshold 2: one success is not enough')
    probes[1](undefined, 2)
    assert.equal(breaker.state, 'closed')
    assert.deepEqual(results[0].calls, [{error: undefined, value: 1}])
    assert.deepEqual(results[1].calls, [{error: undefined, value: 2}])
    assert.deepEqual(changes, ['open', 'half-open', 'closed'])
  })

  it('a probe that throws re-opens the circuit and frees its probe slot for the next half-open period', async () => {
    const clock = new VirtualClock()
    const breaker = new CircuitBreaker({failureThreshold: 1, resetTimeoutMs: 100, halfOpenMaxProbes: 1, clock})
    breaker.executeCallback((done) => done(new Error('down')), () => {})
    await clock.advance(100)
    const probe = recorder()
    breaker.executeCallback(() => {
      throw new Error('probe threw')
    }, probe.callback)
    assert.equal((probe.calls[0].error as Error).message, 'probe threw')
    assert.equal(breaker.state, 'open')
    await clock.advance(100)
    assert.equal(breaker.state, 'half-open')
    let called = false
    const second = recorder<string>()
    breaker.executeCallback<string>((done) => {
      called = true
      done(undefined, 'ok')
    }, second.callback)
    assert.equal(called, true, 'the thrown probe did not leak its slot')
    assert.deepEqual(second.calls, [{error: undefined, value: 'ok'}])
    assert.equal(breaker.state, 'closed')
    assert.equal(breaker.stats().opened, 2)
  })

  it('a second done is ignored: one callback, counted once', () => {
    const breaker = new CircuitBreaker({failureThreshold: 1})
    const {calls, callback} = recorder<number>()
    let saved!: Done<number>
    breaker.executeCallback<number>((done) => {
      saved = done
      done(undefined, 1)
    }, callback)
    saved(new Error('late'))
    saved(undefined, 2)
    assert.deepEqual(calls, [{error: undefined, value: 1}])
    assert.equal(breaker.state, 'closed')
    assert.deepEqual(
      (({successes, failures}) => ({successes, failures}))(breaker.stats()),
      {successes: 1, failures: 0},
    )
  })

  it('isFailure false: the callback still gets the error, but the breaker counts a success', () => {
    const breaker = new CircuitBreaker({failureThreshold: 1, isFailure: (error) => (error as Error).message !== 'unique violation'})
    const {calls, callback} = recorder()
    const error = new Error('unique violation')
    breaker.executeCallback((done) => done(error), callback)
    assert.deepEqual(calls, [{error, value: undefined}])
    assert.equal(breaker.state, 'closed')
    assert.equal(breaker.stats().successes, 1)
    assert.equal(breaker.stats().failures, 0)
  })

  it('same state machine as execute(): one script of outcomes gives the same states and stats', async () => {
    const script: (boolean | 'wait')[] = [true, false, false, false, true, 'wait', true, false, 'wait', false, 'wait', true, true, false]
    const run = async (form: 'promise' | 'callback') => {
      const clock = new VirtualClock()
      const breaker = new CircuitBreaker({failureThreshold: 2, resetTimeoutMs: 50, clock})
      const trace: string[] = []
      for (const step of script) {
        if (step === 'wait') {
          await clock.advance(50)
          continue
        }

        const outcome = await new Promise<string>((resolve) => {
          if (form === 'promise') {
            breaker
              .execute(() => (step ? Promise.resolve('ok') : Promise.reject(new Error('no'))))
              .then(
                (value) => resolve(value),
                (error: Error) => resolve(error.name),
              )
          } else {
            breaker.executeCallback<string>(
              (done) => (step ? done(undefined, 'ok') : done(new Error('no'))),
              (error, value) => resolve(error === undefined ? value! : (error as Error).name),
            )
          }
        })
        trace.push(`${outcome}/${breaker.state}`)
      }

      return {trace, stats: breaker.stats()}
    }

    const promiseForm = await run('promise')
    const callbackForm = await run('callback')
    assert.deepEqual(callbackForm, promiseForm)
    assert.ok(promiseForm.trace.some((entry) => entry.startsWith('BrokenCircuitError')), 'the script reaches the open state')
  })
})

// ---- Regressions found in review ----------------------------------------------------------------

describe('callback forms: re-entrancy regressions', () => {
  it('end({drain: false}) aborts every running task, also when each calls done() from inside its abort', async () => {
    const broker = new QueueBroker({maxActiveTasks: 3, maxQueueSize: 10})
    const aborted: number[] = []
    const outcomes: string[] = []
    for (let i = 0; i < 3; i++) {
      broker.enqueueCallback(
        (context, done) => context.signal.addEventListener('abort', () => (aborted.push(i), done(context.signal.reason))),
        {},
        (error) => outcomes.push(`${i}:${(error as Error).name}`),
      )
    }

    await broker.end({drain: false})
    assert.deepEqual(aborted.sort(), [0, 1, 2])
    assert.deepEqual(outcomes.sort(), ['0:QueueEndedError', '1:QueueEndedError', '2:QueueEndedError'])
    assert.equal(broker.stats().active, 0)
    assert.equal(broker.stats().aborted, 3)
  })

  it('outcomes keep completion order: a task finished from a timer is told before the task its slot started', async () => {
    const clock = new VirtualClock()
    const broker = new QueueBroker({maxActiveTasks: 1, maxQueueSize: 10, clock})
    const log: string[] = []
    broker.enqueueCallback((_context, done) => clock.setTimeout(() => (log.push('A finishes'), done(undefined, 'A')), 5), {}, () => log.push('A outcome'))
    broker.enqueueCallback((_context, done) => (log.push('J starts'), done(undefined, 'J')), {}, () => log.push('J outcome'))
    await clock.advance(10)
    assert.deepEqual(log, ['A finishes', 'J starts', 'A outcome', 'J outcome'])
  })

  it('a waiter failed after a hopeless create that acquires again is served by the next create, not failed with the old error', async () => {
    let fail = true
    const pool = new ConnectionPool<{id: number}>({
      max: 2,
      createRetries: 0,
      factory: {
        create: async () => {
          if (fail) {
            fail = false
            throw new Error('connect ECONNREFUSED')
          }
          return {id: 1}
        },
        destroy: () => undefined,
      },
    })
    const outcomes: string[] = []
    const tryAcquire = (): void =>
      pool.acquireCallback((error, resource) => {
        outcomes.push(error === undefined ? `resource ${resource!.id}` : (error as Error).message)
        if (error !== undefined && outcomes.length < 10) tryAcquire()
      })
    tryAcquire()
    await tick()
    assert.deepEqual(outcomes, ['connect ECONNREFUSED', 'resource 1'])
  })

  it('an acquire timed out with acquireTimeoutMs 1 that acquires again waits its own millisecond', async () => {
    const clock = new VirtualClock()
    const {pool} = fakePool({max: 1, acquireTimeoutMs: 1, clock})
    const held = await pool.acquire()
    const timedOutAt: number[] = []
    const retry = (): void =>
      pool.acquireCallback((error) => {
        timedOutAt.push(clock.now())
        if (error instanceof AcquireTimeoutError && timedOutAt.length < 10) retry()
      })
    retry()
    await clock.advance(1)
    assert.deepEqual(timedOutAt, [1], 'one timeout per millisecond, not ten at once')
    await clock.advance(2)
    assert.deepEqual(timedOutAt, [1, 2, 3])
    pool.release(held)
  })

  it('withResourceCallback: an isResourceError that throws destroys the resource and still releases it', async () => {
    const {pool, counters} = fakePool({
      max: 1,
      isResourceError: () => {
        throw new Error('predicate bug')
      },
    })
    const {calls, callback} = recorder<never>()
    pool.withResourceCallback((_resource, done) => done(new Error('query failed')), callback)
    await tick()
    assert.equal(calls.length, 1)
    assert.equal((calls[0].error as Error).message, 'query failed')
    assert.equal(pool.stats().used, 0)
    assert.equal(counters.destroys, 1)
  })

  it('an outcome callback that throws surfaces to the caller of done(); it is not swallowed as a task failure', () => {
    const broker = new QueueBroker({maxActiveTasks: 1, maxQueueSize: 1})
    const breaker = new CircuitBreaker()
    assert.throws(() => broker.enqueueCallback((_context, done) => done(undefined, 1), {}, () => {
      throw new Error('callback bug')
    }), /callback bug/)
    assert.equal(broker.stats().completed, 1)
    assert.equal(broker.stats().failed, 0)
    assert.throws(() => breaker.executeCallback((done) => done(undefined, 1), () => {
      throw new Error('callback bug')
    }), /callback bug/)
    assert.equal(breaker.stats().failures, 0)
  })
})
