import assert from 'node:assert/strict'
import {after, afterEach, describe, it} from 'node:test'

import {createTestDatabase, dropTestDatabase, withClient} from '../support/postgres.js'
import {applications, createKnexTables, lockRows, Migrator, NONTX_MIGRATIONS, testKnex, unlock, waitForBackendsGone} from './helpers.js'

/** A database where knex has created its tables and `--track` is installed. */
async function trackedDatabase(databases: string[]): Promise<string> {
  const url = await createTestDatabase('unlock_track')
  databases.push(url)
  await createKnexTables(url) // knex creates its tables (ensureTable) without migrating
  const installed = await unlock(url, ['--track', '--yes'])
  assert.equal(installed.code, 0, installed.stderr)
  assert.deepEqual(installed.report.trackingChange, {requested: 'install', result: 'installed'})
  return url
}

describe('unlock-migrations --track', () => {
  const databases: string[] = []
  const migrators: Migrator[] = []
  afterEach(async () => {
    for (const migrator of migrators.splice(0)) await migrator.kill()
  })
  after(async () => {
    for (const url of databases) await dropTestDatabase(url)
  })

  it('installs idempotently, refuses without --yes, and removes cleanly', async () => {
    const url = await trackedDatabase(databases)
    const again = await unlock(url, ['--track', '--yes'])
    assert.deepEqual(again.report.trackingChange, {requested: 'install', result: 'already-installed'})
    assert.equal(again.report.tracking.installed, true)

    const noYes = await unlock(url, ['--untrack'])
    assert.equal(noYes.code, 1)
    assert.equal(noYes.report.trackingChange?.result, 'refused')

    const removed = await unlock(url, ['--untrack', '--yes'])
    assert.equal(removed.code, 0, removed.stderr)
    assert.deepEqual(removed.report.trackingChange, {requested: 'remove', result: 'removed'})
    await withClient(url, async (client) => {
      const {rows} = await client.query(
        `select 1 from pg_trigger where tgname = 'poolctl_track_lock'
          union all select 1 from pg_class where relname = 'poolctl_lock_tracking'
          union all select 1 from pg_proc where proname = 'poolctl_track_lock'`,
      )
      assert.equal(rows.length, 0, 'trigger, side table and function are gone')
    })
    const twice = await unlock(url, ['--untrack', '--yes'])
    assert.deepEqual(twice.report.trackingChange, {requested: 'remove', result: 'not-installed'})
  })

  it('a killed non-transactional run is provably stale: its recording backend is gone', async () => {
    const url = await trackedDatabase(databases)
    const migrator = new Migrator({applicationName: 'tracked-killed', directory: NONTX_MIGRATIONS, pauseAt: ['002'], url})
    migrators.push(migrator)
    await migrator.pausedAt('002')
    await migrator.kill()
    await waitForBackendsGone(url, 'tracked-killed')

    const stale = await unlock(url, ['--dry-run'])
    assert.equal(stale.code, 0, stale.stderr)
    assert.equal(stale.report.state, 'stale')
    assert.equal(stale.report.proof, 'tracking')
    assert.equal(stale.report.tracking.record?.matchesCurrentLock, true)
    assert.equal(stale.report.tracking.record?.backendAlive, false)
    assert.equal(stale.report.tracking.record?.applicationName, 'tracked-killed')

    const released = await unlock(url, ['--yes'])
    assert.equal(released.report.action, 'released')
    const next = testKnex(url, NONTX_MIGRATIONS)
    await next.migrate.latest()
    await next.destroy()
    const counts = await applications(url)
    assert.deepEqual(counts.applied, {'001_accounts': 1, '002_accounts_email_index': 1, '003_sessions': 1})
  })

  it('a live non-transactional run (paused, process alive) is held; unlock refuses where `knex migrate:unlock` lets a second migrator in', async () => {
    const url = await trackedDatabase(databases)
    const first = new Migrator({applicationName: 'tracked-live', directory: NONTX_MIGRATIONS, pauseAt: ['002'], url})
    migrators.push(first)
    await first.pausedAt('002')

    const held = await unlock(url, ['--yes'])
    assert.equal(held.code, 2, held.stderr)
    assert.equal(held.report.state, 'held')
    assert.equal(held.report.proof, 'tracking')
    assert.equal(held.report.action, 'refused')
    assert.equal(held.report.holders.length, 1)
    assert.equal(held.report.holders[0].applicationName, 'tracked-live')
    assert.equal(held.report.holders[0].role, 'tracked')
    assert.deepEqual((await lockRows(url)).map((row) => row.is_locked), [1], 'poolctl left the lock alone')

    // Without tracking, Postgres cannot tell this idle migrator from a dead one:
    const untracked = await unlock(url, ['--untrack', '--yes'])
    assert.equal(untracked.report.trackingChange?.result, 'removed')
    const blind = await unlock(url, ['--dry-run'])
    assert.equal(blind.report.state, 'stale')
    assert.equal(blind.report.proof, 'no-live-holder-found', 'stale, but explicitly not proven')
    assert.ok(blind.report.otherSessions.some((session) => session.applicationName === 'tracked-live'), 'the evidence lists the live migrator')

    // The contrast: knex's own unlock (DELETE + INSERT, no liveness check) lets a second migrator run
    // the migration the first one is still running.
    const second = testKnex(url, NONTX_MIGRATIONS)
    await second.migrate.forceFreeMigrationsLock()
    const [, applied] = (await second.migrate.latest()) as [number, string[]]
    await second.destroy()
    assert.deepEqual(applied, ['002_accounts_email_index.js', '003_sessions.js'], 'the second migrator got in')
    first.resume('002')
    await first.done
    const counts = await applications(url)
    assert.equal(counts.applied['002_accounts_email_index'], 2, 'migration 002 ran twice: what poolctl refused to allow')
  })
})
