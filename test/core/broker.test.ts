import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {
  AbortedError,
  BackpressureError,
  OptionsError,
  QueueBroker,
  QueueEndedError,
  TaskTimeoutError,
  VirtualClock,
} from '../../src/core/index.js'
import {tick, track} from '../support/core-fixtures.js'

/** A task that runs until `open()` is called: lets a test hold slots deterministically. */
function gate() {
  let open!: () => void
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  return {open, task: () => opened}
}

describe('QueueBroker options', () => {
  it('rejects bad and unknown options eagerly', () => {
    assert.throws(() => new QueueBroker({maxActiveTasks: 0, maxQueueSize: 1}), /`maxActiveTasks`.*got `0`/)
    assert.throws(() => new QueueBroker({maxActiveTasks: 1, maxQueueSize: -1}), OptionsError)
    assert.throws(() => new QueueBroker({maxActiveTasks: 1, maxQueueSize: 1, concurrency: 3} as never), /unknown option `concurrency`/)
    assert.throws(() => new QueueBroker({maxActiveTasks: 1, maxQueueSize: 1, onDeadLetter: () => {}}), /needs `retry`/)
    assert.throws(() => new QueueBroker({maxActiveTasks: 1, maxQueueSize: 1, tenantLimits: {a: 0}}), /tenantLimits.a/)
  })
})

describe('QueueBroker', () => {
  it('starts empty', () => {
    const broker = new QueueBroker({maxActiveTasks: 2, maxQueueSize: 10})
    assert.deepEqual(broker.stats(), {
      maxActiveTasks: 2,
      maxQueueSize: 10,
      active: 0,
      queued: 0,
      retrying: 0,
      queuedByPriority: {high: 0, normal: 0, low: 0},
      accepted: 0,
      completed: 0,
      failed: 0,
      rejected: 0,
      timedOut: 0,
      aborted: 0,
      retried: 0,
      deadLettered: 0,
    })
  })

  it('returns each task result', async () => {
    const broker = new QueueBroker({maxActiveTasks: 2, maxQueueSize: 10})
    const results = await Promise.all([1, 2, 3, 4].map((n) => broker.enqueue(async () => n * 10)))
    assert.deepEqual(results, [10, 20, 30, 40])
    assert.equal(broker.stats().completed, 4)
  })

  it('a task beyond maxQueueSize is rejected at once with BackpressureError; the queue stays usable', async () => {
    const broker = new QueueBroker({maxActiveTasks: 1, maxQueueSize: 2})
    const g = gate()
    const running = broker.enqueue(g.task)
    const queued = [broker.enqueue(async () => 'a'), broker.enqueue(async () => 'b')]
    const rejected = broker.enqueue(async () => 'c')
    await assert.rejects(rejected, (error: unknown) => error instanceof BackpressureError && error.code === 'QUEUE_FULL')
    assert.equal(broker.stats().rejected, 1)
    assert.equal(broker.stats().queued, 2)
    g.open()
    await running
    assert.deepEqual(await Promise.all(queued), ['a', 'b'])
    assert.equal(await broker.enqueue(async () => 'd'), 'd')
  })

  it('maxQueueSize 0 runs tasks while slots are free and rejects the rest', async () => {
    const broker = new QueueBroker({maxActiveTasks: 1, maxQueueSize: 0})
    const g = gate()
    const running = broker.enqueue(g.task)
    await assert.rejects(broker.enqueue(async () => 1), BackpressureError)
    g.open()
    await running
  })

  it('never runs more than maxActiveTasks', async () => {
    const broker = new QueueBroker({maxActiveTasks: 3, maxQueueSize: 1000})
    let running = 0
    let peak = 0
    await Promise.all(
      Array.from({length: 200}, (_, i) =>
        broker.enqueue(async () => {
          running++
          peak = Math.max(peak, running)
          for (let hop = 0; hop < i % 4; hop++) await tick()
          running--
        }),
      ),
    )
    assert.equal(peak, 3)
  })

  it('a failing task does not stop the others', async () => {
    const broker = new QueueBroker({maxActiveTasks: 1, maxQueueSize: 10})
    const outcomes = await Promise.allSettled([
      broker.enqueue(async () => 1),
      broker.enqueue(async () => {
        throw new Error('task 2 failed')
      }),
      broker.enqueue(() => {
        throw new Error('sync throw')
      }),
      broker.enqueue(async () => 4),
    ])
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'rejected', 'rejected', 'fulfilled'],
    )
    assert.equal(broker.stats().failed, 2)
    assert.equal(broker.stats().completed, 2)
  })

  it('runs FIFO within a priority, high before normal before low', async () => {
    const broker = new QueueBroker({maxActiveTasks: 1, maxQueueSize: 100})
    const g = gate()
    const order: string[] = []
    const first = broker.enqueue(g.task)
    const tasks = (
      [
        ['low', 'l1'],
        ['normal', 'n1'],
        ['high', 'h1'],
        ['low', 'l2'],
        ['high', 'h2'],
        ['normal', 'n2'],
      ] as const
    ).map(([priority, name]) => broker.enqueue(async () => void order.push(name), {priority}))
    assert.deepEqual(broker.stats().queuedByPriority, {high: 2, normal: 2, low: 2})
    g.open()
    await Promise.all([first, ...tasks])
    assert.deepEqual(order, ['h1', 'h2', 'n1', 'n2', 'l1', 'l2'])
  })

  it('rejects an unknown priority without queueing it', async () => {
    const broker = new QueueBroker({maxActiveTasks: 1, maxQueueSize: 1})
    await assert.rejects(broker.enqueue(async () => 1, {priority: 'urgent' as never}), OptionsError)
    assert.equal(broker.stats().accepted, 0)
  })

  it('per-tenant limits: a noisy tenant cannot take every slot', async () => {
    const broker = new QueueBroker({maxActiveTasks: 4, maxQueueSize: 100, tenantLimit: 2, tenantLimits: {vip: 3}})
    const gates = new Map<string, ReturnType<typeof gate>[]>()
    let noisyPeak = 0
    const run = (tenant: string) => {
      const g = gate()
      gates.set(tenant, [...(gates.get(tenant) ?? []), g])
      return broker.enqueue(
        async () => {
          noisyPeak = Math.max(noisyPeak, broker.tenantActive('noisy'))
          await g.task()
        },
        {tenant},
      )
    }

    const noisy = Array.from({length: 6}, () => run('noisy'))
    const quiet = run('quiet')
    await tick()
    assert.equal(broker.tenantActive('noisy'), 2)
    assert.equal(broker.tenantActive('quiet'), 1, 'the quiet tenant got a slot although noisy queued first')
    assert.equal(broker.stats().active, 3)
    for (const g of gates.get('noisy')!) g.open()
    gates.get('quiet')![0].open()
    await Promise.all([...noisy, quiet])
    assert.equal(noisyPeak, 2)
    assert.equal(broker.stats().completed, 7)
  })

  it('a task past its timeout rejects with TaskTimeoutError, its signal aborts, and its slot frees only when it returns', async () => {
    const clock = new VirtualClock()
    const broker = new QueueBroker({maxActiveTasks: 1, maxQueueSize: 10, taskTimeoutMs: 100, clock})
    let seen: AbortSignal | undefined
    let finish!: () => void
    const slow = track(
      broker.enqueue(
        (context) =>
          new Promise<void>((resolve) => {
            seen = context.signal
            finish = resolve
          }),
      ),
    )
    const next = track(broker.enqueue(async () => 'next'))
    await clock.advance(100)
    assert.ok(slow.error instanceof TaskTimeoutError)
    assert.equal(seen?.aborted, true)
    assert.ok(seen?.reason instanceof TaskTimeoutError)
    assert.equal(next.status, 'pending', 'maxActiveTasks stays honest: the slow task still runs')
    assert.equal(broker.stats().active, 1)
    finish()
    await tick()
    assert.equal(next.value, 'next')
    assert.equal(broker.stats().timedOut, 1)
  })

  it("a caller's signal removes a queued task and aborts a running one", async () => {
    const broker = new QueueBroker({maxActiveTasks: 1, maxQueueSize: 10})
    const running = new AbortController()
    const queued = new AbortController()
    let runningSignal: AbortSignal | undefined
    let finish!: () => void
    const first = track(
      broker.enqueue(
        (context) =>
          new Promise<void>((resolve) => {
            runningSignal = context.signal
            finish = resolve
          }),
        {signal: running.signal},
      ),
    )
    const ran: string[] = []
    const second = track(broker.enqueue(async () => void ran.push('second'), {signal: queued.signal}))
    const third = broker.enqueue(async () => void ran.push('third'))
    queued.abort()
    await tick()
    assert.ok(second.error instanceof AbortedError)
    assert.equal(broker.stats().queued, 1)
    running.abort()
    await tick()
    assert.ok(first.error instanceof AbortedError)
    assert.equal(runningSignal?.aborted, true)
    finish()
    await third
    assert.deepEqual(ran, ['third'])
    assert.equal(broker.stats().aborted, 2)
  })

  it('retries a failed task with backoff and succeeds', async () => {
    const clock = new VirtualClock()
    const broker = new QueueBroker({maxActiveTasks: 1, maxQueueSize: 10, retry: {retries: 3, minDelayMs: 100, jitter: 'none'}, clock})
    const attempts: number[] = []
    const result = track(
      broker.enqueue(async (context) => {
        attempts.push(context.attempt)
        if (context.attempt < 3) throw new Error(`attempt ${context.attempt} failed`)
        return 'ok'
      }),
    )
    await clock.advance(99)
    assert.deepEqual(attempts, [1])
    assert.equal(broker.stats().retrying, 1)
    await clock.advance(1)
    assert.deepEqual(attempts, [1, 2])
    await clock.advance(200)
    assert.deepEqual(attempts, [1, 2, 3])
    assert.equal(result.value, 'ok')
    assert.equal(broker.stats().retried, 2)
  })

  it('a task that exhausts its retries goes to the dead-letter hook with its error and attempt count', async () => {
    const clock = new VirtualClock()
    const letters: unknown[] = []
    const broker = new QueueBroker({
      maxActiveTasks: 2,
      maxQueueSize: 10,
      retry: {retries: 2, minDelayMs: 10, jitter: 'none', shouldRetry: (error) => (error as Error).message !== 'fatal'},
      onDeadLetter: (letter) => letters.push({...letter, error: (letter.error as Error).message}),
      clock,
    })
    const exhausted = track(
      broker.enqueue(
        async () => {
          throw new Error('flaky')
        },
        {tenant: 't1', priority: 'low'},
      ),
    )
    const fatal = track(
      broker.enqueue(async () => {
        throw new Error('fatal')
      }),
    )
    await clock.runUntilIdle()
    assert.equal((exhausted.error as Error).message, 'flaky')
    assert.equal((fatal.error as Error).message, 'fatal')
    assert.deepEqual(letters, [{error: 'flaky', attempts: 3, priority: 'low', tenant: 't1'}])
    assert.equal(broker.stats().deadLettered, 1)
    assert.equal(broker.stats().failed, 2)
  })
})

describe('QueueBroker under many synchronous failures', () => {
  it('regression: 20,000 queued tasks that throw synchronously all settle (no recursion through the pump)', async () => {
    // Before the re-entrancy guard each sync failure freed its slot inside #start and pumped again one
    // frame deeper: ~3,000 wedged the queue, ~8,000 overflowed the stack.
    const broker = new QueueBroker({maxActiveTasks: 1, maxQueueSize: 30_000})
    const g = gate()
    const blocker = broker.enqueue(g.task)
    const failures = Array.from({length: 20_000}, (_, i) =>
      broker.enqueue(() => {
        throw new Error(`sync ${i}`)
      }),
    )
    g.open()
    await blocker
    const outcomes = await Promise.allSettled(failures)
    assert.ok(outcomes.every((o) => o.status === 'rejected'))
    assert.deepEqual([broker.stats().failed, broker.stats().active, broker.stats().queued], [20_000, 0, 0])
  })
})

describe('QueueBroker end()', () => {
  it('drains by default: queued tasks still run; enqueue after end rejects; twice returns the same promise', async () => {
    const broker = new QueueBroker({maxActiveTasks: 1, maxQueueSize: 10})
    const g = gate()
    const ran: number[] = []
    const tasks = [broker.enqueue(g.task), broker.enqueue(async () => void ran.push(2)), broker.enqueue(async () => void ran.push(3))]
    const ended = broker.end()
    assert.equal(broker.end(), ended)
    await assert.rejects(broker.enqueue(async () => 4), QueueEndedError)
    const state = track(ended)
    await tick()
    assert.equal(state.status, 'pending')
    g.open()
    await Promise.all(tasks)
    await ended
    assert.deepEqual(ran, [2, 3])
    assert.equal(broker.stats().active + broker.stats().queued, 0)
  })

  it('drain: false rejects what is queued and aborts what runs', async () => {
    const broker = new QueueBroker({maxActiveTasks: 1, maxQueueSize: 10})
    let signal: AbortSignal | undefined
    const running = track(
      broker.enqueue(
        (context) =>
          new Promise<void>((resolve) => {
            signal = context.signal
            context.signal.addEventListener('abort', () => resolve())
          }),
      ),
    )
    const queued = track(broker.enqueue(async () => 'never'))
    await broker.end({drain: false})
    await tick()
    assert.ok(running.error instanceof QueueEndedError)
    assert.ok(queued.error instanceof QueueEndedError)
    assert.equal(signal?.aborted, true)
    assert.equal(broker.stats().active, 0)
  })

  it('end({timeoutMs}) gives up on a task that never returns', async () => {
    const clock = new VirtualClock()
    const broker = new QueueBroker({maxActiveTasks: 1, maxQueueSize: 10, clock})
    const stuck = track(broker.enqueue(() => new Promise(() => {})))
    const ended = track(broker.end({timeoutMs: 500}))
    await clock.advance(499)
    assert.equal(ended.status, 'pending')
    await clock.advance(1)
    assert.equal(ended.status, 'fulfilled')
    assert.ok(stuck.error instanceof QueueEndedError)
  })

  it('end during a retry backoff, drain: false, rejects the waiting task', async () => {
    const clock = new VirtualClock()
    const broker = new QueueBroker({maxActiveTasks: 1, maxQueueSize: 10, retry: {retries: 5, minDelayMs: 1000}, clock})
    const failing = track(
      broker.enqueue(async () => {
        throw new Error('down')
      }),
    )
    await tick()
    assert.equal(broker.stats().retrying, 1)
    await broker.end({drain: false})
    await tick()
    assert.ok(failing.error instanceof QueueEndedError)
    assert.equal(broker.stats().retrying, 0)
  })
})
