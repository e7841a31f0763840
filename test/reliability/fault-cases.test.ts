/**
 * The named fault cases of shared/reference/reliability-cases.md that need a real server: the pg adapter
 * (createPgPool) against the embedded PostgreSQL behind an in-process fault proxy. Each test title starts
 * with its case name; scripts/reliability-report.mjs turns a run into docs/reliability.md.
 *
 * Durations are scaled down (deadlines ≤ 2 s) so the suite stays fast; the shape of each case is kept.
 */
import assert from 'node:assert/strict'
import {Socket} from 'node:net'
import {after, before, describe, it} from 'node:test'

import type pg from 'pg'

import {AcquireTimeoutError, type ConnectionPool, PoolEndedError, RetryPolicy} from '../../src/core/index.js'
import {type PgPoolOptions, createPgPool, isConnectionError} from '../../src/pg/index.js'
import {type Fault, FaultProxy} from '../support/fault-proxy.js'
import {freePort} from '../../src/embedded/embedded-postgres.js'
import {createTestDatabase, dropTestDatabase, uniqueName, withClient} from '../support/postgres.js'

let url: string
let target: {host: string; port: number}
const cleanups: (() => Promise<unknown>)[] = []

before(async () => {
  url = await createTestDatabase('reliability')
  const parsed = new URL(url)
  target = {host: parsed.hostname, port: Number(parsed.port)}
})
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
  await dropTestDatabase(url)
})

interface Setup {
  proxy: FaultProxy
  pool: ConnectionPool<pg.Client>
  name: string
}

/** A pool whose every connection goes through its own fault proxy, cleaned up after the file. */
async function setup(options: Partial<PgPoolOptions> = {}, clientExtra: pg.ClientConfig = {}): Promise<Setup> {
  const proxy = await FaultProxy.start(target)
  const name = uniqueName('rel')
  const pool = createPgPool({
    max: 4,
    acquireTimeoutMs: 1000,
    ...options,
    client: {connectionString: proxy.url(url), application_name: name, ...clientExtra},
  })
  cleanups.push(async () => {
    await pool.end({timeoutMs: 500})
    await proxy.close()
  })
  return {proxy, pool, name}
}

const pidOf = async (client: pg.Client) => (await client.query<{pid: number}>('select pg_backend_pid() as pid')).rows[0].pid
const one = (pool: ConnectionPool<pg.Client>) => pool.withResource(async (client) => (await client.query<{n: number}>('select 1 as n')).rows[0].n)

async function sessions(applicationName: string): Promise<number> {
  return withClient(url, async (client) => {
    const {rows} = await client.query<{n: number}>('select count(*)::int as n from pg_stat_activity where application_name = $1', [applicationName])
    return rows[0].n
  })
}

async function waitFor(condition: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Time a promise that must reject; returns [error, elapsed ms]. */
async function timeRejection(promise: Promise<unknown>): Promise<[Error & {code?: string}, number]> {
  const started = performance.now()
  try {
    await promise
  } catch (error) {
    return [error as Error & {code?: string}, performance.now() - started]
  }

  throw new Error('expected a rejection')
}

describe('reliability: fault cases against a real PostgreSQL behind a fault proxy', () => {
  it('blackhole_acquire: acquire rejects within timeout + 50 ms, 15 in a row, nothing left idle', async () => {
    const {proxy, pool} = await setup({acquireTimeoutMs: 100, createRetries: 0})
    await proxy.set({type: 'timeout'})
    for (let i = 0; i < 15; i++) {
      const [error, elapsed] = await timeRejection(pool.acquire())
      assert.ok(error instanceof AcquireTimeoutError, String(error))
      assert.ok(elapsed < 100 + 50, `attempt ${i + 1} took ${elapsed.toFixed(0)} ms`)
    }

    const stats = pool.stats()
    assert.equal(stats.idle, 0)
    assert.equal(stats.size, 0)
  })

  it('dns_stall (regression: node-postgres #3197): a connect stuck before TCP (a lookup that never returns) still rejects at the deadline', async () => {
    // pg's own connectionTimeoutMillis is off here and the socket never gets past "connecting". With
    // node-postgres #3197 (its timer not covering the lookup) this acquire would hang forever.
    const stalled = () => {
      const socket = new Socket()
      socket.connect = (() => socket) as never
      return socket
    }

    const {pool} = await setup({acquireTimeoutMs: 200, createRetries: 0}, {connectionTimeoutMillis: 0, stream: stalled} as pg.ClientConfig)
    const [error, elapsed] = await timeRejection(pool.acquire())
    assert.ok(error instanceof AcquireTimeoutError, String(error))
    assert.ok(elapsed < 200 + 50, `${elapsed.toFixed(0)} ms`)
    await waitFor(() => pool.stats().creating === 0) // its own create deadline fires right after
    assert.equal(pool.stats().size, 0, 'the stuck create was given up, nothing pooled')
  })

  it('late_connect_closed (regression: node-postgres #3543): a connection completing after its deadline is closed, not pooled; backends return to start', async () => {
    // With #3543 the late connection was never marked idle nor closed: `sessions(name)` would stay at 1.
    const {proxy, pool, name} = await setup({acquireTimeoutMs: 150, createRetries: 0})
    // The startup handshake needs several round trips: ≥ 1 s at 250 ms each way, far past the 150 ms
    // deadline even when a loaded machine fires timers late.
    await proxy.set({type: 'latency', ms: 250})
    await assert.rejects(pool.acquire(), AcquireTimeoutError)
    // If the create's deadline fired just before the waiter's (a busy machine can order the two timers
    // either way), the pool rightly started a fresh create for the still-waiting acquire: keep the slow
    // link until no create is in flight, so that one is late too rather than pooled over a fast link.
    await waitFor(() => pool.stats().creating === 0, 10_000)
    await proxy.set({type: 'none'})
    await waitFor(async () => (await sessions(name)) === 0, 10_000).catch((error: Error) => {
      throw new Error(`${error.message}: sessions still open; pool ${JSON.stringify(pool.stats())}`)
    })
    assert.equal(pool.stats().size, 0, 'nothing pooled')
    assert.equal(pool.stats().created, pool.stats().destroyed)
  })

  it('refused_fast: a closed port fails well before the timeout, and queued waiters are rejected too', async () => {
    const port = await freePort()
    const pool = createPgPool({client: {host: '127.0.0.1', port, user: 'nobody', database: 'none'}, max: 2, acquireTimeoutMs: 5000, createRetries: 1})
    cleanups.push(() => pool.end())
    const started = performance.now()
    const outcomes = await Promise.allSettled([pool.acquire(), pool.acquire(), pool.acquire(), pool.acquire()])
    const elapsed = performance.now() - started
    assert.ok(outcomes.every((o) => o.status === 'rejected' && (o.reason as {code?: string}).code === 'ECONNREFUSED'))
    assert.ok(elapsed < 1000, `all four rejected in ${elapsed.toFixed(0)} ms, not at the 5 s deadline`)
  })

  it('reset_on_accept: direct and queued acquires get ECONNRESET', async () => {
    const {proxy, pool} = await setup({max: 1, createRetries: 0, acquireTimeoutMs: 2000})
    await proxy.set({type: 'reset_peer'})
    const outcomes = await Promise.allSettled([pool.acquire(), pool.acquire()])
    for (const outcome of outcomes) {
      assert.equal(outcome.status, 'rejected')
      assert.equal((outcome as PromiseRejectedResult).reason.code, 'ECONNRESET')
    }
  })

  it('create_fail_then_recover: the first creates fail, then the pool serves again', async () => {
    const {proxy, pool} = await setup({createRetries: 0})
    await proxy.set({type: 'down'})
    for (let i = 0; i < 3; i++) await assert.rejects(one(pool), /ECONNREFUSED/)
    await proxy.set({type: 'none'})
    assert.equal(await one(pool), 1)
    assert.equal(pool.stats().createErrors, 3)
  })

  it('max_never_exceeded: 20 concurrent acquirers, max 4 → exactly 4 connects', async () => {
    const {proxy, pool, name} = await setup({max: 4, acquireTimeoutMs: 5000})
    let peak = 0
    await Promise.all(
      Array.from({length: 20}, () =>
        pool.withResource(async (client) => {
          await client.query('select pg_sleep(0.02)')
          peak = Math.max(peak, proxy.openConnections)
        }),
      ),
    )
    assert.equal(proxy.accepted, 4)
    assert.ok(peak <= 4)
    assert.equal(await sessions(name), 4)
  })

  it('saturation_recovery: 50 workers on max 10 with slow queries time out; once load drops, timeouts stop', async () => {
    // Scaled: 200 ms queries and a 300 ms deadline stand in for 1 s queries.
    const {pool} = await setup({max: 10, acquireTimeoutMs: 300})
    const work = () => pool.withResource((client) => client.query('select pg_sleep(0.2)'))
    const saturated = await Promise.allSettled(Array.from({length: 50}, work))
    const saturatedTimeouts = saturated.filter((o) => o.status === 'rejected' && o.reason instanceof AcquireTimeoutError).length
    assert.ok(saturatedTimeouts > 0, 'saturation caused timeouts')
    const before = pool.stats().timeouts
    for (let round = 0; round < 3; round++) {
      const calm = await Promise.allSettled(Array.from({length: 5}, work))
      assert.ok(calm.every((o) => o.status === 'fulfilled'))
    }

    assert.equal(pool.stats().timeouts, before, 'no timeout after the load dropped')
  })

  it('idle_error_evicted: an idle client whose backend dies is evicted; the process never crashes', async () => {
    const errors: unknown[] = []
    const {pool} = await setup({onError: (error) => errors.push(error)})
    const pid = await pool.withResource(pidOf)
    await withClient(url, (admin) => admin.query('select pg_terminate_backend($1)', [pid]))
    await waitFor(() => pool.stats().size === 0)
    assert.ok(errors.length > 0, 'the error went to onError')
    assert.notEqual(await pool.withResource(pidOf), pid)
  })

  it('checked_out_error_no_crash: an error on a borrowed client with no listener of ours does not crash; it is destroyed on release', async () => {
    const {pool} = await setup()
    const client = await pool.acquire()
    const pid = await pidOf(client)
    await withClient(url, (admin) => admin.query('select pg_terminate_backend($1)', [pid]))
    await new Promise((resolve) => setTimeout(resolve, 100)) // the error event fires while borrowed
    pool.release(client)
    assert.equal(pool.stats().size, 0, 'destroyed on release, not pooled')
    assert.notEqual(await pool.withResource(pidOf), pid)
  })

  it('release_semantics: release(err) destroys; double release throws; an unknown client is ignored', async () => {
    const {pool} = await setup()
    const client = await pool.acquire()
    const pid = await pidOf(client)
    pool.release(client, new Error('caller says broken'))
    assert.doesNotThrow(() => pool.release(client), 'destroyed, so no longer known: ignored')
    const again = await pool.acquire()
    assert.notEqual(await pidOf(again), pid)
    pool.release(again)
    assert.throws(() => pool.release(again), (error: {code?: string}) => error.code === 'POOL_DOUBLE_RELEASE')
  })

  it('terminate_all_backends: after pg_terminate_backend on every pool pid, the next 2×max queries succeed within 5 s', async () => {
    const {pool, name} = await setup({max: 4, acquireTimeoutMs: 5000})
    // Hold all four at once: with a plain burst, a busy machine can finish one query before the fourth
    // acquire, which then reuses that client and the pool opens only three.
    let holding = 0
    let allHeld!: () => void
    const everyoneHolds = new Promise<void>((resolve) => (allHeld = resolve))
    await Promise.all(
      Array.from({length: 4}, () =>
        pool.withResource(async (c) => {
          await c.query('select 1')
          if (++holding === 4) allHeld()
          await everyoneHolds
        }),
      ),
    )
    assert.equal(pool.stats().idle, 4)
    await withClient(url, (admin) => admin.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [name]))
    // A client can be handed out before its death notice is read; its query then fails once with 57P01
    // (nobody can know whether it ran), the client is evicted, and the caller's retry policy recovers.
    let failures = 0
    const policy = new RetryPolicy({retries: 3, minDelayMs: 10, shouldRetry: (error) => isConnectionError(error) && ++failures > 0})
    const started = performance.now()
    const results = await Promise.all(Array.from({length: 8}, () => policy.execute(() => one(pool))))
    assert.deepEqual(results, [1, 1, 1, 1, 1, 1, 1, 1])
    assert.ok(performance.now() - started < 5000)
    assert.ok(failures <= 4, `each dead client failed at most once (${failures} failures for 4 dead clients)`)
  })

  it('query_timeout_evicts (regression: node-postgres #3399): a query on a black-holed connection times out and that client is never reused', async () => {
    const {proxy, pool} = await setup({max: 1}, {query_timeout: 200} as pg.ClientConfig)
    const firstPid = await pool.withResource(pidOf)
    await proxy.set({type: 'timeout'})
    await assert.rejects(one(pool), /Query read timeout/)
    await proxy.set({type: 'none'})
    const nextPid = await pool.withResource(pidOf)
    assert.notEqual(nextPid, firstPid, 'node-postgres #3399: the timed-out client went back to the pool and hung every later query')
  })

  it('db_down_then_up: while down, errors come within the deadline; the first acquire after restore works', async () => {
    const {proxy, pool} = await setup({acquireTimeoutMs: 400, createRetries: 1})
    assert.equal(await one(pool), 1)
    await proxy.set({type: 'down'})
    const downUntil = Date.now() + 1000
    while (Date.now() < downUntil) {
      const [, elapsed] = await timeRejection(one(pool))
      assert.ok(elapsed < 400 + 100, `error after ${elapsed.toFixed(0)} ms`)
    }

    await proxy.set({type: 'none'})
    assert.equal(await one(pool), 1)
  })

  it('validation_hangs: a black-holed validation still fails the acquire at its deadline', async () => {
    const {proxy, pool} = await setup({max: 1, acquireTimeoutMs: 300, validationBypassMs: 0})
    assert.equal(await one(pool), 1)
    await proxy.set({type: 'timeout'})
    const [error, elapsed] = await timeRejection(pool.acquire())
    assert.ok(error instanceof AcquireTimeoutError)
    assert.ok(elapsed < 300 + 50, `${elapsed.toFixed(0)} ms`)
    await proxy.set({type: 'none'})
    await waitFor(() => pool.stats().validating === 0)
    assert.equal(await one(pool), 1, 'the pool serves again with a fresh client')
  })

  it('slow_close_nonblocking: a 2 s close does not delay acquire', async () => {
    const {proxy, pool} = await setup({max: 1, acquireTimeoutMs: 1000})
    const client = await pool.acquire()
    await proxy.set({type: 'slow_close', delayMs: 2000})
    pool.release(client, new Error('discard it'))
    const started = performance.now()
    assert.equal(await one(pool), 1)
    assert.ok(performance.now() - started < 500, `acquire waited ${(performance.now() - started).toFixed(0)} ms`)
  })

  for (const [label, fault] of [
    ['200 ms ± 50 ms latency', {type: 'latency', ms: 200, jitterMs: 50}],
    ['1-byte slices', {type: 'slicer', sliceBytes: 1}],
    ['a 64 KiB/s link', {type: 'bandwidth', bytesPerSecond: 64 * 1024}],
  ] as [string, Fault][]) {
    it(`latency_slicer_bandwidth: ${label}: correct results, no false timeouts`, async () => {
      const {proxy, pool} = await setup({max: 2, acquireTimeoutMs: 2000})
      await proxy.set(fault)
      const rows = await pool.withResource(async (client) => (await client.query<{s: string}>("select string_agg(g::text, ',') as s from generate_series(1, 500) g")).rows)
      assert.equal(rows[0].s.split(',').length, 500)
      assert.equal(rows[0].s.split(',')[499], '500')
      assert.equal(pool.stats().timeouts, 0)
    })
  }

  it('limit_data_midresult: a connection cut mid-result gives a typed error and evicts the client', async () => {
    const {proxy, pool} = await setup({max: 1})
    const firstPid = await pool.withResource(pidOf)
    await proxy.set({type: 'limit_data', bytes: 2000})
    const [error] = await timeRejection(pool.withResource((client) => client.query('select repeat(md5(g::text), 20) from generate_series(1, 2000) g')))
    assert.ok(error instanceof Error && !(error instanceof AcquireTimeoutError), String(error))
    await proxy.set({type: 'none'})
    assert.notEqual(await pool.withResource(pidOf), firstPid, 'the cut client was not reused')
  })

  it('end_semantics: end() lets 20 of 20 checked-out queries finish and rejects acquire at once afterwards', async () => {
    const {pool, name} = await setup({max: 20, acquireTimeoutMs: 5000})
    const clients = await Promise.all(Array.from({length: 20}, () => pool.acquire()))
    const queries = clients.map((client) => client.query('select pg_sleep(0.05)').then(() => pool.release(client)))
    const ended = pool.end()
    const [error, elapsed] = await timeRejection(pool.acquire())
    assert.ok(error instanceof PoolEndedError)
    assert.ok(elapsed < 50)
    await Promise.all(queries)
    await ended
    assert.equal(await sessions(name), 0)
  })
})
