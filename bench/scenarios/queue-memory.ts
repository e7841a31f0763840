/**
 * Scenario 4: heap bytes per queued task. The first CONCURRENCY tasks block on a gate, so every slot is
 * taken and the other N tasks stay queued; heapUsed after a full GC, minus heapUsed before, over N.
 * The core then runs all N to the end; p-limit and p-queue drop theirs (clearQueue/clear), only to
 * keep the bench short. Every contender gets the same task shape (a fresh closure per task, as real
 * callers write them), so the closure's own bytes are in every number alike; the "closures alone" row
 * shows how much that is.
 */
import pLimit from 'p-limit'
import PQueue from 'p-queue'
import {QueueBroker} from '../../src/core/index.js'
import {labelFor} from '../env.js'
import {type BenchOptions, type Contender, type Scenario, bytesPerItem, settle} from '../harness.js'

const CONCURRENCY = 10
const QUEUE_BOUND = 2_000_000

const work = async (i: number): Promise<number> => i

interface Gate {
  promise: Promise<void>
  open(): void
}

function gate(): Gate {
  let open!: () => void
  const promise = new Promise<void>((resolve) => {
    open = resolve
  })
  return {promise, open}
}

/** heapUsed once every microtask has run (so each library is in its steady queued state) and a full GC.
 * One full GC is enough to free the enqueue garbage; a second one on a ~700 MB heap only costs time. */
async function heapAfterGc(): Promise<number> {
  if (globalThis.gc === undefined) throw new Error('needs node --expose-gc')
  await settle()
  globalThis.gc()
  return process.memoryUsage().heapUsed
}

async function coreMemory(n: number): Promise<number> {
  const queue = new QueueBroker({maxActiveTasks: CONCURRENCY, maxQueueSize: QUEUE_BOUND})
  const blocked = gate()
  const before = await heapAfterGc()
  for (let b = 0; b < CONCURRENCY; b++) void queue.enqueue(() => blocked.promise)
  let last: Promise<number> | undefined
  for (let i = 0; i < n; i++) last = queue.enqueue(() => work(i))
  const after = await heapAfterGc()
  if (queue.stats().queued !== n) throw new Error(`expected ${n} queued, got ${queue.stats().queued}`)
  blocked.open()
  await last
  await queue.end()
  return (after - before) / n
}

async function pLimitMemory(n: number): Promise<number> {
  const limit = pLimit(CONCURRENCY)
  const blocked = gate()
  const before = await heapAfterGc()
  const blockers: Promise<void>[] = []
  for (let b = 0; b < CONCURRENCY; b++) blockers.push(limit(() => blocked.promise))
  for (let i = 0; i < n; i++) void limit(() => work(i))
  const after = await heapAfterGc()
  if (limit.pendingCount !== n) throw new Error(`expected ${n} queued, got ${limit.pendingCount}`)
  // Draining 1M through p-limit takes ~5 s per round; dropping them keeps the bench short.
  limit.clearQueue()
  blocked.open()
  await Promise.all(blockers)
  return (after - before) / n
}

async function pQueueMemory(n: number): Promise<number> {
  const queue = new PQueue({concurrency: CONCURRENCY})
  const blocked = gate()
  const before = await heapAfterGc()
  for (let b = 0; b < CONCURRENCY; b++) void queue.add(() => blocked.promise)
  for (let i = 0; i < n; i++) void queue.add(() => work(i))
  const after = await heapAfterGc()
  if (queue.size !== n) throw new Error(`expected ${n} queued, got ${queue.size}`)
  // Draining 1M through p-queue takes minutes (Array#shift on a huge array), so drop the queued tasks.
  queue.clear()
  blocked.open()
  await queue.onIdle()
  return (after - before) / n
}

/** The floor: the same closures kept in an array, no queue at all. */
async function closuresAlone(n: number): Promise<number> {
  const before = await heapAfterGc()
  const held: (() => Promise<number>)[] = []
  for (let i = 0; i < n; i++) held.push(() => work(i))
  const after = await heapAfterGc()
  if (held.length !== n) throw new Error('unreachable')
  return (after - before) / n
}

export function queueMemoryScenarios({quick}: BenchOptions): Scenario[] {
  const n = quick ? 100_000 : 1_000_000
  const entry = (id: string, label: string, run: (n: number) => Promise<number>, note?: string, reference = false): Contender => ({
    id,
    label,
    note,
    reference,
    measure: () => run(n),
    warmup: () => run(Math.ceil(n / 10)),
  })
  return [
    {
      id: 'queue-memory',
      group: 'queue-memory',
      title: `Queue memory, ${n.toLocaleString('en-US')} tasks queued behind ${CONCURRENCY} blocked ones`,
      method: `heapUsed after a full GC, before and after submitting ${CONCURRENCY} blocking tasks then ${n.toLocaleString('en-US')} tasks \`() => work(i)\` (a fresh closure each), divided by ${n.toLocaleString('en-US')}. Then the gate opens and the queue finishes.`,
      unit: bytesPerItem,
      rounds: quick ? 3 : 5,
      subject: 'core',
      contenders: [
        entry('core', 'poolctl QueueBroker', coreMemory, `maxActiveTasks ${CONCURRENCY}, maxQueueSize ${QUEUE_BOUND}`),
        entry('p-limit', labelFor('p-limit'), pLimitMemory, 'queued tasks are dropped with clearQueue() after the measurement (draining 1M takes ~5 s a round)'),
        entry('p-queue', labelFor('p-queue'), pQueueMemory, 'queued tasks are dropped with clear() after the measurement: draining 1M takes minutes'),
        entry('closures', 'reference: the task closures alone', closuresAlone, 'the same closures in an array, no queue: the floor every contender pays', true),
      ],
      goals: [{kind: 'at-most', value: 400}],
    },
  ]
}
