import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {createTestDatabase, dropTestDatabase, withClient} from '../support/postgres.js'
import {applications, lockRows, Migrator, NONTX_MIGRATIONS, testKnex, unlock, waitForBackendsGone} from './helpers.js'

describe('unlock-migrations: a non-transactional knex run killed mid-migration', () => {
  let url: string
  before(async () => {
    url = await createTestDatabase('unlock_nontx')
  })
  after(async () => {
    await dropTestDatabase(url)
  })

  it('is stale; without --yes nothing changes (exit 1); --dry-run says what it would do; --yes releases it; the next migrate.latest() applies each migration exactly once', async () => {
    const migrator = new Migrator({applicationName: 'nontx-killed', directory: NONTX_MIGRATIONS, pauseAt: ['002'], url})
    await migrator.pausedAt('002')
    await migrator.kill()
    await waitForBackendsGone(url, 'nontx-killed')
    assert.deepEqual(
      (await lockRows(url)).map((row) => row.is_locked),
      [1],
      'knex committed is_locked = 1 and nobody freed it',
    )

    // A real knex migrator now fails, as users see it.
    const blocked = testKnex(url, NONTX_MIGRATIONS)
    await assert.rejects(blocked.migrate.latest(), /already locked/)
    await blocked.destroy()

    const refused = await unlock(url)
    assert.equal(refused.code, 1, refused.stderr)
    assert.equal(refused.report.state, 'stale')
    assert.equal(refused.report.proof, 'no-live-holder-found')
    assert.equal(refused.report.action, 'refused')
    assert.equal(refused.report.reason?.code, 'REFUSED')
    assert.deepEqual(refused.report.holders, [])
    assert.equal(refused.report.latestMigration?.name, '001_accounts.js', 'evidence: the last migration knex recorded')
    assert.deepEqual((await lockRows(url)).map((row) => row.is_locked), [1], 'no --yes, no TTY: unchanged')

    const dryRun = await unlock(url, ['--dry-run', '--yes'])
    assert.equal(dryRun.code, 0, dryRun.stderr)
    assert.equal(dryRun.report.action, 'would-release')
    assert.match(dryRun.report.plan.join('\n'), /ACCESS EXCLUSIVE/)
    assert.deepEqual((await lockRows(url)).map((row) => row.is_locked), [1], '--dry-run: unchanged')

    const released = await unlock(url, ['--yes'])
    assert.equal(released.code, 0, released.stderr)
    assert.equal(released.report.action, 'released')
    assert.equal(released.report.state, 'stale')
    assert.equal(released.report.stateAfter, 'unlocked')
    assert.equal(released.report.rowsBefore, 1)
    assert.equal(released.report.rowsAfter, 1)
    assert.deepEqual((await lockRows(url)).map((row) => row.is_locked), [0])

    const next = testKnex(url, NONTX_MIGRATIONS)
    const [, applied] = (await next.migrate.latest()) as [number, string[]]
    await next.destroy()
    assert.deepEqual(applied, ['002_accounts_email_index.js', '003_sessions.js'])
    const counts = await applications(url)
    assert.deepEqual(counts.applied, {'001_accounts': 1, '002_accounts_email_index': 1, '003_sessions': 1})
    assert.deepEqual(counts.recorded, {'001_accounts': 1, '002_accounts_email_index': 1, '003_sessions': 1})

    const again = await unlock(url)
    assert.equal(again.code, 0)
    assert.equal(again.report.state, 'unlocked')
    assert.equal(again.report.action, 'none')
  })

  /** is_locked = 1 committed, and another session in the middle of DDL while `during` runs. */
  async function whileDdlInProgress<T>(during: (ddlPid: number) => Promise<T>): Promise<T> {
    await withClient(url, (client) => client.query('update knex_migrations_lock set is_locked = 1'))
    return withClient(url, async (ddl) => {
      await ddl.query('begin')
      await ddl.query('create table half_done (id int)')
      const {rows} = await ddl.query<{pid: number}>('select pg_backend_pid() as pid')
      try {
        return await during(rows[0].pid)
      } finally {
        await ddl.query('rollback')
      }
    })
  }

  it('is held (not stale) while a session does migration work: DDL in an open transaction', async () => {
    const {held, ddlPid} = await whileDdlInProgress(async (pid) => ({ddlPid: pid, held: await unlock(url, ['--yes'])}))
    assert.equal(held.code, 2, held.stderr)
    assert.equal(held.report.state, 'held')
    assert.equal(held.report.proof, 'migration-activity')
    assert.deepEqual(
      held.report.holders.map((holder) => holder.pid),
      [ddlPid],
    )
    assert.equal(held.report.action, 'refused')
    const afterDdl = await unlock(url, ['--yes'])
    assert.equal(afterDdl.report.action, 'released', 'once the DDL session is gone it is stale again')
  })

  it('--force releases a lock held by a non-transactional holder, with a loud warning', async () => {
    const forced = await whileDdlInProgress(() => unlock(url, ['--yes', '--force']))
    assert.equal(forced.code, 0, forced.stderr)
    assert.equal(forced.report.state, 'held')
    assert.equal(forced.report.forced, true)
    assert.equal(forced.report.action, 'released')
    assert.match(forced.stderr, /poolctl: warning: --force/)
    assert.deepEqual((await lockRows(url)).map((row) => row.is_locked), [0])
  })
})
