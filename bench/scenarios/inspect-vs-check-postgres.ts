/**
 * Scenario: `poolctl inspect --json` end to end (process start → JSON on stdout → exit) against a
 * server with 300 open sessions, next to `check_postgres --action=backends` (Debian package
 * `check-postgres`) on the same server in the same run. Both are what a monitoring system would
 * spawn once per check. poolctl does far more per run (states, groups, lock waits, blocker chains,
 * findings); check_postgres counts backends against max_connections.
 *
 * One embedded PostgreSQL (max_connections 400) is started for the scenario, with 300 sessions from
 * 6 application_names: mostly idle, some idle in transaction, a few running pg_sleep.
 */
import {spawnSync} from 'node:child_process'
import {accessSync, constants, existsSync} from 'node:fs'
import {join} from 'node:path'

import type {Client} from 'pg'

import type {EmbeddedPostgresServer} from '../../src/embedded/embedded-postgres.js'
import {projectRoot} from '../env.js'
import {type BenchOptions, type Contender, type Scenario, milliseconds} from '../harness.js'

const POOLCTL = join(projectRoot, 'bin', 'run.js')
const SESSIONS = 300
const APPS = ['orders-api', 'billing', 'search', 'worker', 'admin', 'reports']

function findCheckPostgres(): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/bin', '/usr/local/bin']) {
    if (!dir) continue
    try {
      accessSync(join(dir, 'check_postgres'), constants.X_OK)
      return join(dir, 'check_postgres')
    } catch {
      // not here
    }
  }
  return undefined
}

/** The server and its sessions, shared by both contenders: set up by the first, torn down by the last. */
class Fixture {
  server: EmbeddedPostgresServer | undefined
  #clients: Client[] = []
  #users = 0
  #ready: Promise<void> | undefined

  async acquire(): Promise<EmbeddedPostgresServer> {
    this.#users++
    this.#ready ??= this.#start()
    await this.#ready
    return this.server!
  }

  async release(): Promise<void> {
    if (--this.#users > 0) return
    await Promise.all(this.#clients.map((client) => client.end().catch(() => undefined)))
    this.#clients = []
    await this.server?.stop()
    this.server = undefined
    this.#ready = undefined
  }

  async #start(): Promise<void> {
    const {startEmbeddedPostgres} = await import('../../src/embedded/embedded-postgres.js')
    const {default: pg} = await import('pg')
    this.server = await startEmbeddedPostgres({settings: {max_connections: '400'}})
    const url = this.server.url
    for (let i = 0; i < SESSIONS; i += 20) {
      const batch = await Promise.all(
        Array.from({length: Math.min(20, SESSIONS - i)}, async (_, j) => {
          const client = new pg.Client({application_name: APPS[(i + j) % APPS.length], connectionString: url})
          client.on('error', () => undefined)
          await client.connect()
          return client
        }),
      )
      this.#clients.push(...batch)
    }
    // A realistic mix: 30 idle in transaction, 10 running a long statement, the rest idle.
    for (const client of this.#clients.slice(0, 30)) await client.query('begin; select 1')
    for (const client of this.#clients.slice(30, 40)) client.query('select pg_sleep(3600)').catch(() => undefined)
  }
}

interface Run {
  ms: number
  status: number | null
  stdout: string
  stderr: string
}

function timedRun(command: string, args: string[], env: NodeJS.ProcessEnv): Run {
  const started = performance.now()
  const child = spawnSync(command, args, {cwd: projectRoot, encoding: 'utf8', env})
  const ms = performance.now() - started
  if (child.error !== undefined) throw child.error
  return {ms, status: child.status, stderr: child.stderr, stdout: child.stdout}
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('PG') && key !== 'DATABASE_URL') env[key] = value
  return env
}

export function inspectScenarios({quick}: BenchOptions): Scenario[] {
  const fixture = new Fixture()
  const checkPostgres = findCheckPostgres()
  let url = ''
  let server: EmbeddedPostgresServer | undefined

  const poolctl: Contender = {
    id: 'poolctl',
    label: 'poolctl `inspect --json`',
    note: 'node bin/run.js inspect --json --url …: one connection, 3 catalog queries (+ pg_blocking_pids when someone waits on a lock), full report',
    async measure() {
      const run = timedRun(process.execPath, [POOLCTL, 'inspect', '--json', '--url', url], cleanEnv())
      // 0–2 are statuses; 3 or 64 mean it did not inspect.
      if (run.status === null || run.status > 2) throw new Error(`inspect exited ${run.status}: ${run.stderr.trim().split('\n')[0]}`)
      const report = JSON.parse(run.stdout) as {totals: {clientConnections: number}}
      if (report.totals.clientConnections < SESSIONS) throw new Error(`inspect saw ${report.totals.clientConnections} sessions, expected ≥ ${SESSIONS}`)
      return run.ms
    },
    async setup() {
      server = await fixture.acquire()
      url = server.url
    },
    async teardown() {
      await fixture.release()
    },
  }

  const checkPostgresContender: Contender = {
    id: 'check_postgres',
    label: 'check_postgres `--action=backends`',
    note: 'check_postgres --action=backends (Perl, runs psql): counts backends against max_connections, Nagios output',
    async measure() {
      if (!server) throw new Error('fixture not set up')
      const run = timedRun(
        checkPostgres!,
        ['--action=backends', `--dbhost=${server.host}`, `--dbport=${server.port}`, `--dbuser=${server.user}`, '--dbname=postgres'],
        {...cleanEnv(), PGPASSWORD: server.password},
      )
      if (run.status === null || run.status > 2 || !/POSTGRES_BACKENDS/.test(run.stdout)) {
        throw new Error(`check_postgres exited ${run.status}: ${(run.stdout + run.stderr).trim().split('\n')[0]}`)
      }
      return run.ms
    },
    async setup() {
      server = await fixture.acquire()
    },
    async teardown() {
      await fixture.release()
    },
  }

  return [
    {
      id: 'inspect-vs-check-postgres',
      group: 'inspect',
      title: `\`poolctl inspect --json\` vs \`check_postgres --action=backends\`, ${SESSIONS} open sessions`,
      method: `Each run is a fresh process through spawnSync, timed from spawn to exit, against one embedded PostgreSQL 17 (max_connections 400) holding ${SESSIONS} sessions from ${APPS.length} application_names (30 idle in transaction, 10 running pg_sleep, the rest idle).`,
      unit: milliseconds,
      rounds: quick ? 3 : 9,
      subject: 'poolctl',
      contenders: [poolctl, checkPostgresContender],
      goals: [{kind: 'at-most', label: `poolctl inspect --json ≤ 1 s end to end with ${SESSIONS} sessions`, value: 1000}],
      skip() {
        if (!existsSync(POOLCTL) || !existsSync(join(projectRoot, 'oclif.manifest.json'))) return 'not built: run `npm run build`'
        if (!checkPostgres) return 'check_postgres not installed (Debian package `check-postgres`): apt-get install check-postgres'
        return undefined
      },
    },
  ]
}
