/**
 * The generated test set-up, run by 8 real processes at once against the embedded PostgreSQL: every
 * migration is applied exactly once and no worker sees "Migration table is already locked".
 */
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {rm} from 'node:fs/promises'
import {after, before, describe, it} from 'node:test'

import {cliEnv, runCli} from '../support/cli.js'
import {createTestDatabase, dropTestDatabase, withClient} from '../support/postgres.js'
import {createFixture, type FixtureSpec} from './support.js'

const WORKERS = 8

/**
 * Each migration also logs itself in a side table: a migration applied twice shows up there even if
 * knex_migrations hides it. The first is non-transactional (`config.transaction = false`): knex then
 * commits is_locked = 1, and concurrent runners without the set-up's advisory lock fail with "Migration
 * table is already locked" (or race in knex's ensureTable: "relation knex_migrations already exists").
 * Checked by hand: with the pg_advisory_xact_lock line removed, 7 of 8 workers fail this way.
 */
const migration = (name: string, sleepSeconds: number, esm: boolean, transaction = true) => {
  const body = `async (knex) => {
  await knex.raw('create table if not exists applied_log (name text not null, applied_at timestamptz default now())')
  await knex.raw('select pg_sleep(${sleepSeconds})')
  await knex.schema.createTable('${name}', (table) => table.increments('id'))
  await knex('applied_log').insert({name: '${name}'})
}`
  const down = `async (knex) => knex.schema.dropTable('${name}')`
  const config = transaction ? '' : esm ? 'export const config = {transaction: false}\n' : 'exports.config = {transaction: false}\n'
  return config + (esm ? `export const up = ${body}\nexport const down = ${down}\n` : `exports.up = ${body}\nexports.down = ${down}\n`)
}

function migrations(esm: boolean): Record<string, string> {
  return {
    'migrations/001_accounts.js': migration('accounts', 0.5, esm, false),
    'migrations/002_orders.js': migration('orders', 0.1, esm),
    'migrations/003_invoices.js': migration('invoices', 0, esm),
  }
}

interface WorkerResult {
  code: number | null
  stderr: string
}

function runWorker(dir: string, args: string[], url: string, env: Record<string, string> = {}): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {cwd: dir, env: {...cliEnv(), DATABASE_URL: url, NODE_ENV: 'test', ...env}, stdio: ['ignore', 'ignore', 'pipe']})
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({code, stderr}))
  })
}

async function assertAppliedOnce(url: string): Promise<void> {
  await withClient(url, async (client) => {
    const applied = await client.query<{name: string; n: number}>('select name, count(*)::int as n from knex_migrations group by name order by name')
    assert.deepEqual(applied.rows, [
      {n: 1, name: '001_accounts.js'},
      {n: 1, name: '002_orders.js'},
      {n: 1, name: '003_invoices.js'},
    ])
    const log = await client.query<{name: string; n: number}>('select name, count(*)::int as n from applied_log group by name order by name')
    assert.deepEqual(log.rows, [
      {n: 1, name: 'accounts'},
      {n: 1, name: 'invoices'},
      {n: 1, name: 'orders'},
    ])
    const lock = await client.query<{is_locked: number}>('select is_locked from knex_migrations_lock')
    assert.deepEqual(lock.rows, [{is_locked: 0}])
  })
}

function describeWorkers(title: string, spec: FixtureSpec, esm: boolean, setup: string, workerArgs: (setupPath: string) => string[]) {
  describe(title, () => {
    let dir: string
    let url: string
    before(async () => {
      dir = await createFixture({...spec, files: {...spec.files, ...migrations(esm)}, installPoolctl: true})
      url = await createTestDatabase('init_migrate')
      const result = await runCli(['init', '--dir', dir, '--only', 'pool,tests'])
      assert.equal(result.code, 0, result.stderr)
    })
    after(async () => {
      await dropTestDatabase(url)
      await rm(dir, {force: true, recursive: true})
    })

    it(`${WORKERS} workers at once on an empty database: each migration applied exactly once, every worker exits 0`, async () => {
      const results = await Promise.all(Array.from({length: WORKERS}, () => runWorker(dir, workerArgs(setup), url)))
      for (const [index, result] of results.entries()) {
        assert.equal(result.code, 0, `worker ${index}: ${result.stderr}`)
        assert.doesNotMatch(result.stderr, /already locked/i)
      }
      await assertAppliedOnce(url)
    })

    it(`${WORKERS} workers whose sessions have a short lock_timeout (a knexfile's afterCreate, PGOPTIONS): the waiting ones still wait`, async () => {
      // lock_timeout applies to advisory locks too: without the set-up lifting it in its transaction,
      // the workers queued behind the first one's 0.5 s migration are cancelled ("lock timeout").
      const fresh = await createTestDatabase('init_migrate_lock_timeout')
      try {
        const results = await Promise.all(Array.from({length: WORKERS}, () => runWorker(dir, workerArgs(setup), fresh, {PGOPTIONS: '-c lock_timeout=100'})))
        for (const [index, result] of results.entries()) assert.equal(result.code, 0, `worker ${index}: ${result.stderr}`)
        await assertAppliedOnce(fresh)
      } finally {
        await dropTestDatabase(fresh)
      }
    })

    it(`${WORKERS} more workers once migrated, with POOLCTL_TRACK_MIGRATIONS=1: nothing applied again; tracking installed once`, async () => {
      const results = await Promise.all(Array.from({length: WORKERS}, () => runWorker(dir, workerArgs(setup), url, {POOLCTL_TRACK_MIGRATIONS: '1'})))
      for (const result of results) assert.equal(result.code, 0, result.stderr)
      await assertAppliedOnce(url)
      await withClient(url, async (client) => {
        const triggers = await client.query("select tgrelid::regclass::text as on_table from pg_trigger where tgname = 'poolctl_track_lock'")
        assert.deepEqual(triggers.rows, [{on_table: 'knex_migrations_lock'}])
      })
    })
  })
}

// node:test: every test file's process imports the set-up (node --import ./test/setup/poolctl-migrate.js --test).
describeWorkers('generated set-up: node:test, ESM', {packageJson: {name: 'shop', scripts: {test: 'node --test'}, type: 'module'}}, true, 'test/setup/poolctl-migrate.js', (setup) => [
  '--import',
  `./${setup}`,
  '--eval',
  'process.exitCode = 0',
])

// mocha: mochaGlobalSetup from the --require'd CommonJS file, once per mocha process (here: 8 mocha runs at once, e.g. CI shards).
describeWorkers('generated set-up: mocha, CommonJS', {packageJson: {devDependencies: {mocha: '^10.0.0'}, name: 'billing'}}, false, 'test/setup/poolctl-migrate.js', (setup) => [
  '--eval',
  `require('./${setup}').mochaGlobalSetup().catch((error) => { console.error(error); process.exitCode = 1 })`,
])
