import {type ChildProcess, fork, spawn} from 'node:child_process'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import knexFactory from 'knex'
import type {Knex} from 'knex'

import type {UnlockReport} from '../../src/unlock/types.js'
import {BIN, cliEnv, PROJECT_ROOT} from '../support/cli.js'
import {withClient} from '../support/postgres.js'
import type {MigratorConfig, MigratorMessage} from './fixtures/migrator.js'

const here = dirname(fileURLToPath(import.meta.url))
export const MIGRATOR = join(here, 'fixtures', 'migrator.js')
/** Transactional migrations; 001–003 each have a pause point. */
export const TX_MIGRATIONS = join(here, 'fixtures', 'migrations-tx')
/** 002 has `config.transaction = false` (CREATE INDEX CONCURRENTLY): the whole run is non-transactional. */
export const NONTX_MIGRATIONS = join(here, 'fixtures', 'migrations-nontx')

/** A knex migrator child process (fixtures/migrator.ts). */
export class Migrator {
  readonly child: ChildProcess
  readonly done: Promise<Extract<MigratorMessage, {event: 'done'}> | {event: 'exit'; code: number | null; signal: string | null}>
  output = ''
  private readonly paused = new Map<string, (pid: number) => void>()
  private readonly pausedPids = new Map<string, number>()

  constructor(config: MigratorConfig) {
    this.child = fork(MIGRATOR, [], {
      env: {...process.env, POOLCTL_TEST_MIGRATOR: JSON.stringify(config)},
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    })
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk))
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk))
    this.done = new Promise((resolve) => {
      this.child.on('message', (message: MigratorMessage) => {
        if (message.event === 'paused') {
          this.pausedPids.set(message.name, message.pid)
          this.paused.get(message.name)?.(message.pid)
        } else {
          resolve(message)
        }
      })
      this.child.on('exit', (code, signal) => resolve({code, event: 'exit', signal}))
    })
  }

  /** Resolves with the backend pid once the migration `name` is paused. */
  async pausedAt(name: string): Promise<number> {
    const known = this.pausedPids.get(name)
    if (known !== undefined) return known
    return new Promise((resolve, reject) => {
      this.paused.set(name, resolve)
      void this.done.then((message) => reject(new Error(`migrator finished before pausing at ${name}: ${JSON.stringify(message)}\n${this.output}`)))
    })
  }

  resume(name: string): void {
    this.child.send({resume: name})
  }

  /** SIGKILL, and wait until the process is gone. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = new Promise((resolve) => this.child.once('exit', resolve))
    this.child.kill('SIGKILL')
    await exited
  }
}

/** Wait until no backend with this application_name is connected (the server notices a killed client asynchronously). */
export async function waitForBackendsGone(url: string, applicationName: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const {rows} = await withClient(url, (client) =>
      client.query<{n: number}>('select count(*)::int as n from pg_stat_activity where application_name = $1', [applicationName]),
    )
    if (rows[0].n === 0) return
    if (Date.now() > deadline) throw new Error(`backends of ${applicationName} still connected after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

export interface UnlockRun {
  code: number | null
  report: UnlockReport
  stderr: string
}

/** `poolctl unlock-migrations --json --url <url> ...args` (no TTY). */
export async function unlock(url: string, args: string[] = [], timeoutMs = 60_000): Promise<UnlockRun> {
  return startUnlock(url, args, timeoutMs).result
}

export interface RunningUnlock {
  /** Resolves once stderr matches (e.g. the `--wait` progress line). */
  stderrMatches(pattern: RegExp): Promise<void>
  result: Promise<UnlockRun>
}

/** Start `poolctl unlock-migrations --json …` and watch its stderr while it runs. */
export function startUnlock(url: string, args: string[] = [], timeoutMs = 60_000): RunningUnlock {
  const child = spawn(process.execPath, [BIN, 'unlock-migrations', '--json', '--url', url, ...args], {
    cwd: PROJECT_ROOT,
    env: cliEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  const watchers: Array<{pattern: RegExp; resolve: () => void}> = []
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
    for (const watcher of watchers.splice(0)) {
      if (watcher.pattern.test(stderr)) watcher.resolve()
      else watchers.push(watcher)
    }
  })
  const result = new Promise<UnlockRun>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`unlock-migrations ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`))
    }, timeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      try {
        resolve({code, report: JSON.parse(stdout) as UnlockReport, stderr})
      } catch {
        reject(new Error(`unlock-migrations printed no JSON (exit ${code}):\n${stdout}\n${stderr}`))
      }
    })
  })
  return {
    result,
    stderrMatches: (pattern) =>
      pattern.test(stderr)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            watchers.push({pattern, resolve})
            result.then(() => reject(new Error(`stderr never matched ${pattern}: ${stderr}`)), reject)
          }),
  }
}

/** A knex instance for the test process itself (one connection). */
export function testKnex(url: string, directory: string, extra: Partial<Knex.MigratorConfig> = {}): Knex {
  return knexFactory({
    client: 'pg',
    connection: {application_name: 'poolctl-test-runner', connectionString: url},
    // knex's "Can't take lock" warnings are expected in these tests
    log: {debug() {}, deprecate() {}, error() {}, warn() {}},
    migrations: {directory, loadExtensions: ['.js'], ...extra},
    pool: {max: 2, min: 0},
  })
}

/** Let knex create its tables the way a first migrator does (ensureTable), without migrating. */
export async function createKnexTables(url: string, extra: Partial<Knex.MigratorConfig> = {}): Promise<void> {
  const knex = testKnex(url, TX_MIGRATIONS, extra)
  await knex.migrate.list()
  await knex.destroy()
}

/** How many times each migration was applied (its own log) and recorded (knex_migrations). */
export async function applications(url: string, tableName = 'knex_migrations', schema = 'public'): Promise<{applied: Record<string, number>; recorded: Record<string, number>}> {
  return withClient(url, async (client) => {
    const count = async (sql: string) => {
      const {rows} = await client.query<{name: string; n: number}>(sql)
      return Object.fromEntries(rows.map((row) => [row.name, row.n]))
    }
    const applied = await count('select name, count(*)::int as n from migration_log group by name order by name').catch(() => ({}))
    const recorded = await count(
      `select regexp_replace(name, '\\.js$', '') as name, count(*)::int as n from "${schema.replaceAll('"', '""')}"."${tableName.replaceAll('"', '""')}" group by 1 order by 1`,
    )
    return {applied, recorded}
  })
}

/** The rows of the lock table. */
export async function lockRows(url: string, qualified = '"public"."knex_migrations_lock"'): Promise<Array<{index: number; is_locked: number}>> {
  return withClient(url, async (client) => (await client.query<{index: number; is_locked: number}>(`select * from ${qualified} order by 1`)).rows)
}
