import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import fc from 'fast-check'

import {type Priority, QueueBroker, type QueueBrokerStats, VirtualClock, seededRandom, settle} from '../../src/core/index.js'

/** At least 300 runs; more with POOLCTL_FUZZ_RUNS. */
const RUNS = Math.max(300, Number(process.env.POOLCTL_FUZZ_RUNS ?? 0))

interface TaskSpec {
  /** Virtual time at which it is enqueued. */
  at: number
  priority: Priority
  tenant: number | undefined
  durationMs: number
  /** Finishes inside the task function (no timer) rather than after durationMs. */
  sync: boolean
  /** Fails on every attempt. */
  fails: boolean
  /** Fails on the first attempt only (a retry succeeds). */
  flaky: boolean
}

interface Scenario {
  maxActiveTasks: number
  maxQueueSize: number
  tenantLimit: number | undefined
  retry: {retries: number; minDelayMs: number; seed: number} | undefined
  taskTimeoutMs: number | undefined
  end: {at: number; drain: boolean} | undefined
  tasks: TaskSpec[]
}

const taskSpec: fc.Arbitrary<TaskSpec> = fc.record({
  at: fc.integer({min: 0, max: 60}),
  priority: fc.constantFrom<Priority>('high', 'normal', 'low'),
  tenant: fc.option(fc.integer({min: 0, max: 3}), {nil: undefined}),
  durationMs: fc.integer({min: 0, max: 50}),
  sync: fc.boolean(),
  fails: fc.boolean(),
  flaky: fc.boolean(),
})

const scenario: fc.Arbitrary<Scenario> = fc.record({
  maxActiveTasks: fc.integer({min: 1, max: 4}),
  maxQueueSize: fc.integer({min: 0, max: 6}),
  tenantLimit: fc.option(fc.integer({min: 1, max: 2}), {nil: undefined}),
  retry: fc.option(
    fc.record({retries: fc.integer({min: 0, max: 2}), minDelayMs: fc.integer({min: 0, max: 10}), seed: fc.integer()}),
    {nil: undefined},
  ),
  taskTimeoutMs: fc.option(fc.integer({min: 1, max: 40}), {nil: undefined}),
  // Ending mid-run in about a third of the runs; the rest run every task to completion.
  end: fc.oneof(
    {weight: 2, arbitrary: fc.constant(undefined)},
    {weight: 1, arbitrary: fc.record({at: fc.integer({min: 0, max: 120}), drain: fc.boolean()})},
  ),
  tasks: fc.array(taskSpec, {minLength: 1, maxLength: 14}),
})

interface Outcome {
  at: number
  value?: unknown
  error?: string
}

interface Observed {
  outcomes: (Outcome | undefined)[]
  /** `${task}#${attempt}@${time}` in the order task functions were called. */
  starts: string[]
  stats: QueueBrokerStats
  letters: string[]
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : `non-error ${String(error)}`
}

/** Run one scenario through enqueue() ('promise') or enqueueCallback() ('callback') on a fresh VirtualClock. */
async function run(s: Scenario, form: 'promise' | 'callback'): Promise<Observed> {
  const clock = new VirtualClock()
  const letters: string[] = []
  const broker = new QueueBroker({
    maxActiveTasks: s.maxActiveTasks,
    maxQueueSize: s.maxQueueSize,
    clock,
    ...(s.tenantLimit === undefined ? {} : {tenantLimit: s.tenantLimit}),
    ...(s.taskTimeoutMs === undefined ? {} : {taskTimeoutMs: s.taskTimeoutMs}),
    ...(s.retry === undefined
      ? {}
      : {
          retry: {retries: s.retry.retries, minDelayMs: s.retry.minDelayMs, random: seededRandom(s.retry.seed)},
          onDeadLetter: (letter) => letters.push(`${describeError(letter.error)} after ${letter.attempts} (${letter.priority}/${letter.tenant})`),
        }),
  })

  const outcomes: (Outcome | undefined)[] = s.tasks.map(() => undefined)
  const outcomeCalls = s.tasks.map(() => 0)
  const starts: string[] = []
  let running = 0
  const runningByTenant = new Map<string, number>()

  const onStart = (id: number, attempt: number, tenant: string | undefined): void => {
    starts.push(`${id}#${attempt}@${clock.now()}`)
    running++
    assert.ok(running <= s.maxActiveTasks, `${form}: ${running} running > maxActiveTasks ${s.maxActiveTasks}`)
    if (form === 'callback') assert.equal(broker.stats().active, running, 'callback: stats().active matches the tasks not yet done')
    if (tenant !== undefined) {
      const count = (runningByTenant.get(tenant) ?? 0) + 1
      runningByTenant.set(tenant, count)
      if (s.tenantLimit !== undefined) assert.ok(count <= s.tenantLimit, `${form}: tenant ${tenant} runs ${count} > ${s.tenantLimit}`)
    }
  }

  const onFinish = (tenant: string | undefined): void => {
    running--
    if (tenant !== undefined) runningByTenant.set(tenant, runningByTenant.get(tenant)! - 1)
  }

  const record = (id: number, error: unknown, value: unknown): void => {
    outcomeCalls[id]++
    assert.equal(outcomeCalls[id], 1, `${form}: task ${id}'s outcome delivered twice`)
    outcomes[id] = error === undefined ? {at: clock.now(), value} : {at: clock.now(), error: describeError(error)}
  }

  s.tasks.forEach((spec, id) => {
    const tenant = spec.tenant === undefined ? undefined : `t${spec.tenant}`
    const options = {priority: spec.priority, ...(tenant === undefined ? {} : {tenant})}
    const failsOn = (attempt: number) => spec.fails || (spec.flaky && attempt === 1)
    const valueOf = (attempt: number) => `task ${id} attempt ${attempt}`
    const errorOf = (attempt: number) => new Error(`task ${id} attempt ${attempt} failed`)

    clock.setTimeout(() => {
      if (form === 'promise') {
        broker
          .enqueue((context) => {
            const attempt = context.attempt
            onStart(id, attempt, context.tenant)
            if (spec.sync) {
              onFinish(context.tenant)
              if (failsOn(attempt)) throw errorOf(attempt)
              return valueOf(attempt)
            }

            return new Promise<string>((resolve, reject) => {
              clock.setTimeout(() => {
                onFinish(context.tenant)
                if (failsOn(attempt)) reject(errorOf(attempt))
                else resolve(valueOf(attempt))
              }, spec.durationMs)
            })
          }, options)
          .then(
            (value) => record(id, undefined, value),
            (error: unknown) => record(id, error, undefined),
          )
      } else {
        broker.enqueueCallback<string>(
          (context, done) => {
            const attempt = context.attempt
            onStart(id, attempt, context.tenant)
            const finish = (): void => {
              onFinish(context.tenant)
              if (failsOn(attempt)) done(errorOf(attempt))
              else done(undefined, valueOf(attempt))
            }

            if (spec.sync) finish()
            else clock.setTimeout(finish, spec.durationMs)
          },
          options,
          (error, value) => record(id, error, value),
        )
      }
    }, spec.at)
  })

  if (s.end !== undefined) {
    const {drain} = s.end
    clock.setTimeout(() => void broker.end({drain}), s.end.at)
  }

  await clock.runUntilIdle()
  let ended = false
  void broker.end().then(() => (ended = true))
  await settle()
  assert.ok(ended, `${form}: end() resolves once the clock is idle`)
  assert.equal(running, 0, `${form}: every task function finished`)
  assert.deepEqual(outcomeCalls, s.tasks.map(() => 1), `${form}: every task's outcome delivered exactly once`)

  const stats = broker.stats()
  assert.deepEqual([stats.active, stats.queued, stats.retrying], [0, 0, 0])
  assert.equal(stats.completed + stats.failed + stats.timedOut + stats.aborted, stats.accepted, 'each accepted task settled one way')
  assert.equal(
    outcomes.filter((o) => o?.error?.startsWith('BackpressureError')).length,
    stats.rejected,
    'a BackpressureError outcome per rejection',
  )
  return {outcomes, starts, stats, letters}
}

describe('QueueBroker: enqueueCallback() and enqueue() are observably the same', () => {
  it('same outcomes, start order, dead letters and stats for random task lists (VirtualClock)', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const promiseForm = await run(s, 'promise')
        const callbackForm = await run(s, 'callback')
        assert.deepEqual(callbackForm.outcomes, promiseForm.outcomes, 'per-task outcomes')
        assert.deepEqual(callbackForm.starts, promiseForm.starts, 'start order')
        assert.deepEqual(callbackForm.letters, promiseForm.letters, 'dead letters')
        assert.deepEqual(callbackForm.stats, promiseForm.stats, 'final stats')
      }),
      {numRuns: RUNS},
    )
  })

  it('the runner sees what it compares: a known scenario gives the expected outcomes in both forms', async () => {
    // maxActive 1, queue 1: task 0 runs 10 ms, task 1 queues, task 2 is refused; task 1 fails once and is retried.
    const s: Scenario = {
      maxActiveTasks: 1,
      maxQueueSize: 1,
      tenantLimit: undefined,
      retry: {retries: 1, minDelayMs: 0, seed: 1},
      taskTimeoutMs: undefined,
      end: undefined,
      tasks: [
        {at: 0, priority: 'normal', tenant: undefined, durationMs: 10, sync: false, fails: false, flaky: false},
        {at: 0, priority: 'normal', tenant: undefined, durationMs: 5, sync: false, fails: false, flaky: true},
        {at: 0, priority: 'high', tenant: undefined, durationMs: 0, sync: true, fails: false, flaky: false},
      ],
    }
    for (const form of ['promise', 'callback'] as const) {
      const observed = await run(s, form)
      assert.deepEqual(observed.outcomes, [
        {at: 10, value: 'task 0 attempt 1'},
        {at: 20, value: 'task 1 attempt 2'},
        {at: 0, error: 'BackpressureError: Queue is full (1 waiting, 1 running): task rejected'},
      ])
      assert.deepEqual(observed.starts, ['0#1@0', '1#1@10', '1#2@15'])
      assert.equal(observed.stats.retried, 1)
      assert.equal(observed.stats.rejected, 1)
      assert.equal(observed.stats.completed, 2)
    }
  })
})
