/**
 * `poolctl inspect` pointed at a real PgBouncer admin console (Debian package `pgbouncer`), started on
 * loopback in front of the test server. Skipped, saying why, when the binary is not installed.
 */
import assert from 'node:assert/strict'
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import {chmod, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import type {Client} from 'pg'

import {freePort} from '../../src/embedded/embedded-postgres.js'
import type {PgBouncerReport} from '../../src/inspect/types.js'
import {runCli} from '../support/cli.js'
import {createTestDatabase, dropTestDatabase, quoteIdent, quoteLiteral, uniqueName, withClient} from '../support/postgres.js'
import {parsePrometheusText} from './prometheus-format.js'
import {closeAll, findBinary, openSession, startQuery, waitUntil} from './support.js'

const PGBOUNCER = findBinary('pgbouncer')
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0

const SKIP = 'pgbouncer not installed: apt-get install pgbouncer (Debian) to run this test'

describe('poolctl inspect: PgBouncer admin console', () => {
  let url: string
  let dir: string
  let bouncer: ChildProcess | undefined
  let bouncerLog = ''
  let adminUrl: string
  let appUrl: string
  const role = uniqueName('bouncer')
  const password = 'b0uncer-pw'
  const clients: Client[] = []

  before(async () => {
    if (!PGBOUNCER) return
    url = await createTestDatabase('inspect_bouncer')
    await withClient(url, (client) => client.query(`create role ${quoteIdent(role)} login password ${quoteLiteral(password)}`))
    const server = new URL(url)
    const port = await freePort()
    dir = await mkdtemp(join(tmpdir(), 'poolctl-pgbouncer-'))
    // As root, pgbouncer refuses to run unless told to switch user (-u); that user must read the files.
    if (isRoot) await chmod(dir, 0o755)
    const ini = join(dir, 'pgbouncer.ini')
    await writeFile(
      ini,
      [
        '[databases]',
        `appdb = host=127.0.0.1 port=${server.port} dbname=${decodeURIComponent(server.pathname.slice(1))}`,
        '[pgbouncer]',
        'listen_addr = 127.0.0.1',
        `listen_port = ${port}`,
        'unix_socket_dir =',
        'auth_type = scram-sha-256',
        `auth_file = ${join(dir, 'userlist.txt')}`,
        `admin_users = ${role}`,
        'pool_mode = transaction',
        'default_pool_size = 2',
        'max_client_conn = 40',
        '',
      ].join('\n'),
      {mode: 0o644},
    )
    await writeFile(join(dir, 'userlist.txt'), `"${role}" "${password}"\n`, {mode: 0o644})
    bouncer = spawn(PGBOUNCER!, isRoot ? ['-u', 'postgres', ini] : [ini], {stdio: ['ignore', 'ignore', 'pipe']})
    bouncer.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      bouncerLog += chunk
    })
    adminUrl = `postgres://${role}:${password}@127.0.0.1:${port}/pgbouncer`
    appUrl = `postgres://${role}:${password}@127.0.0.1:${port}/appdb`
    await waitUntil('pgbouncer accepts connections', async () => {
      if (bouncer?.exitCode !== null) throw new Error(`pgbouncer exited: ${bouncerLog}`)
      try {
        await withClient(adminUrl, (client) => client.query('SHOW VERSION'))
        return true
      } catch {
        return false
      }
    })
    // Three clients in transaction mode, pool_size 2: two get a server connection, one waits.
    for (let i = 0; i < 3; i++) {
      const client = await openSession(appUrl, 'via-bouncer')
      clients.push(client)
      startQuery(client, 'select pg_sleep(60)')
    }
    await waitUntil('one client waits in pgbouncer', async () =>
      withClient(adminUrl, async (client) => {
        const {rows} = await client.query<{database: string; cl_waiting: number}>('SHOW POOLS')
        return rows.some((row) => row.database === 'appdb' && Number(row.cl_waiting) === 1)
      }),
    )
  })

  after(async () => {
    if (!PGBOUNCER) return
    await closeAll(clients)
    if (bouncer && bouncer.exitCode === null) {
      const exited = new Promise((resolve) => bouncer!.once('exit', resolve))
      bouncer.kill('SIGTERM')
      await exited
    }
    await dropTestDatabase(url)
    await withClient(new URL('/postgres', url).toString(), (client) => client.query(`drop role if exists ${quoteIdent(role)}`))
    await rm(dir, {force: true, recursive: true})
  })

  it('reports waiting clients, server connections per pool and pool sizes (exit 1)', async (t) => {
    if (!PGBOUNCER) return t.skip(SKIP)
    const result = await runCli(['inspect', '--json', '--url', adminUrl])
    assert.equal(result.code, 1, `${result.stdout}\n${result.stderr}\n${bouncerLog}`)
    const report = JSON.parse(result.stdout) as PgBouncerReport
    assert.equal(report.kind, 'pgbouncer')
    assert.match(report.version, /^PgBouncer \d+\.\d+/)
    const pool = report.pools.find((item) => item.database === 'appdb')
    assert.ok(pool, JSON.stringify(report.pools))
    assert.deepEqual(
      {active: pool.clientsActive, poolSize: pool.poolSize, servers: pool.serverConnections, user: pool.user, waiting: pool.clientsWaiting},
      {active: 2, poolSize: 2, servers: 2, user: role, waiting: 1},
    )
    assert.equal(pool.poolMode, 'transaction')
    assert.ok(!report.pools.some((item) => item.database === 'pgbouncer'), 'the admin pseudo-database is not a pool')
    assert.equal(report.databases.find((db) => db.name === 'appdb')?.poolSize, 2)
    assert.equal(report.maxClientConnections, 40)
    assert.equal(report.totals.clientsWaiting, 1)
    const waiting = report.findings.find((item) => item.code === 'PGBOUNCER_CLIENTS_WAITING')
    assert.equal(waiting?.severity, 'warning')
    assert.match(waiting?.message ?? '', /^1 client waiting for a server connection in pool appdb\//)
    assert.equal(report.status, 'warning')
  })

  it('prometheus output parses and promtool accepts it', async (t) => {
    if (!PGBOUNCER) return t.skip(SKIP)
    const result = await runCli(['inspect', '--format', 'prometheus', '--url', adminUrl])
    assert.equal(result.code, 1, result.stderr)
    const families = parsePrometheusText(result.stdout)
    const waiting = families.get('poolctl_pgbouncer_clients')?.samples.find((sample) => sample.labels.database === 'appdb' && sample.labels.state === 'waiting')
    assert.equal(waiting?.value, 1)
    assert.equal(families.get('poolctl_pgbouncer_pool_size')?.samples.find((sample) => sample.labels.database === 'appdb')?.value, 2)
    const promtool = findBinary('promtool')
    if (promtool) {
      const check = spawnSync(promtool, ['check', 'metrics'], {encoding: 'utf8', input: result.stdout})
      assert.equal(check.status, 0, check.stdout + check.stderr)
    }
  })

  it('prints the pools as a table', async (t) => {
    if (!PGBOUNCER) return t.skip(SKIP)
    const result = await runCli(['inspect', '--url', adminUrl])
    assert.match(result.stdout, /^poolctl inspect postgres:\/\/bouncer_\w+:\*\*\*@127\.0\.0\.1:\d+\/pgbouncer · PgBouncer [\d.]+ · .* · status WARNING/)
    assert.match(result.stdout, /Pools \(SHOW POOLS\)/)
    assert.match(result.stdout, /│ appdb +│ bouncer_\w+ +│ transaction +│ +2 │ +1 │/)
    assert.ok(!result.stdout.includes(password) && !result.stderr.includes(password))
  })
})
