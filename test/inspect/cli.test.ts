/**
 * The command's edges: the app's pool from a knexfile, bad input (exit 3, one line, no password),
 * bad flags (exit 64), and the documented help.
 */
import assert from 'node:assert/strict'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import type {Client} from 'pg'

import {freePort} from '../../src/embedded/embedded-postgres.js'
import {lines, runCli} from '../support/cli.js'
import {createTestDatabase, dropTestDatabase, quoteIdent, quoteLiteral, uniqueName, withClient} from '../support/postgres.js'
import {assertNoSecret, closeAll, inspectJson, openSession} from './support.js'

const PASSWORD = 's3cr#t-p@ss'

describe('poolctl inspect: knexfile, bad input, flags', () => {
  let url: string
  let roleUrl: string
  let role: string
  let dir: string
  const clients: Client[] = []
  const appName = uniqueName('insp_knex')

  before(async () => {
    url = await createTestDatabase('inspect_cli')
    role = uniqueName('insp_role')
    await withClient(url, async (client) => {
      await client.query(`create role ${quoteIdent(role)} login password ${quoteLiteral(PASSWORD)}`)
      await client.query(`grant pg_read_all_stats to ${quoteIdent(role)}`)
    })
    const parsed = new URL(url)
    parsed.username = role
    parsed.password = encodeURIComponent(PASSWORD)
    roleUrl = parsed.toString()
    dir = await mkdtemp(join(tmpdir(), 'poolctl-inspect-'))
    const knexfile = (body: string) => `module.exports = ${body}\n`
    await writeFile(
      join(dir, 'knexfile.cjs'),
      knexfile(
        JSON.stringify({
          development: {
            client: 'pg',
            connection: {application_name: appName, connectionString: roleUrl, statement_timeout: 5000},
            pool: {acquireTimeoutMillis: 2000, max: 7, min: 0},
          },
          production: {client: 'pg', connection: roleUrl},
        }),
      ),
    )
    await writeFile(join(dir, 'throws.cjs'), `throw new Error('knexfile exploded')\n`)
    await writeFile(join(dir, 'mysql.cjs'), knexfile(JSON.stringify({client: 'mysql2', connection: {host: 'x'}})))
    // Two of the app's own sessions (same user, database and application_name as the knexfile).
    clients.push(await openSession(roleUrl, appName), await openSession(roleUrl, appName))
  })

  after(async () => {
    await closeAll(clients)
    await dropTestDatabase(url)
    await withClient(new URL('/postgres', url).toString(), (client) => client.query(`drop role if exists ${quoteIdent(role)}`))
    await rm(dir, {force: true, recursive: true})
  })

  it("compares the knexfile's pool with the server: demand, open sessions, timeouts", async () => {
    const {report, result} = await inspectJson(['--knexfile', join(dir, 'knexfile.cjs'), '--instances', '3', '--warn', '99', '--crit', '100'])
    assert.ok(report.pool, result.stderr)
    const {pool} = report
    assert.deepEqual(
      {applicationName: pool.applicationName, demand: pool.demand, instances: pool.instances, instancesGiven: pool.instancesGiven, max: pool.max, min: pool.min},
      {applicationName: appName, demand: 21, instances: 3, instancesGiven: true, max: 7, min: 0},
    )
    assert.equal(pool.acquireTimeoutMillis, 2000)
    assert.equal(pool.idleTimeoutMillis, 30_000) // knex's default
    assert.deepEqual([...pool.fromKnexfile].sort(), ['acquireTimeoutMillis', 'max', 'min'])
    assert.equal(pool.openSessions, 2)
    assert.equal(pool.demandPercent, Math.round((21 / report.server.usableConnections) * 1000) / 10)
    assert.deepEqual(pool.timeouts, {clientStatementTimeoutMs: 5000, effectiveStatementTimeoutMs: 5000})
    // The embedded server runs with statement_timeout 0: what the app gets, not poolctl's own 30 s.
    assert.equal(report.server.timeouts.statementTimeoutMs, 0)
    const codes = report.findings.map((item) => item.code)
    assert.ok(codes.includes('STATEMENT_TIMEOUT_ABOVE_ACQUIRE'), codes.join())
    assert.ok(codes.includes('NO_IDLE_IN_TRANSACTION_TIMEOUT'), codes.join())
    // Advice, not alarms: info findings never change the status (other test files' sessions may).
    const advice = report.findings.filter((item) => ['STATEMENT_TIMEOUT_ABOVE_ACQUIRE', 'NO_IDLE_IN_TRANSACTION_TIMEOUT'].includes(item.code))
    assert.deepEqual(advice.map((item) => item.severity), ['info', 'info'])
    assert.ok(!codes.includes('POOL_DEMAND') && !codes.includes('HIDDEN_SESSIONS'), codes.join())
    assert.equal(result.code, {critical: 2, ok: 0, warning: 1}[report.status], result.stderr)
  })

  it('a pool that cannot fit the usable slots is critical (exit 2)', async () => {
    const {report, result} = await inspectJson(['--knexfile', join(dir, 'knexfile.cjs'), '--instances', '500', '--warn', '99', '--crit', '100'])
    const demand = report.findings.find((item) => item.code === 'POOL_DEMAND')
    assert.equal(demand?.severity, 'critical')
    assert.match(demand?.message ?? '', /pool max 7 × 500 instances = 3500 connections at peak/)
    assert.equal(report.status, 'critical')
    assert.equal(result.code, 2)
  })

  it('without application_name or --instances it assumes one instance and says what is missing', async () => {
    const {report} = await inspectJson(['--knexfile', join(dir, 'knexfile.cjs'), '--env', 'production', '--warn', '99', '--crit', '100'])
    assert.equal(report.pool?.instances, 1)
    assert.equal(report.pool?.instancesGiven, false)
    assert.equal(report.pool?.max, 10) // knex's default
    assert.ok(report.findings.some((item) => item.code === 'NO_APPLICATION_NAME'))
    assert.ok(report.findings.some((item) => item.code === 'NO_STATEMENT_TIMEOUT'))
  })

  describe('bad input: one line on stderr, exit 3, no password', () => {
    const cases: Array<{name: string; args: () => Promise<string[]>; expect: RegExp}> = [
      {
        args: async () => ['--url', `postgres://${role}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${await freePort()}/db`],
        expect: /^poolctl: could not connect to 127\.0\.0\.1:\d+: connection refused$/,
        name: 'unreachable host',
      },
      {
        args: async () => ['--url', roleUrl.replace(encodeURIComponent(PASSWORD), 'wrong-password')],
        expect: /^poolctl: could not connect to .*password authentication failed for user "insp_role_/,
        name: 'wrong password',
      },
      {
        args: async () => ['--url', new URL('/no_such_database_x', roleUrl).toString()],
        expect: /^poolctl: could not connect to .*database "no_such_database_x" does not exist$/,
        name: 'unknown database',
      },
      {
        args: async () => ['--url', `postgres://${role}:${PASSWORD}@127.0.0.1:5432/db`],
        expect: /^poolctl: could not parse the connection URL/,
        name: 'a URL that does not parse',
      },
      {args: async () => ['--knexfile', join(dir, 'throws.cjs')], expect: /^poolctl: could not load knexfile .*: knexfile exploded$/, name: 'a knexfile that throws'},
      {
        args: async () => ['--knexfile', join(dir, 'knexfile.cjs'), '--env', 'staging'],
        expect: /^poolctl: knexfile .* has no "staging" environment \(it has: development, production\)/,
        name: 'a knexfile without that env',
      },
      {args: async () => ['--knexfile', join(dir, 'mysql.cjs')], expect: /^poolctl: knexfile .* uses "mysql2"; poolctl supports only PostgreSQL/, name: 'a non-Postgres knex client'},
    ]
    for (const item of cases) {
      it(item.name, async () => {
        const result = await runCli(['inspect', ...(await item.args())])
        assert.equal(result.code, 3, result.stderr)
        assert.equal(result.stdout, '')
        const errorLines = lines(result.stderr)
        assert.equal(errorLines.length, 1, result.stderr)
        assert.match(errorLines[0], item.expect)
        assertNoSecret(result.stdout + result.stderr, PASSWORD)
      })
    }

    it('--json: the error as JSON on stdout; prometheus: poolctl_up 0', async () => {
      const port = await freePort()
      const json = await runCli(['inspect', '--json', '--url', `postgres://u:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/db`])
      assert.equal(json.code, 3)
      assert.equal((JSON.parse(json.stdout) as {error: {code: string}}).error.code, 'CONNECTION_REFUSED')
      const prom = await runCli(['inspect', '--format', 'prometheus', '--url', `postgres://u:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/db`])
      assert.equal(prom.code, 3)
      assert.match(prom.stdout, /^poolctl_up 0$/m)
      assert.equal(lines(prom.stderr).length, 1)
      assertNoSecret(json.stdout + json.stderr + prom.stdout + prom.stderr, PASSWORD)
    })
  })

  describe('bad flags exit 64 naming the value', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--warn', '90', '--crit', '80'], /--warn \(90\) to be below --crit \(80\)/],
      [['--crit', '150'], /--crit to be a percentage above 0 and at most 100, got `150`/],
      [['--warn', 'lots'], /--warn to be a percentage such as 80 or 80%, got `lots`/],
      [['--long-query', 'soon'], /--long-query to be a duration/],
      [['--watch', '--interval', '0.5'], /--interval to be a number of seconds from 1 up, got `0\.5`/],
      [['--interval', '5'], /--watch/],
      [['--instances', '3'], /--knexfile/],
      [['--knexfile', 'k.js', '--instances', '0'], /--instances to be a whole number from 1 up/],
      [['--watch', '--json'], /--watch draws a live view/],
      [['--format', 'xml'], /--format/],
    ]
    for (const [args, expect] of cases) {
      it(args.join(' '), async () => {
        const result = await runCli(['inspect', '--url', url, ...args])
        assert.equal(result.code, 64, `${result.stdout}\n${result.stderr}`)
        const output = result.stderr || result.stdout
        assert.match(output, expect)
      })
    }
  })

  it('--help documents the outputs, thresholds and exit codes', async () => {
    const result = await runCli(['inspect', '--help'])
    assert.equal(result.code, 0)
    for (const flag of ['--instances', '--watch', '--interval', '--format', '--warn', '--crit', '--long-query', '--idle-in-transaction', '--lock-wait', '--json', '--knexfile']) {
      assert.ok(result.stdout.includes(flag), `help lacks ${flag}`)
    }
    assert.match(result.stdout, /0 ok, 1 warning, 2 critical, 3 unknown/)
  })
})
