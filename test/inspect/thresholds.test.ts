/**
 * Utilisation against the usable slots crosses --warn and --crit on a private server with few
 * connections: max_connections 25 − superuser_reserved 3 − reserved 2 = 20 usable.
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import type {Client} from 'pg'

import type {EmbeddedPostgresServer} from '../../src/embedded/embedded-postgres.js'
import {runCli} from '../support/cli.js'
import {startEmbeddedPostgres, withClient} from '../support/postgres.js'
import {parsePrometheusText} from './prometheus-format.js'
import {closeAll, inspectJson, openSession} from './support.js'

describe('poolctl inspect: connection thresholds against usable slots', () => {
  let server: EmbeddedPostgresServer
  let appUrl: string
  const clients: Client[] = []
  const openUpTo = async (count: number) => {
    while (clients.length < count) clients.push(await openSession(appUrl, 'busy-app'))
  }

  before(async () => {
    server = await startEmbeddedPostgres({settings: {max_connections: '25', reserved_connections: '2', superuser_reserved_connections: '3'}})
    await withClient(server.url, (client) => client.query(`create role busy login password 'busy-pw'`))
    appUrl = server.url.replace(/\/\/[^@]+@/, '//busy:busy-pw@')
  })

  after(async () => {
    await closeAll(clients)
    await server?.stop()
  })

  it('subtracts both reserves: 25 − 3 − 2 = 20 usable', async () => {
    const {report} = await inspectJson(['--url', server.url])
    assert.deepEqual(
      {max: report.server.maxConnections, reserved: report.server.reservedConnections, superuser: report.server.superuserReservedConnections, usable: report.server.usableConnections},
      {max: 25, reserved: 2, superuser: 3, usable: 20},
    )
  })

  it('15 of 20 (75 %) is ok: exit 0', async () => {
    await openUpTo(15)
    const {report, result} = await inspectJson(['--url', server.url])
    assert.equal(report.totals.slotsUsed, 15)
    assert.equal(report.totals.usedPercent, 75)
    assert.equal(report.totals.freeSlots, 5)
    assert.equal(report.status, 'ok')
    assert.equal(result.code, 0, JSON.stringify(report.findings))
  })

  it('16 of 20 (80 %) is a warning: exit 1', async () => {
    await openUpTo(16)
    const {report, result} = await inspectJson(['--url', server.url])
    const usage = report.findings.find((item) => item.code === 'CONNECTION_USAGE')
    assert.equal(usage?.severity, 'warning')
    assert.match(usage?.message ?? '', /^16 of 20 usable connection slots in use \(80\.0 %; warning at 80 %\); most held by busy-app \(16\)$/)
    assert.equal(result.code, 1)
  })

  it('19 of 20 (95 %) is critical: exit 2, also in Prometheus form', async () => {
    await openUpTo(19)
    const {report, result} = await inspectJson(['--url', server.url])
    assert.equal(report.findings[0].code, 'CONNECTION_USAGE')
    assert.equal(report.findings[0].severity, 'critical')
    assert.equal(report.status, 'critical')
    assert.equal(result.code, 2)
    const prom = await runCli(['inspect', '--format', 'prometheus', '--url', server.url])
    assert.equal(prom.code, 2)
    const families = parsePrometheusText(prom.stdout)
    assert.equal(families.get('poolctl_status')?.samples[0].value, 2)
    assert.equal(families.get('poolctl_connection_slots_used_ratio')?.samples[0].value, 0.95)
    assert.equal(families.get('poolctl_server_usable_connections')?.samples[0].value, 20)
  })

  it('--warn and --crit move the lines', async () => {
    const {report, result} = await inspectJson(['--url', server.url, '--warn', '90%', '--crit', '99.5'])
    assert.equal(report.status, 'warning')
    assert.equal(result.code, 1)
    assert.deepEqual([report.thresholds.warnPercent, report.thresholds.critPercent], [90, 99.5])
  })
})
