import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import type pg from 'pg'

import {AcquireTimeoutError, BrokenCircuitError, CircuitBreaker} from '../../src/core/index.js'
import type {EmbeddedPostgresServer} from '../../src/embedded/embedded-postgres.js'
import {createPgPool} from '../../src/pg/index.js'
import {createTestDatabase, dropTestDatabase, startEmbeddedPostgres, uniqueName, withClient} from '../support/postgres.js'

let url: string
before(async () => {
  url = await createTestDatabase('pg_pool')
})
after(async () => {
  await dropTestDatabase(url)
})

/** Sessions the server sees for one application_name (every test uses its own). */
async function sessions(applicationName: string): Promise<number> {
  return withClient(url, async (client) => {
    const {rows} = await client.query<{n: number}>(
      'select count(*)::int as n from pg_stat_activity where application_name = $1 and pid <> pg_backend_pid()',
      [applicationName],
    )
    return rows[0].n
  })
}

function poolFor(applicationName: string, extra: Partial<Parameters<typeof createPgPool>[0]> = {}) {
  return createPgPool({client: {connectionString: url, application_name: applicationName}, max: 4, acquireTimeoutMs: 5000, ...extra})
}

describe('pg adapter against a real PostgreSQL', () => {
  it('runs real queries through at most max connections, and end() leaves no session behind', async () => {
    const name = uniqueName('poolctl_t_max')
    const pool = poolFor(name)
    const pids = new Set<number>()
    let peakSessions = 0
    await Promise.all(
      Array.from({length: 24}, (_, i) =>
        pool.withResource(async (client) => {
          const {rows} = await client.query<{pid: number; n: number}>('select pg_backend_pid() as pid, $1::int as n, pg_sleep(0.02)', [i])
          assert.equal(rows[0].n, i)
          pids.add(rows[0].pid)
          if (i % 6 === 0) peakSessions = Math.max(peakSessions, await sessions(name))
        }),
      ),
    )
    assert.ok(pids.size <= 4, `${pids.size} backends used`)
    assert.ok(peakSessions <= 4)
    assert.equal(await sessions(name), pool.stats().size)
    await pool.end()
    assert.equal(await sessions(name), 0, 'no session left after end()')
    const stats = pool.stats()
    assert.equal(stats.created, stats.destroyed)
  })

  it('sets application_name on every connection', async () => {
    const name = uniqueName('poolctl_t_app')
    const pool = poolFor(name)
    const shown = await pool.withResource(async (client) => (await client.query<{a: string}>("select current_setting('application_name') as a")).rows[0].a)
    assert.equal(shown, name)
    await pool.end()
  })

  it('a backend killed with pg_terminate_backend mid-query: the error surfaces, the client is replaced', async () => {
    const name = uniqueName('poolctl_t_kill')
    const pool = poolFor(name, {max: 1})
    const firstPid = await pool.withResource(async (client) => (await client.query<{pid: number}>('select pg_backend_pid() as pid')).rows[0].pid)
    // Observed from the start: its rejection must never be unhandled, even for a tick.
    const running = pool.withResource((client) => client.query('select pg_sleep(30)')).then(
      () => undefined,
      (error: unknown) => error,
    )
    // Wait until the sleep is really running on the server, then kill its backend.
    await waitFor(async () => (await activeQueries(name)).includes(firstPid))
    await withClient(url, (admin) => admin.query('select pg_terminate_backend($1)', [firstPid]))
    assert.equal(((await running) as {code?: string}).code, '57P01')
    const secondPid = await pool.withResource(async (client) => (await client.query<{pid: number}>('select pg_backend_pid() as pid')).rows[0].pid)
    assert.notEqual(secondPid, firstPid, 'a new backend serves the next task')
    assert.equal(pool.stats().destroyed, 1)
    await pool.end()
  })

  it('an idle client whose backend is killed is evicted without crashing the process', async () => {
    const name = uniqueName('poolctl_t_idle')
    const errors: unknown[] = []
    const pool = poolFor(name, {max: 2, onError: (error) => errors.push(error)})
    const pid = await pool.withResource(async (client) => (await client.query<{pid: number}>('select pg_backend_pid() as pid')).rows[0].pid)
    await withClient(url, (admin) => admin.query('select pg_terminate_backend($1)', [pid]))
    await waitFor(async () => pool.stats().size === 0)
    assert.ok(errors.some((error) => (error as {code?: string}).code === '57P01'), 'the idle error was reported, not thrown')
    const answer = await pool.withResource(async (client) => (await client.query<{one: number}>('select 1 as one')).rows[0].one)
    assert.equal(answer, 1)
    await pool.end()
  })

  it('the server stopped: acquire fails within acquireTimeoutMs and the breaker opens; server back: recovery', async () => {
    const server: EmbeddedPostgresServer = await startEmbeddedPostgres()
    const password = server.password
    const port = server.port
    const pool = createPgPool({
      client: {connectionString: server.url, application_name: 'poolctl_t_stop'},
      max: 2,
      acquireTimeoutMs: 1500,
      createRetries: 1,
    })
    const breaker = new CircuitBreaker({failureThreshold: 3, resetTimeoutMs: 200})
    const query = () => breaker.execute(() => pool.withResource((client: pg.Client) => client.query('select 1')))
    let restarted: EmbeddedPostgresServer | undefined
    try {
      await query()
      await server.stop()
      for (let i = 0; i < 3; i++) {
        const started = performance.now()
        await assert.rejects(query(), (error: Error & {code?: string}) => {
          // Either refused outright (fast) or timed out at the deadline: never a hang, never a crash.
          assert.ok(error instanceof AcquireTimeoutError || /ECONNREFUSED|terminat|Connection/i.test(`${error.code} ${error.message}`), String(error))
          return true
        })
        assert.ok(performance.now() - started < 1500 + 500, `failed within the deadline (${Math.round(performance.now() - started)} ms)`)
      }

      assert.equal(breaker.state, 'open')
      await assert.rejects(query(), BrokenCircuitError)
      restarted = await startEmbeddedPostgres({port, password})
      await new Promise((resolve) => setTimeout(resolve, 250)) // past resetTimeoutMs: half-open
      const {rows} = await query()
      assert.deepEqual(rows, [{'?column?': 1}])
      assert.equal(breaker.state, 'closed')
    } finally {
      await pool.end({timeoutMs: 2000})
      await restarted?.stop()
      await server.stop()
    }
  })

  it('a query on a client whose validation hangs past the deadline is never handed out', async () => {
    const name = uniqueName('poolctl_t_validate')
    const pool = poolFor(name, {max: 1, acquireTimeoutMs: 300, validationQuery: 'select pg_sleep(1)', validationBypassMs: 0})
    const client = await pool.acquire() // fresh: no validation
    pool.release(client)
    const started = performance.now()
    await assert.rejects(pool.acquire(), AcquireTimeoutError)
    assert.ok(performance.now() - started < 300 + 200)
    await waitFor(async () => pool.stats().validating === 0 && pool.stats().used === 0)
    await pool.end({timeoutMs: 2000})
    await waitFor(async () => (await sessions(name)) === 0)
  })
})

async function activeQueries(applicationName: string): Promise<number[]> {
  return withClient(url, async (client) => {
    const {rows} = await client.query<{pid: number}>(
      "select pid from pg_stat_activity where application_name = $1 and state = 'active' and pid <> pg_backend_pid()",
      [applicationName],
    )
    return rows.map((row) => row.pid)
  })
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
