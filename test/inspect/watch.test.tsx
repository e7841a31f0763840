/**
 * --watch in its three layers: the state model (no React), the ink components (ink-testing-library,
 * props only), and the facade: plain text when not a terminal (in-process and through the real CLI),
 * ink in a real pseudo-terminal (util-linux `script`), `q` quitting cleanly.
 */
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {PassThrough} from 'node:stream'
import {after, before, describe, it} from 'node:test'

import {render} from 'ink-testing-library'

import {WatchApp, WatchScreen} from '../../src/inspect/watch/components.js'
import {runWatch} from '../../src/inspect/watch/facade.js'
import {RefreshLoop, type RefreshResult} from '../../src/inspect/watch/loop.js'
import {HISTORY_LENGTH, initialWatchState, isStale, withError, withReport} from '../../src/inspect/watch/state.js'
import type {PgBouncerReport, PostgresReport} from '../../src/inspect/types.js'
import {BIN, cliEnv, HAS_SCRIPT, PROJECT_ROOT, spawnOnTerminal, typeOnceShown} from '../support/cli.js'
import {createTestDatabase, dropTestDatabase, withClient} from '../support/postgres.js'
import {ESCAPE} from './support.js'

function postgresReport(overrides: Partial<PostgresReport> = {}): PostgresReport {
  return {
    byApplication: [
      {active: 2, hidden: 0, idle: 40, idleInTransaction: 1, idleInTransactionAborted: 0, name: 'orders-api', other: 0, total: 43},
      {active: 1, hidden: 0, idle: 0, idleInTransaction: 0, idleInTransactionAborted: 0, name: '', other: 0, total: 1},
    ],
    byClientAddress: [],
    byDatabase: [],
    byUser: [],
    findings: [{code: 'LOCK_WAITS', message: '1 session waiting longer than 10s for a lock; root blocker pid 7', pids: [7, 8], severity: 'warning'}],
    idleInTransaction: [],
    kind: 'postgres',
    lockWaits: [],
    longQueries: [],
    oldestTransaction: null,
    pool: null,
    role: {canReadAllStats: true, database: 'app', grant: null, hiddenSessions: 0, superuser: false, user: 'monitor'},
    schemaVersion: 1,
    server: {maxConnections: 100, reservedConnections: 0, superuserReservedConnections: 3, timeouts: {idleInTransactionSessionTimeoutMs: 0, idleSessionTimeoutMs: 0, statementTimeoutMs: 0}, usableConnections: 97, version: '17.2', versionNum: 170_002},
    status: 'warning',
    takenAt: '2026-01-01T00:00:00.000Z',
    target: 'postgres://monitor:***@db:5432/app',
    thresholds: {critPercent: 95, idleInTransactionSeconds: 30, lockWaitSeconds: 10, longQuerySeconds: 60, warnPercent: 80},
    totals: {byState: {active: 3, hidden: 0, idle: 40, idleInTransaction: 1, idleInTransactionAborted: 0, other: 0}, clientConnections: 44, databaseBackends: 44, freeSlots: 53, slotsUsed: 44, usedPercent: 45.4, walSenders: 0},
    ...overrides,
  }
}

function pgbouncerReport(): PgBouncerReport {
  return {
    databases: [],
    findings: [],
    kind: 'pgbouncer',
    maxClientConnections: 100,
    pools: [{clientsActive: 2, clientsWaiting: 3, database: 'app', maxWaitSeconds: 4, poolMode: 'transaction', poolSize: 2, serverConnections: 2, serversActive: 2, serversIdle: 0, serversLogin: 0, serversTested: 0, serversUsed: 0, user: 'app'}],
    schemaVersion: 1,
    status: 'ok',
    takenAt: '2026-01-01T00:00:00.000Z',
    target: 'postgres://admin:***@bouncer:6432/pgbouncer',
    thresholds: {critPercent: 95, idleInTransactionSeconds: 30, lockWaitSeconds: 10, longQuerySeconds: 60, warnPercent: 80},
    totals: {clientUsedPercent: 5, clients: 5, clientsWaiting: 3, serverConnections: 2},
    version: 'PgBouncer 1.18.0',
  }
}

const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, seconds))

describe('watch state model', () => {
  it('a report counts a refresh, clears the error and extends the bounded history', () => {
    let state = initialWatchState({intervalSeconds: 2, target: 't'})
    assert.equal(state.report, undefined)
    state = withError(withReport(state, postgresReport(), at(0)), 'connection reset', at(2))
    assert.equal(state.error, 'connection reset')
    assert.equal(state.report?.kind, 'postgres') // the last good snapshot stays on screen
    assert.equal(isStale(state, at(5)), true)
    assert.equal(isStale(state, at(3)), false)
    state = withReport(state, postgresReport(), at(4))
    assert.deepEqual([state.error, state.refreshes], [undefined, 2])
    for (let i = 0; i < HISTORY_LENGTH + 5; i++) state = withReport(state, postgresReport(), at(i))
    assert.equal(state.history.length, HISTORY_LENGTH)
    assert.equal(state.history.at(-1), 45.4)
  })
})

describe('refresh loop', () => {
  it('never overlaps refreshes, reports failures as results, and stop() waits for the one in flight', async () => {
    let running = 0
    let maxRunning = 0
    let calls = 0
    const results: RefreshResult<number>[] = []
    let reachedFour: () => void = () => undefined
    const four = new Promise<void>((resolve) => {
      reachedFour = resolve
    })
    const loop = new RefreshLoop<number>({
      intervalMs: 1,
      onResult(result) {
        results.push(result)
        if (results.length === 4) reachedFour()
      },
      async refresh() {
        running++
        maxRunning = Math.max(maxRunning, running)
        calls++
        await new Promise((resolve) => setImmediate(resolve))
        running--
        if (calls === 2) throw new Error('boom')
        return calls
      },
    })
    loop.start()
    await four
    await loop.stop()
    const settled = calls
    await new Promise((resolve) => setTimeout(resolve, 20))
    assert.equal(calls, settled, 'no refresh after stop()')
    assert.equal(maxRunning, 1)
    assert.equal(running, 0)
    assert.deepEqual(results.slice(0, 3).map((result) => result.ok), [true, false, true])
    assert.throws(() => new RefreshLoop({intervalMs: 0, onResult() {}, refresh: async () => 1}), /intervalMs/)
  })
})

describe('watch components (ink-testing-library)', () => {
  it('shows utilisation against usable slots, the state breakdown, top applications and problems', () => {
    const state = withReport(initialWatchState({intervalSeconds: 2, target: 'postgres://monitor:***@db:5432/app'}), postgresReport(), at(3))
    const {lastFrame, unmount} = render(<WatchScreen state={state} />)
    const frame = lastFrame() ?? ''
    unmount()
    assert.match(frame, /poolctl inspect postgres:\/\/monitor:\*\*\*@db:5432\/app PostgreSQL 17\.2/)
    assert.match(frame, /WARNING/)
    assert.match(frame, /refreshed 12:00:03Z · every 2 s · q to quit/)
    assert.match(frame, /Connections +█+░+ 44 \/ 97 \(45\.4 %\)/)
    assert.match(frame, /usable = max_connections 100 − superuser reserved 3 − reserved 0/)
    assert.match(frame, /By state +active 3 · idle 40 · idle in tx 1 · aborted 0 · other 0 · hidden 0/)
    assert.match(frame, /orders-api +43 +active 2 · idle 40 · idle in tx 1/)
    assert.match(frame, /\(none\) +1/)
    assert.match(frame, /WARNING +LOCK_WAITS: 1 session waiting/)
  })

  it('keeps the last snapshot and shows why a refresh failed', () => {
    const state = withError(withReport(initialWatchState({intervalSeconds: 2, target: 't'}), postgresReport({findings: []}), at(1)), 'connection terminated', at(9))
    const {lastFrame, unmount} = render(<WatchScreen state={state} />)
    const frame = lastFrame() ?? ''
    unmount()
    assert.match(frame, /refresh failed at 12:00:09Z: connection terminated \(showing the snapshot of 12:00:01Z\)/)
    assert.match(frame, /none: all within thresholds/)
  })

  it('draws PgBouncer pools with their waiting clients', () => {
    const state = withReport(initialWatchState({intervalSeconds: 5, target: 't'}), pgbouncerReport(), at(0))
    const {lastFrame, unmount} = render(<WatchScreen state={state} />)
    const frame = lastFrame() ?? ''
    unmount()
    assert.match(frame, /PgBouncer 1\.18\.0/)
    assert.match(frame, /Clients +█*░+ 5 \/ 100/)
    assert.match(frame, /app\/app +clients 2 active, 3 waiting \(longest 4s\)/)
  })

  it('q calls onQuit', async () => {
    let quits = 0
    const state = withReport(initialWatchState({intervalSeconds: 2, target: 't'}), postgresReport(), at(0))
    const {stdin, unmount} = render(<WatchApp onQuit={() => quits++} state={state} />)
    await new Promise((resolve) => setImmediate(resolve))
    stdin.write('x')
    stdin.write('q')
    await new Promise((resolve) => setImmediate(resolve))
    unmount()
    assert.equal(quits, 1)
  })
})

function collect(stream: PassThrough): () => string {
  let text = ''
  stream.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk
  })
  return () => text
}

describe('watch facade', () => {
  it('not a terminal: one plain snapshot per refresh, failures on stderr, stops on abort', async () => {
    const stdout = new PassThrough()
    const stderr = new PassThrough()
    const out = collect(stdout)
    const err = collect(stderr)
    const controller = new AbortController()
    let calls = 0
    const state = await runWatch({
      intervalSeconds: 0.001,
      async refresh() {
        calls++
        if (calls === 2) throw new Error('server closed the connection unexpectedly')
        if (calls === 4) controller.abort()
        return postgresReport()
      },
      signal: controller.signal,
      signals: [],
      streams: {stderr, stdin: new PassThrough(), stdout},
      target: 't',
    })
    assert.equal(state.refreshes, 3)
    const headers = out().split('\n').filter((line) => /^── \d{4}-\d\d-\d\dT.* · refresh \d+ · every 0\.001 s · Ctrl-C to stop$/.test(line))
    assert.equal(headers.length, 3)
    assert.match(out(), /Client connections by state/)
    assert.equal(err(), 'poolctl: warning: refresh failed: server closed the connection unexpectedly (retrying every 0.001 s)\n')
    assert.ok(!ESCAPE.test(out() + err()))
  })

  it('a first snapshot that fails is the error of the command', async () => {
    await assert.rejects(
      runWatch({intervalSeconds: 1, refresh: async () => Promise.reject(new Error('connection refused')), signals: [], streams: {stderr: new PassThrough(), stdin: new PassThrough(), stdout: new PassThrough()}, target: 't'}),
      /connection refused/,
    )
  })
})

describe('poolctl inspect --watch (real CLI)', () => {
  let url: string
  let database: string

  before(async () => {
    url = await createTestDatabase('inspect_watch')
    database = decodeURIComponent(new URL(url).pathname.slice(1))
  })
  after(async () => {
    await dropTestDatabase(url)
  })

  const inspectSessions = () =>
    withClient(url, async (client) => {
      const {rows} = await client.query<{n: number}>(`select count(*)::int as n from pg_stat_activity where datname = $1 and application_name = 'poolctl-inspect'`, [database])
      return rows[0].n
    })

  it('piped: plain snapshots, no escape codes; SIGINT exits 0 and closes its one connection', async (t) => {
    const child = spawn(process.execPath, [BIN, 'inspect', '--watch', '--interval', '1', '--url', url], {cwd: PROJECT_ROOT, env: cliEnv(), stdio: ['pipe', 'pipe', 'pipe']})
    // A hang fails this test in 30 s with what was printed, instead of the runner's 120 s cancel.
    const deadline = setTimeout(() => child.kill('SIGKILL'), 30_000)
    t.after(() => clearTimeout(deadline))
    let stdout = ''
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    const twoSnapshots = new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk
        if ((stdout.match(/^── .* · refresh \d+ ·/gm) ?? []).length >= 2) resolve()
      })
      child.on('exit', () => reject(new Error(`exited early: ${stderr}`)))
    })
    await twoSnapshots
    assert.equal(await inspectSessions(), 1, 'one connection, reused')
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    child.kill('SIGINT')
    assert.equal(await exited, 0, stderr)
    assert.ok(!ESCAPE.test(stdout + stderr))
    assert.match(stdout, /refresh 2 · every 1 s/)
    assert.equal(await inspectSessions(), 0)
  })

  it('in a terminal: ink redraws in place and q quits cleanly', async (t) => {
    if (!HAS_SCRIPT) {
      t.skip('util-linux `script` not installed: no pseudo-terminal to run ink in')
      return
    }
    const child = spawnOnTerminal(['inspect', '--watch', '--url', url])
    const deadline = setTimeout(() => child.kill('SIGKILL'), 30_000)
    t.after(() => clearTimeout(deadline))
    const {code, output} = await typeOnceShown(child, (text) => text.includes('q to quit') && text.includes('Top applications'), ['q'])
    assert.equal(code, 0, output)
    assert.ok(ESCAPE.test(output), 'ink draws with escape codes in a terminal')
    assert.match(output, /Connections/)
    assert.equal(await inspectSessions(), 0)
  })
})
