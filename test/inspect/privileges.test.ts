/**
 * A role without pg_read_all_stats: other roles' sessions are counted (not silently dropped), the
 * hidden-session finding names the exact GRANT, and after that GRANT everything is visible. On a
 * private server, so the totals are exact.
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import type {Client} from 'pg'

import type {EmbeddedPostgresServer} from '../../src/embedded/embedded-postgres.js'
import {quoteIdent, startEmbeddedPostgres, withClient} from '../support/postgres.js'
import {closeAll, group, inspectJson, openSession} from './support.js'

describe('poolctl inspect: a role that cannot read other sessions', () => {
  let server: EmbeddedPostgresServer
  let monitorUrl: string
  const clients: Client[] = []
  const monitor = 'monitor "ops"' // a name that needs quoting in the GRANT

  before(async () => {
    server = await startEmbeddedPostgres()
    await withClient(server.url, async (client) => {
      await client.query(`create role app_owner login password 'app-pw'`)
      await client.query(`create role ${quoteIdent(monitor)} login password 'monitor-pw'`)
    })
    const appUrl = server.url.replace(/\/\/[^@]+@/, '//app_owner:app-pw@')
    monitorUrl = server.url.replace(/\/\/[^@]+@/, `//${encodeURIComponent(monitor)}:monitor-pw@`)
    for (let i = 0; i < 3; i++) clients.push(await openSession(appUrl, 'priv-app'))
    const tx = await openSession(appUrl, 'priv-app-tx')
    await tx.query('begin')
    await tx.query('select 1')
    clients.push(tx, await openSession(monitorUrl, 'monitor-shell'))
  })

  after(async () => {
    await closeAll(clients)
    await server?.stop()
  })

  it('counts hidden sessions honestly and prints the exact GRANT', async () => {
    const {report, result} = await inspectJson(['--url', monitorUrl])
    const asSuperuser = (await inspectJson(['--url', server.url])).report
    assert.equal(report.role.canReadAllStats, false)
    assert.equal(report.role.hiddenSessions, 4)
    assert.equal(report.totals.byState.hidden, 4)
    assert.equal(report.totals.byState.idle, 1) // its own other session is visible
    // Honest totals: the same count the superuser sees, background processes excluded.
    assert.equal(report.totals.clientConnections, 5)
    assert.equal(asSuperuser.totals.clientConnections, report.totals.clientConnections)
    assert.ok(report.totals.databaseBackends >= report.totals.clientConnections)
    // application_name stays visible, so the per-app counts are right; their state is not.
    assert.deepEqual({hidden: group(report, 'priv-app')?.hidden, total: group(report, 'priv-app')?.total}, {hidden: 3, total: 3})
    assert.equal(report.role.grant, 'GRANT pg_read_all_stats TO "monitor ""ops""";')
    const hidden = report.findings.find((item) => item.code === 'HIDDEN_SESSIONS')
    assert.equal(hidden?.severity, 'warning')
    assert.ok(hidden?.message.endsWith('fix: GRANT pg_read_all_stats TO "monitor ""ops""";'), hidden?.message)
    assert.equal(hidden?.pids.length, 4)
    assert.equal(result.code, 1)
    assert.equal(report.byClientAddress.find((item) => item.name === '(hidden)')?.total, 4)
  })

  it('the human output says how to see them', async () => {
    const {runCli} = await import('../support/cli.js')
    const result = await runCli(['inspect', '--url', monitorUrl])
    assert.match(result.stdout, /4 sessions of other roles are hidden from "monitor "ops""\. To see them: GRANT pg_read_all_stats TO "monitor ""ops""";/)
  })

  it('after the GRANT nothing is hidden and the states are known', async () => {
    await withClient(server.url, (client) => client.query(`grant pg_read_all_stats to ${quoteIdent(monitor)}`))
    const {report, result} = await inspectJson(['--url', monitorUrl, '--idle-in-transaction', '1h'])
    assert.equal(report.role.canReadAllStats, true)
    assert.equal(report.role.hiddenSessions, 0)
    assert.equal(report.role.grant, null)
    assert.deepEqual(report.totals.byState, {active: 0, hidden: 0, idle: 4, idleInTransaction: 1, idleInTransactionAborted: 0, other: 0})
    assert.ok(!report.findings.some((item) => item.code === 'HIDDEN_SESSIONS'))
    assert.equal(result.code, 0, JSON.stringify(report.findings))
  })
})
