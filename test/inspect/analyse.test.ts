/**
 * The snapshot → report step without a server: classification, blocker graphs, version branches,
 * the app-pool comparison, status and exit codes.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {analysePostgres} from '../../src/inspect/analyse.js'
import {exitCodeForStatus} from '../../src/inspect/findings.js'
import {resolveThresholds} from '../../src/inspect/options.js'
import type {AppPool} from '../../src/inspect/pool.js'
import {connectionOptions} from '../../src/inspect/pool.js'
import type {ActivityRow, BlockerRow, ServerRow} from '../../src/inspect/queries.js'
import type {PostgresSnapshot} from '../../src/inspect/snapshot.js'
import {KNEX_POOL_DEFAULTS} from '../../src/knex/knexfile.js'

function server(overrides: Partial<ServerRow> = {}): ServerRow {
  return {
    backend_pid: 1,
    can_read_all_stats: true,
    current_database: 'app',
    current_user: 'monitor',
    idle_in_transaction_session_timeout: '0',
    idle_session_timeout: '0',
    max_connections: 100,
    numbackends: 1,
    reserved_connections: '0',
    server_version: '17.2',
    server_version_num: 170_002,
    statement_timeout: '0',
    superuser: false,
    superuser_reserved_connections: 3,
    taken_at: new Date('2026-01-01T00:00:00Z'),
    ...overrides,
  }
}

let nextPid = 100
function session(overrides: Partial<ActivityRow> = {}): ActivityRow {
  return {
    application_name: 'api',
    backend_type: 'client backend',
    client_addr: '10.0.0.1',
    client_port: 5000,
    datname: 'app',
    pid: nextPid++,
    query: 'select 1',
    query_age: 0.01,
    state: 'idle',
    state_age: 0.01,
    usename: 'app',
    wait_event: null,
    wait_event_type: null,
    xact_age: null,
    ...overrides,
  }
}

function hidden(overrides: Partial<ActivityRow> = {}): ActivityRow {
  return session({backend_type: null, client_addr: null, client_port: null, query: '<insufficient privilege>', query_age: null, state: null, state_age: null, ...overrides})
}

function snapshot(activity: ActivityRow[], blockers: BlockerRow[] = [], serverOverrides: Partial<ServerRow> = {}): PostgresSnapshot {
  return {activity, blockers, kind: 'postgres', server: server(serverOverrides)}
}

const thresholds = resolveThresholds()
const analyse = (snap: PostgresSnapshot, pool?: AppPool) => analysePostgres(snap, {pool, target: 'postgres://x:***@h:5432/app', thresholds})

describe('inspect analysis', () => {
  it('counts hidden client sessions but not hidden background processes', () => {
    const report = analyse(
      snapshot([
        session({state: 'active'}),
        hidden({usename: 'other'}),
        hidden({datname: null, usename: null, application_name: ''}), // checkpointer & co.
        hidden({datname: null, usename: 'postgres', application_name: ''}), // logical replication launcher
      ], [], {can_read_all_stats: false}),
    )
    assert.equal(report.totals.clientConnections, 2)
    assert.deepEqual(report.totals.byState, {active: 1, hidden: 1, idle: 0, idleInTransaction: 0, idleInTransactionAborted: 0, other: 0})
    assert.equal(report.role.grant, 'GRANT pg_read_all_stats TO "monitor";')
    assert.equal(report.status, 'warning')
  })

  it('walsenders use connection slots only before PostgreSQL 12', () => {
    const rows = () => [session(), session({backend_type: 'walsender', application_name: 'replica'})]
    const v17 = analyse(snapshot(rows()))
    const v11 = analyse(snapshot(rows(), [], {server_version: '11.22', server_version_num: 110_022, idle_session_timeout: null, reserved_connections: null}))
    assert.deepEqual([v17.totals.slotsUsed, v17.totals.walSenders, v17.totals.clientConnections], [1, 1, 1])
    assert.deepEqual([v11.totals.slotsUsed, v11.totals.walSenders], [2, 1])
    assert.equal(v11.server.timeouts.idleSessionTimeoutMs, null)
  })

  it('reserved_connections counts from PostgreSQL 16 on', () => {
    const v16 = analyse(snapshot([], [], {reserved_connections: '5', server_version_num: 160_000}))
    const v15 = analyse(snapshot([], [], {reserved_connections: '5', server_version_num: 150_000}))
    assert.equal(v16.server.usableConnections, 92)
    assert.equal(v15.server.usableConnections, 97)
  })

  it('follows several blockers, a prepared transaction (pid 0), and survives a cycle', () => {
    const root = session({state: 'idle in transaction', xact_age: 50, application_name: 'migrator'})
    const mid = session({state: 'active', wait_event_type: 'Lock', state_age: 40, query_age: 40})
    const waiter = session({state: 'active', wait_event_type: 'Lock', state_age: 30, query_age: 30})
    const onPrepared = session({state: 'active', wait_event_type: 'Lock', state_age: 20, query_age: 20})
    const a = session({state: 'active', wait_event_type: 'Lock', state_age: 15})
    const b = session({state: 'active', wait_event_type: 'Lock', state_age: 15})
    const report = analyse(
      snapshot(
        [root, mid, waiter, onPrepared, a, b],
        [
          {blocked_by: [root.pid], pid: mid.pid, wait_age: 35},
          {blocked_by: [mid.pid, root.pid], pid: waiter.pid, wait_age: 25},
          {blocked_by: [0], pid: onPrepared.pid, wait_age: null}, // no waitstart: falls back to state_age
          {blocked_by: [b.pid], pid: a.pid, wait_age: 12},
          {blocked_by: [a.pid], pid: b.pid, wait_age: 12},
        ],
      ),
    )
    const byPid = new Map(report.lockWaits.map((wait) => [wait.pid, wait]))
    assert.deepEqual(byPid.get(waiter.pid)?.chain, [waiter.pid, mid.pid, root.pid])
    assert.deepEqual(byPid.get(waiter.pid)?.rootBlockerPids, [root.pid])
    assert.equal(byPid.get(waiter.pid)?.rootBlocker.applicationName, 'migrator')
    assert.equal(byPid.get(onPrepared.pid)?.rootBlocker.pid, 0)
    assert.equal(byPid.get(onPrepared.pid)?.rootBlocker.query, '(a prepared transaction)')
    assert.equal(byPid.get(onPrepared.pid)?.waitSeconds, 20)
    assert.deepEqual(byPid.get(a.pid)?.chain, [a.pid, b.pid])
    const lockFindings = report.findings.filter((item) => item.code === 'LOCK_WAITS')
    assert.equal(lockFindings.find((item) => item.pids[0] === root.pid)?.pids.length, 3)
    assert.ok(lockFindings.some((item) => item.pids[0] === 0 && /a prepared transaction/.test(item.message)))
    // The root's transaction (50 s) is already named by LOCK_WAITS: no OLD_TRANSACTION finding for it.
    assert.ok(!report.findings.some((item) => item.code === 'OLD_TRANSACTION'))
  })

  it('ages idle-in-transaction by state_change, not by the transaction start', () => {
    const report = analyse(snapshot([session({state: 'idle in transaction', state_age: 5, xact_age: 3600})]))
    assert.equal(report.idleInTransaction.length, 0)
    assert.equal(report.findings.find((item) => item.code === 'OLD_TRANSACTION')?.severity, 'warning')
  })

  it('maps status to the Nagios exit codes', () => {
    assert.deepEqual(['ok', 'warning', 'critical'].map((status) => exitCodeForStatus(status as 'ok')), [0, 1, 2])
  })

  describe('the app pool', () => {
    const pool = (overrides: Partial<AppPool> = {}): AppPool => ({
      applicationName: 'api',
      clientStatementTimeoutMs: null,
      database: 'app',
      environment: 'production',
      instances: 4,
      instancesGiven: true,
      knexfile: '/srv/knexfile.js',
      pool: {...KNEX_POOL_DEFAULTS, fromKnexfile: [], max: 20, min: 2},
      user: 'app',
      ...overrides,
    })

    it('counts its open sessions and warns when demand plus others exceeds the usable slots', () => {
      const others = Array.from({length: 30}, () => session({application_name: 'batch'}))
      const mine = [session(), session(), session({usename: 'someone-else'})]
      const report = analyse(snapshot([...others, ...mine]), pool())
      assert.equal(report.pool?.openSessions, 2)
      assert.equal(report.pool?.otherSessions, 31)
      const demand = report.findings.find((item) => item.code === 'POOL_DEMAND')
      assert.equal(demand?.severity, 'warning')
      assert.match(demand?.message ?? '', /pool max 20 × 4 instances = 80 connections at peak; with the 31 sessions others hold now, only 66 of 97/)
    })

    it('warns when the server ends idle sessions the pool keeps', () => {
      const report = analyse(snapshot([], [], {idle_session_timeout: '10000'}), pool({pool: {...KNEX_POOL_DEFAULTS, fromKnexfile: [], max: 2, min: 0}}))
      const finding = report.findings.find((item) => item.code === 'POOL_IDLE_SESSION_TIMEOUT')
      assert.match(finding?.message ?? '', /ends sessions idle for 10 s .* keeps idle connections for 30 s/)
      const none = analyse(snapshot([], [], {idle_session_timeout: '60000'}), pool({pool: {...KNEX_POOL_DEFAULTS, fromKnexfile: [], max: 2, min: 0}}))
      assert.ok(!none.findings.some((item) => item.code === 'POOL_IDLE_SESSION_TIMEOUT'))
    })

    it('reads application_name and statement_timeout from a connection object or URL', () => {
      assert.deepEqual(connectionOptions({application_name: 'api', statement_timeout: 5000}), {applicationName: 'api', statementTimeoutMs: 5000})
      assert.deepEqual(connectionOptions('postgres://u@h/db?application_name=web&statement_timeout=250'), {applicationName: 'web', statementTimeoutMs: 250})
      assert.deepEqual(connectionOptions({connectionString: 'postgres://u@h/db?application_name=cs'}), {applicationName: 'cs', statementTimeoutMs: null})
      assert.deepEqual(connectionOptions({host: 'h'}), {applicationName: '', statementTimeoutMs: null})
    })
  })
})
