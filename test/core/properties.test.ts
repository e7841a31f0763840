import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import fc from 'fast-check'

import {
  AcquireTimeoutError,
  BackpressureError,
  ConnectionPool,
  type Priority,
  QueueBroker,
  VirtualClock,
  settle,
} from '../../src/core/index.js'

/** At least 1,000 runs per property in CI; more with POOLCTL_FUZZ_RUNS. */
const RUNS = Math.max(1000, Number(process.env.POOLCTL_FUZZ_RUNS ?? 0))
const ACQUIRE_TIMEOUT_MS = 100

type PoolCommand =
  | {kind: 'acquire'; abortable: boolean}
  | {kind: 'release' | 'releaseBroken' | 'kill'; pick: number}
  | {kind: 'abort'; pick: number}
  | {kind: 'advance'; ms: number}
  | {kind: 'step'}
  | {kind: 'end'}

const poolCommand: fc.Arbitrary<PoolCommand> = fc.oneof(
  {weight: 4, arbitrary: fc.record({kind: fc.constant('acquire' as const), abortable: fc.boolean()})},
  {weight: 3, arbitrary: fc.record({kind: fc.constant('release' as const), pick: fc.nat()})},
  {weight: 1, arbitrary: fc.record({kind: fc.constant('releaseBroken' as const), pick: fc.nat()})},
  {weight: 1, arbitrary: fc.record({kind: fc.constant('kill' as const), pick: fc.nat()})},
  {weight: 1, arbitrary: fc.record({kind: fc.constant('abort' as const), pick: fc.nat()})},
  {weight: 2, arbitrary: fc.record({kind: fc.constant('advance' as const), ms: fc.integer({min: 1, max: 150})})},
  {weight: 4, arbitrary: fc.record({kind: fc.constant('step' as const)})},
  {weight: 1, arbitrary: fc.record({kind: fc.constant('end' as const)})},
)

describe('ConnectionPool properties (fast-check scheduler decides when creates finish)', () => {
  it('bounds, no double hand-out, every acquire settles within its deadline, nothing left after end', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({min: 1, max: 4}),
        fc.array(fc.boolean(), {minLength: 1, maxLength: 8}),
        fc.array(poolCommand, {maxLength: 40}),
        async (s, max, createFails, commands) => {
          const clock = new VirtualClock()
          const live = new Set<{id: number}>()
          let pendingCreates = 0
          let creates = 0
          let serial = 0
          const pool = new ConnectionPool<{id: number}>({
            max,
            acquireTimeoutMs: ACQUIRE_TIMEOUT_MS,
            createRetries: 1,
            createRetryDelayMs: 5,
            idleTimeoutMs: 0,
            clock,
            factory: {
              create() {
                const fails = createFails[creates++ % createFails.length]
                pendingCreates++
                // Invariant: connections + pending creates ≤ max.
                assert.ok(live.size + pendingCreates <= max, `live ${live.size} + creating ${pendingCreates} > max ${max}`)
                return s.schedule(Promise.resolve(), 'create').then(() => {
                  pendingCreates--
                  if (fails) throw new Error('create failed')
                  const resource = {id: ++serial}
                  live.add(resource)
                  return resource
                })
              },
              destroy(resource) {
                assert.ok(live.delete(resource), 'destroyed a resource that was not alive (double destroy)')
              },
            },
          })

          const held: {id: number}[] = []
          const controllers: AbortController[] = []
          let acquires = 0
          let settled = 0
          let ended = false
          const acquire = (signal?: AbortSignal): void => {
            acquires++
            const startedAt = clock.now()
            pool.acquire(signal).then(
              (resource) => {
                settled++
                assert.ok(!held.includes(resource), `resource ${resource.id} handed out twice`)
                assert.ok(live.has(resource), 'handed out a destroyed resource')
                held.push(resource)
              },
              (error: unknown) => {
                settled++
                if (error instanceof AcquireTimeoutError) {
                  // No wait outlasts its timeout (plus the 1 ms the queue timer may fire early).
                  assert.ok(clock.now() - startedAt <= ACQUIRE_TIMEOUT_MS + 1, `waited ${clock.now() - startedAt}ms`)
                }
              },
            )
          }

          const take = (pick: number) => (held.length === 0 ? undefined : held.splice(pick % held.length, 1)[0])
          for (const command of commands) {
            switch (command.kind) {
              case 'acquire': {
                const controller = command.abortable ? new AbortController() : undefined
                if (controller) controllers.push(controller)
                acquire(controller?.signal)
                break
              }

              case 'release': {
                const resource = take(command.pick)
                if (resource) pool.release(resource)
                break
              }

              case 'releaseBroken': {
                const resource = take(command.pick)
                if (resource) pool.release(resource, new Error('broken'))
                break
              }

              case 'kill': {
                // The backend died under a borrower: evicted now, destroyed on release.
                if (held.length > 0) pool.evict(held[command.pick % held.length])
                break
              }

              case 'abort': {
                if (controllers.length > 0) controllers.splice(command.pick % controllers.length, 1)[0].abort()
                break
              }

              case 'advance': {
                await clock.advance(command.ms)
                break
              }

              case 'step': {
                if (s.count() > 0) await s.waitOne()
                await settle()
                break
              }

              case 'end': {
                if (!ended) void pool.end()
                ended = true
                break
              }
            }

            const stats = pool.stats()
            assert.ok(stats.size + pendingCreates <= max, 'in use ≤ max')
            assert.ok(stats.used <= max)
          }

          // Wind down: give everything back, let every create finish, end.
          const ending = pool.end()
          let done = false
          void ending.then(() => (done = true))
          for (let round = 0; round < 100 && !done; round++) {
            for (const resource of held.splice(0)) pool.release(resource)
            while (s.count() > 0) await s.waitOne()
            await clock.advance(ACQUIRE_TIMEOUT_MS)
          }

          assert.ok(done, 'end() finished')
          const stats = pool.stats()
          assert.equal(settled, acquires, 'every acquire settled')
          assert.equal(stats.used, 0)
          assert.equal(stats.pending, 0)
          assert.equal(stats.created, stats.destroyed, 'created === destroyed')
          assert.equal(live.size, 0, 'nothing left alive')
        },
      ),
      {numRuns: RUNS},
    )
  })
})

type BrokerCommand =
  | {kind: 'enqueue'; priority: Priority; fails: boolean}
  | {kind: 'step'}
  | {kind: 'end'; drain: boolean}

const brokerCommand: fc.Arbitrary<BrokerCommand> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('enqueue' as const),
      priority: fc.constantFrom<Priority>('high', 'normal', 'low'),
      fails: fc.boolean(),
    }),
  },
  {weight: 4, arbitrary: fc.record({kind: fc.constant('step' as const)})},
  {weight: 1, arbitrary: fc.record({kind: fc.constant('end' as const), drain: fc.boolean()})},
)

describe('QueueBroker properties (fast-check scheduler decides when tasks finish)', () => {
  it('active ≤ max, queue ≤ bound and rejects only when full, each task settles once, FIFO within a priority', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({min: 1, max: 3}),
        fc.integer({min: 0, max: 5}),
        fc.array(brokerCommand, {maxLength: 40}),
        async (s, maxActiveTasks, maxQueueSize, commands) => {
          const broker = new QueueBroker({maxActiveTasks, maxQueueSize})
          let running = 0
          let enqueued = 0
          const settleCounts: number[] = []
          const started: Record<Priority, number[]> = {high: [], normal: [], low: []}
          let ended = false
          for (const command of commands) {
            if (command.kind === 'enqueue') {
              const id = enqueued++
              settleCounts[id] = 0
              const before = broker.stats()
              const wasFull = before.queued >= maxQueueSize && (before.active >= maxActiveTasks || before.queued > 0)
              broker
                .enqueue(
                  async () => {
                    running++
                    assert.ok(running <= maxActiveTasks, `running ${running} > maxActiveTasks ${maxActiveTasks}`)
                    started[command.priority].push(id)
                    try {
                      await s.schedule(Promise.resolve(), `task ${id}`)
                      if (command.fails) throw new Error(`task ${id} failed`)
                    } finally {
                      running--
                    }
                  },
                  {priority: command.priority},
                )
                .then(
                  () => settleCounts[id]++,
                  (error: unknown) => {
                    settleCounts[id]++
                    if (error instanceof BackpressureError) assert.ok(wasFull, 'rejected by backpressure although not full')
                  },
                )
              if (!ended && !wasFull) assert.ok(broker.stats().queued <= maxQueueSize)
            } else if (command.kind === 'step') {
              if (s.count() > 0) await s.waitOne()
              await settle()
            } else if (!ended) {
              ended = true
              void broker.end({drain: command.drain})
            }

            assert.ok(broker.stats().queued <= maxQueueSize, 'queue ≤ bound')
            assert.ok(broker.stats().active <= maxActiveTasks)
          }

          let done = false
          void broker.end().then(() => (done = true))
          // A finished task lets the next one start (and schedule) a few microtasks later: keep stepping.
          for (let round = 0; round < 1000 && !done; round++) {
            if (s.count() > 0) await s.waitOne()
            await settle()
          }

          assert.ok(done, 'end() finished')
          assert.ok(settleCounts.every((count) => count === 1), `each task settles exactly once: ${settleCounts}`)
          for (const ids of Object.values(started)) {
            assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'FIFO within a priority')
          }

          const stats = broker.stats()
          assert.equal(stats.active, 0)
          assert.equal(stats.queued, 0)
        },
      ),
      {numRuns: RUNS},
    )
  })
})
