/**
 * Scenarios 1 and 2: acquire → release cycles per second through a pool of 10 instantly created
 * resources, with 100 workers (90 always waiting) and with 50,000 workers (a deep waiter queue).
 *
 * Every contender has its acquire timeout on (30 s, never reached) and, where it has one, a finite
 * bound on waiters, so the core is measured with its safety features on, as it would run in production.
 * Each pool is built once and reused by every round (see `persistent` in harness.ts). Each contender's
 * worker loop is written out separately on purpose: closures from one source site share type
 * feedback, and a shared loop would turn megamorphic and slow everyone down unevenly.
 */
import {EventEmitter} from 'node:events'
import genericPool from 'generic-pool'
import PgPool from 'pg-pool'
import tarn from 'tarn'
import {ConnectionPool} from '../../src/core/index.js'
import {labelFor} from '../env.js'
import {type BenchOptions, type Contender, type Scenario, TimeBox, perSecond, persistent} from '../harness.js'
import {MinimalPool} from '../reference/minimal-pool.js'

const MAX = 10
const ACQUIRE_TIMEOUT_MS = 30_000
/** Finite, and far above any worker count used here. */
const WAITER_BOUND = 1_000_000

interface Resource {
  id: number
}

let nextId = 0
const makeResource = (): Resource => ({id: nextId++})

/** A pool under test. `cycles` runs the workers once; the pool itself lives across rounds. */
interface PoolTarget {
  cycles(workers: number, durationMs: number): Promise<number>
  close(): Promise<unknown>
}

function corePool(): PoolTarget {
  const pool = new ConnectionPool<Resource>({
    factory: {create: async () => makeResource(), destroy: () => {}},
    max: MAX,
    acquireTimeoutMs: ACQUIRE_TIMEOUT_MS,
    maxWaiters: WAITER_BOUND,
  })
  return {
    async cycles(workers, durationMs) {
      const box = new TimeBox(durationMs)
      const worker = async (): Promise<void> => {
        while (!box.stop) {
          const resource = await pool.acquire()
          pool.release(resource)
          box.tick()
        }
      }

      await Promise.all(Array.from({length: workers}, worker))
      return box.rate()
    },
    close: () => pool.end(),
  }
}

function tarnPool(): PoolTarget {
  const pool = new tarn.Pool<Resource>({
    create: async () => makeResource(),
    destroy: () => {},
    min: 0,
    max: MAX,
    acquireTimeoutMillis: ACQUIRE_TIMEOUT_MS,
  })
  return {
    async cycles(workers, durationMs) {
      const box = new TimeBox(durationMs)
      const worker = async (): Promise<void> => {
        while (!box.stop) {
          const resource = await pool.acquire().promise
          pool.release(resource)
          box.tick()
        }
      }

      await Promise.all(Array.from({length: workers}, worker))
      return box.rate()
    },
    close: () => pool.destroy(),
  }
}

function genericPoolPool(): PoolTarget {
  const pool = genericPool.createPool<Resource>(
    {create: async () => makeResource(), destroy: async () => {}},
    {max: MAX, min: 0, acquireTimeoutMillis: ACQUIRE_TIMEOUT_MS, maxWaitingClients: WAITER_BOUND},
  )
  return {
    async cycles(workers, durationMs) {
      const box = new TimeBox(durationMs)
      const worker = async (): Promise<void> => {
        while (!box.stop) {
          const resource = await pool.acquire()
          void pool.release(resource)
          box.tick()
        }
      }

      await Promise.all(Array.from({length: workers}, worker))
      return box.rate()
    },
    async close() {
      await pool.drain()
      await pool.clear()
    },
  }
}

/**
 * What pg-pool needs from a client: connect(cb), end(cb), EventEmitter's on/removeListener (it parks
 * an idle error listener on each client), the `_queryable`/`_ending` flags its release path reads,
 * and `release`, which the pool itself assigns at checkout.
 */
class FakePgClient extends EventEmitter {
  _queryable = true
  _ending = false
  readonly id = nextId++

  connect(callback: (error?: Error) => void): void {
    queueMicrotask(() => callback())
  }

  end(callback?: () => void): void {
    this._ending = true
    this._queryable = false
    queueMicrotask(() => {
      this.emit('end')
      callback?.()
    })
  }

  isConnected(): boolean {
    return !this._ending
  }
}

function pgPoolPool(): PoolTarget {
  const pool = new PgPool<FakePgClient>({max: MAX, connectionTimeoutMillis: ACQUIRE_TIMEOUT_MS, Client: FakePgClient})
  return {
    async cycles(workers, durationMs) {
      const box = new TimeBox(durationMs)
      const worker = async (): Promise<void> => {
        while (!box.stop) {
          const client = await pool.connect()
          client.release()
          box.tick()
        }
      }

      await Promise.all(Array.from({length: workers}, worker))
      return box.rate()
    },
    close: () => pool.end(),
  }
}

function minimalPool(): PoolTarget {
  const pool = new MinimalPool<Resource>(Array.from({length: MAX}, makeResource))
  return {
    async cycles(workers, durationMs) {
      const box = new TimeBox(durationMs)
      const worker = async (): Promise<void> => {
        while (!box.stop) {
          const resource = await pool.acquire()
          pool.release(resource)
          box.tick()
        }
      }

      await Promise.all(Array.from({length: workers}, worker))
      return box.rate()
    },
    close: async () => {},
  }
}

function contenders(workers: number, durationMs: number): Contender[] {
  // The warm-up only has to get every path optimised: a short window and, for 50k, fewer workers.
  const warmWorkers = Math.min(workers, 5_000)
  const warmMs = Math.min(durationMs, 200)
  const entry = (id: string, label: string, open: () => PoolTarget, note: string, reference = false): Contender =>
    persistent({
      id,
      label,
      note,
      reference,
      open,
      close: (target) => target.close(),
      measure: (target) => target.cycles(workers, durationMs),
      warmup: (target) => target.cycles(warmWorkers, warmMs),
    })
  return [
    entry('core', 'poolctl ConnectionPool', corePool, `acquireTimeoutMs ${ACQUIRE_TIMEOUT_MS}, maxWaiters ${WAITER_BOUND}`),
    entry('tarn', labelFor('tarn'), tarnPool, `acquireTimeoutMillis ${ACQUIRE_TIMEOUT_MS}`),
    entry(
      'generic-pool',
      labelFor('generic-pool'),
      genericPoolPool,
      `acquireTimeoutMillis ${ACQUIRE_TIMEOUT_MS}, maxWaitingClients ${WAITER_BOUND}`,
    ),
    entry('pg-pool', labelFor('pg-pool'), pgPoolPool, `connectionTimeoutMillis ${ACQUIRE_TIMEOUT_MS}, fake in-memory Client`),
    entry(
      'minimal',
      'reference: minimal pool',
      minimalPool,
      'free-list array + ring-buffer waiters + direct hand-off, no timeouts: the physical limit',
      true,
    ),
  ]
}

export function poolScenarios({quick}: BenchOptions): Scenario[] {
  const waiters = quick ? 5_000 : 50_000
  return [
    {
      id: 'pool-cycles',
      group: 'pool-cycles',
      title: `Pool acquire → release, max ${MAX}, 100 concurrent workers`,
      method: `100 async workers each loop \`acquire → release\` on a pool of ${MAX} plain objects for ${quick ? 100 : 500} ms; cycles/s = cycles / time until every worker has returned.`,
      unit: perSecond('cycles/s'),
      rounds: quick ? 3 : 7,
      subject: 'core',
      contenders: contenders(100, quick ? 100 : 500),
      goals: [
        {kind: 'faster', vs: 'tarn', factor: 6},
        {kind: 'faster', vs: 'generic-pool', factor: 2},
        {kind: 'within', of: 'minimal', factor: 2.3},
      ],
    },
    {
      id: 'pool-waiters',
      group: 'pool-cycles',
      title: `Pool acquire → release, max ${MAX}, ${waiters.toLocaleString('en-US')} concurrent waiters`,
      method: `As above with ${waiters.toLocaleString('en-US')} workers, so ~${(waiters - MAX).toLocaleString('en-US')} acquires are always queued (${quick ? 100 : 1000} ms window; the workers still queued at the deadline finish their cycle inside the measured time).`,
      unit: perSecond('cycles/s'),
      rounds: quick ? 3 : 5,
      subject: 'core',
      contenders: contenders(waiters, quick ? 100 : 1000),
      goals: [{kind: 'faster', vs: 'tarn', factor: 20}],
    },
  ]
}
