/**
 * `poolctl inspect` against the shared test server with sessions in known states: idle, active
 * (pg_sleep), idle in transaction, and a two-level lock chain (worker → waiter → blocker). Every
 * application_name is unique to this run so parallel test files do not interfere; assertions look
 * only at those.
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import type {Client} from 'pg'

import {runCli} from '../support/cli.js'
import {createTestDatabase, dropTestDatabase, uniqueName, withClient} from '../support/postgres.js'
import {closeAll, group, inspectJson, openSession, startQuery, waitUntil} from './support.js'

// Short thresholds so the sessions qualify within a fraction of a second (bare number = seconds).
const FAST = ['--long-query', '0.2', '--idle-in-transaction', '0.2', '--lock-wait', '0.2', '--warn', '99', '--crit', '100']

describe('poolctl inspect: sessions in known states', () => {
  let url: string
  const clients: Client[] = []
  const app = {
    active: uniqueName('insp_active'),
    blocker: uniqueName('insp_blocker'),
    idle: uniqueName('insp_idle'),
    idleTx: uniqueName('insp_idletx'),
    waiter: uniqueName('insp_waiter'),
    worker: uniqueName('insp_worker'),
  }
  const pid: Record<string, number> = {}

  before(async () => {
    url = await createTestDatabase('inspect_sessions')
    await withClient(url, (client) => client.query('create table accounts (id int primary key, balance int); insert into accounts values (1, 0), (2, 0)'))
    const open = async (name: keyof typeof app) => {
      const client = await openSession(url, app[name])
      clients.push(client)
      pid[name] = (await client.query<{pid: number}>('select pg_backend_pid() as pid')).rows[0].pid
      return client
    }
    await open('idle')
    clients.push(await openSession(url, app.idle)) // a second idle session of the same app
    startQuery(await open('active'), 'select pg_sleep(120)')
    const idleTx = await open('idleTx')
    await idleTx.query('begin')
    await idleTx.query('select count(*) from accounts')
    const blocker = await open('blocker')
    await blocker.query('begin')
    await blocker.query('select * from accounts where id = 1 for update')
    const waiter = await open('waiter')
    await waiter.query('begin')
    await waiter.query('update accounts set balance = balance + 1 where id = 2')
    startQuery(waiter, 'update accounts set balance = balance + 1 where id = 1') // waits for blocker
    startQuery(await open('worker'), 'update accounts set balance = balance + 1 where id = 2') // waits for waiter
    await withClient(url, async (admin) => {
      await waitUntil('both updates wait on a lock and every session is 250 ms into its state', async () => {
        const {rows} = await admin.query<{waiting: number; young: number}>(
          `select count(*) filter (where wait_event_type = 'Lock')::int as waiting,
                  count(*) filter (where now() - state_change < interval '250 ms')::int as young
             from pg_stat_activity where application_name = any($1)`,
          [Object.values(app)],
        )
        return rows[0].waiting === 2 && rows[0].young === 0
      })
    })
  })

  after(async () => {
    await closeAll(clients)
    await dropTestDatabase(url)
  })

  it('counts sessions by state and application, and totals add up', async () => {
    const {report, result} = await inspectJson(['--url', url, ...FAST])
    assert.equal(report.kind, 'postgres')
    assert.deepEqual(
      {idle: group(report, app.idle)?.idle, total: group(report, app.idle)?.total},
      {idle: 2, total: 2},
    )
    assert.equal(group(report, app.active)?.active, 1)
    assert.equal(group(report, app.idleTx)?.idleInTransaction, 1)
    assert.equal(group(report, app.blocker)?.idleInTransaction, 1)
    assert.equal(group(report, app.waiter)?.active, 1)
    assert.equal(group(report, app.worker)?.active, 1)
    const byState = report.totals.byState
    const sum = byState.active + byState.idle + byState.idleInTransaction + byState.idleInTransactionAborted + byState.other + byState.hidden
    assert.equal(sum, report.totals.clientConnections)
    assert.equal(report.byUser.reduce((n, item) => n + item.total, 0), report.totals.clientConnections)
    assert.ok(report.totals.clientConnections >= 7)
    // poolctl's own session is never counted. Another test file's poolctl may be connected to the shared
    // server at that moment (seen once in CI), so look again until a run sees none: its own session is
    // in every run, so an inspect that counted itself would never get there.
    let seen = report.byApplication
    await waitUntil('an inspect run that counts no poolctl session', async () => {
      if (!seen.some((item) => item.name.startsWith('poolctl'))) return true
      seen = (await inspectJson(['--url', url, ...FAST])).report.byApplication
      return false
    }, 10_000).catch((error: Error) => assert.fail(`${error.message}: ${JSON.stringify(seen)}`))
    assert.equal(report.server.usableConnections, report.server.maxConnections - report.server.superuserReservedConnections - report.server.reservedConnections)
    assert.equal(result.code, 1, result.stderr)
    assert.equal(report.status, 'warning')
  })

  it('names the blocker chain and the root blocker', async () => {
    const {report} = await inspectJson(['--url', url, ...FAST])
    const worker = report.lockWaits.find((wait) => wait.pid === pid.worker)
    const waiter = report.lockWaits.find((wait) => wait.pid === pid.waiter)
    assert.ok(worker && waiter, JSON.stringify(report.lockWaits))
    assert.deepEqual(worker.blockedBy, [pid.waiter])
    assert.deepEqual(worker.chain, [pid.worker, pid.waiter, pid.blocker])
    assert.deepEqual(waiter.chain, [pid.waiter, pid.blocker])
    assert.deepEqual(worker.rootBlockerPids, [pid.blocker])
    assert.equal(worker.rootBlocker.pid, pid.blocker)
    assert.equal(worker.rootBlocker.applicationName, app.blocker)
    assert.equal(worker.rootBlocker.state, 'idle in transaction')
    assert.match(worker.rootBlocker.query ?? '', /for update/)
    assert.ok(worker.waitSeconds >= 0.2)
    // Stuck behind a lock is reported once, as a lock wait, not also as a long query.
    assert.ok(!report.longQueries.some((item) => item.pid === pid.worker || item.pid === pid.waiter))
  })

  it('reports long queries, idle-in-transaction sessions and the oldest transaction', async () => {
    const {report} = await inspectJson(['--url', url, ...FAST])
    const long = report.longQueries.find((item) => item.pid === pid.active)
    assert.ok(long, JSON.stringify(report.longQueries))
    assert.equal(long.applicationName, app.active)
    assert.match(long.query ?? '', /pg_sleep\(120\)/)
    const idle = report.idleInTransaction.map((item) => item.pid)
    assert.ok(idle.includes(pid.idleTx) && idle.includes(pid.blocker), JSON.stringify(idle))
    assert.ok(report.idleInTransaction.every((item) => item.ageSeconds >= 0.2))
    assert.ok(report.oldestTransaction !== null && report.oldestTransaction.ageSeconds > 0)
  })

  it('turns every problem into a finding, most severe first', async () => {
    const {report} = await inspectJson(['--url', url, ...FAST])
    const byCode = new Map(report.findings.map((item) => [item.code, item]))
    for (const code of ['LONG_QUERIES', 'IDLE_IN_TRANSACTION', 'LOCK_WAITS']) assert.ok(byCode.has(code), `missing ${code}`)
    const lock = report.findings.find((item) => item.code === 'LOCK_WAITS' && item.pids[0] === pid.blocker)
    assert.ok(lock, JSON.stringify(report.findings))
    assert.equal(lock.severity, 'warning')
    assert.ok(lock.pids.includes(pid.worker) && lock.pids.includes(pid.waiter))
    assert.ok(byCode.get('LONG_QUERIES')!.pids.includes(pid.active))
    const ranks = report.findings.map((item) => ({critical: 2, info: 0, warning: 1})[item.severity])
    assert.deepEqual(ranks, [...ranks].sort((a, b) => b - a))
  })

  it('with default thresholds the young sessions are not problems', async () => {
    const {report} = await inspectJson(['--url', url, '--warn', '99', '--crit', '100'])
    assert.ok(!report.longQueries.some((item) => item.pid === pid.active))
    assert.ok(!report.lockWaits.some((item) => item.pid === pid.worker))
    assert.deepEqual(report.thresholds, {critPercent: 100, idleInTransactionSeconds: 30, lockWaitSeconds: 10, longQuerySeconds: 60, warnPercent: 99})
  })

  it('--json carries the documented keys; --format json is the same document', async () => {
    const {report} = await inspectJson(['--url', url, ...FAST])
    for (const key of ['schemaVersion', 'kind', 'target', 'takenAt', 'status', 'server', 'role', 'thresholds', 'totals', 'byApplication', 'byUser', 'byDatabase', 'byClientAddress', 'longQueries', 'idleInTransaction', 'lockWaits', 'oldestTransaction', 'pool', 'findings']) {
      assert.ok(key in report, `missing ${key}`)
    }
    assert.equal(typeof report.server.maxConnections, 'number')
    assert.equal(typeof report.server.usableConnections, 'number')
    assert.deepEqual(Object.keys(report.totals.byState).sort(), ['active', 'hidden', 'idle', 'idleInTransaction', 'idleInTransactionAborted', 'other'])
    const viaFormat = await runCli(['inspect', '--format', 'json', '--url', url, ...FAST])
    assert.equal(viaFormat.code, 1, viaFormat.stderr)
    assert.deepEqual(Object.keys(JSON.parse(viaFormat.stdout) as object), Object.keys(report))
  })

  it('prints human tables by default, with the status first and the findings last', async () => {
    const result = await runCli(['inspect', '--url', url, ...FAST])
    assert.equal(result.code, 1, result.stderr)
    const lines = result.stdout.trimEnd().split('\n')
    assert.match(lines[0], /^poolctl inspect postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/inspect_sessions_\w+ · PostgreSQL \d+/)
    assert.match(lines[0], /status WARNING$/)
    assert.match(result.stdout, new RegExp(`${app.blocker}.*idle in transaction`))
    assert.match(result.stdout, new RegExp(`${pid.worker} → ${pid.waiter} → ${pid.blocker}`))
    assert.match(result.stdout, /\nFindings\n {2}WARNING /)
    assert.equal(result.stderr, '')
  })
})
