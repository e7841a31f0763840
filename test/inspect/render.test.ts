/**
 * The renderers: Prometheus text that a strict parser and (when installed) `promtool check metrics`
 * accept, with hostile label values; human text without escape codes.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import type {Client} from 'pg'

import {FindingCode} from '../../src/inspect/findings.js'
import {escapeLabelValue, GaugeWriter, renderPrometheus} from '../../src/inspect/render/prometheus.js'
import {renderText} from '../../src/inspect/render/text.js'
import type {PostgresReport} from '../../src/inspect/types.js'
import {PROJECT_ROOT, runCli} from '../support/cli.js'
import {createTestDatabase, dropTestDatabase, uniqueName} from '../support/postgres.js'
import {parsePrometheusText} from './prometheus-format.js'
import {closeAll, ESCAPE, findBinary, inspectJson, openSession} from './support.js'

describe('inspect renderers', () => {
  let url: string
  const clients: Client[] = []
  const hostileApp = `${uniqueName('insp_prom')} say "hi" \\ bye`

  before(async () => {
    url = await createTestDatabase('inspect_render')
    clients.push(await openSession(url, hostileApp), await openSession(url, ''))
  })

  after(async () => {
    await closeAll(clients)
    await dropTestDatabase(url)
  })

  it('--format prometheus parses strictly and keeps hostile label values intact', async () => {
    const result = await runCli(['inspect', '--format', 'prometheus', '--url', url, '--warn', '99', '--crit', '100'])
    assert.ok([0, 1].includes(result.code ?? -1), result.stderr)
    const families = parsePrometheusText(result.stdout)
    for (const [name, family] of families) {
      assert.match(name, /^poolctl_/)
      assert.equal(family.type, 'gauge', name)
      assert.ok(family.help && family.help.length > 0, `${name} has no HELP`)
    }
    const apps = families.get('poolctl_application_connections')?.samples ?? []
    assert.equal(apps.find((sample) => sample.labels.application_name === hostileApp)?.value, 1)
    assert.equal(apps.find((sample) => sample.labels.application_name === '')?.value !== undefined, true)
    assert.equal(families.get('poolctl_up')?.samples[0].value, 1)
    assert.deepEqual(
      families.get('poolctl_client_connections')?.samples.map((sample) => sample.labels.state).sort(),
      ['active', 'hidden', 'idle', 'idle_in_transaction', 'idle_in_transaction_aborted', 'other'],
    )
  })

  it('promtool check metrics accepts it', async (t) => {
    const promtool = findBinary('promtool')
    if (!promtool) {
      t.skip('promtool not installed: apt-get install prometheus (the strict parser above still ran)')
      return
    }
    const result = await runCli(['inspect', '--format', 'prometheus', '--url', url, '--warn', '99', '--crit', '100'])
    const check = spawnSync(promtool, ['check', 'metrics'], {encoding: 'utf8', input: result.stdout})
    assert.equal(check.status, 0, `${check.stdout}${check.stderr}\n${result.stdout}`)
  })

  it('escapes backslash, quote and newline; refuses duplicates and bad names', () => {
    assert.equal(escapeLabelValue('a\\b"c\nd'), String.raw`a\\b\"c\nd`)
    const text = new GaugeWriter().gauge('poolctl_x', 'help', [{labels: {name: 'a\\b"c\nd'}, value: 1}]).toString()
    assert.equal(parsePrometheusText(text).get('poolctl_x')?.samples[0].labels.name, 'a\\b"c\nd')
    assert.throws(() => new GaugeWriter().gauge('poolctl_x', 'h', [{labels: {a: '1'}, value: 1}, {labels: {a: '1'}, value: 2}]), /duplicate series/)
    assert.throws(() => new GaugeWriter().gauge('poolctl_x', 'h', []).gauge('poolctl_x', 'h', []), /written twice/)
    assert.throws(() => new GaugeWriter().gauge('poolctl-x', 'h', []), /invalid metric name/)
    assert.throws(() => parsePrometheusText('a 1\nb 2\na 3\n'), /not contiguous/)
  })

  it('the table output has no escape codes and names empty application_names', async () => {
    const {report} = await inspectJson(['--url', url, '--warn', '99', '--crit', '100'])
    const text = renderText(report)
    assert.ok(!ESCAPE.test(text))
    assert.match(text, /\(none\)/)
    assert.ok(!ESCAPE.test(renderPrometheus(report)))
    const cli = await runCli(['inspect', '--url', url, '--warn', '99', '--crit', '100'])
    assert.ok(!ESCAPE.test(cli.stdout + cli.stderr))
  })

  it('long lists are cut in the table, never in --json', () => {
    const many = Array.from({length: 15}, (_, i) => ({active: 0, hidden: 0, idle: 1, idleInTransaction: 0, idleInTransactionAborted: 0, name: `app-${i}`, other: 0, total: 1}))
    const base = {
      byApplication: many, byClientAddress: [], byDatabase: [], byUser: [], findings: [], idleInTransaction: [], kind: 'postgres', lockWaits: [], longQueries: [], oldestTransaction: null, pool: null,
      role: {canReadAllStats: true, database: 'd', grant: null, hiddenSessions: 0, superuser: true, user: 'u'},
      schemaVersion: 1,
      server: {maxConnections: 100, reservedConnections: 0, superuserReservedConnections: 3, timeouts: {idleInTransactionSessionTimeoutMs: 0, idleSessionTimeoutMs: 0, statementTimeoutMs: 0}, usableConnections: 97, version: '17', versionNum: 170_000},
      status: 'ok', takenAt: '2026-01-01T00:00:00.000Z', target: 't',
      thresholds: {critPercent: 95, idleInTransactionSeconds: 30, lockWaitSeconds: 10, longQuerySeconds: 60, warnPercent: 80},
      totals: {byState: {active: 0, hidden: 0, idle: 15, idleInTransaction: 0, idleInTransactionAborted: 0, other: 0}, clientConnections: 15, databaseBackends: 15, freeSlots: 82, slotsUsed: 15, usedPercent: 15.5, walSenders: 0},
    } as PostgresReport
    const text = renderText(base)
    assert.match(text, /By application \(top 10 of 15; --json has all\)/)
    assert.ok(text.includes('app-9') && !text.includes('app-14'))
  })

  it('docs/inspect.md documents every finding code and every top-level JSON key', async () => {
    const docs = readFileSync(join(PROJECT_ROOT, 'docs', 'inspect.md'), 'utf8')
    for (const code of Object.values(FindingCode)) assert.ok(docs.includes(`| \`${code}\` |`), `docs/inspect.md lacks a row for ${code}`)
    const {report} = await inspectJson(['--url', url, '--warn', '99', '--crit', '100'])
    for (const key of Object.keys(report)) assert.ok(docs.includes(`\`${key}`), `docs/inspect.md does not mention ${key}`)
    for (const key of Object.keys(report.server)) assert.ok(docs.includes(`server.${key}`), `docs/inspect.md does not mention server.${key}`)
    for (const key of Object.keys(report.totals)) assert.ok(docs.includes(`totals.${key}`), `docs/inspect.md does not mention totals.${key}`)
  })
})
