import assert from 'node:assert/strict'
import {after, afterEach, describe, it} from 'node:test'

import {createTestDatabase, dropTestDatabase, quoteIdent, uniqueName, withClient} from '../support/postgres.js'
import {applications, createKnexTables, lockRows, Migrator, startUnlock, TX_MIGRATIONS, unlock} from './helpers.js'

describe('unlock-migrations: a transactional knex run paused inside its transaction', () => {
  const databases: string[] = []
  const migrators: Migrator[] = []
  const fresh = async () => {
    const url = await createTestDatabase('unlock_tx')
    databases.push(url)
    return url
  }
  afterEach(async () => {
    for (const migrator of migrators.splice(0)) await migrator.kill()
  })
  after(async () => {
    for (const url of databases) await dropTestDatabase(url)
  })

  it('is held with the pid of the transaction; unlock refuses (exit 2) and changes nothing; --wait succeeds once it commits', async () => {
    const url = await fresh()
    const migrator = new Migrator({directory: TX_MIGRATIONS, pauseAt: ['002'], url})
    migrators.push(migrator)
    const pid = await migrator.pausedAt('002')

    const held = await unlock(url, ['--yes'])
    assert.equal(held.code, 2, held.stderr)
    assert.equal(held.report.state, 'held')
    assert.equal(held.report.proof, 'row-lock')
    assert.equal(held.report.action, 'refused')
    assert.equal(held.report.reason?.code, 'LOCK_HELD')
    assert.deepEqual(
      held.report.holders.map((holder) => holder.pid),
      [pid],
    )
    assert.equal(held.report.holders[0].applicationName, 'poolctl-test-migrator')
    assert.equal(held.report.holders[0].state, 'idle in transaction')
    assert.equal(typeof held.report.holders[0].xactAgeSeconds, 'number')

    const forced = await unlock(url, ['--yes', '--force'])
    assert.equal(forced.code, 2, '--force cannot take a row a live transaction holds')
    assert.equal(forced.report.action, 'refused')

    const waiting = startUnlock(url, ['--yes', '--wait', '60'])
    await waiting.stderrMatches(/waiting up to 60 s/)
    // The CLI is polling: let the migration commit.
    migrator.resume('002')
    const waited = await waiting.result
    assert.equal(waited.code, 0, waited.stderr)
    assert.equal(waited.report.state, 'unlocked', 'the commit freed the lock: nothing left to release')
    assert.equal(waited.report.action, 'none')
    assert.ok(waited.report.waitedSeconds > 0)
    const done = await migrator.done
    assert.equal(done.event, 'done')
    const counts = await applications(url)
    assert.deepEqual(counts.applied, {'001_widgets': 1, '002_gadgets': 1, '003_widget_index': 1})
    assert.deepEqual((await lockRows(url)).map((row) => row.is_locked), [0])
  })

  it('--terminate PID ends exactly the holder; its transaction rolls back and the lock is free; knex then migrates', async () => {
    const url = await fresh()
    const migrator = new Migrator({directory: TX_MIGRATIONS, pauseAt: ['003'], url})
    migrators.push(migrator)
    const pid = await migrator.pausedAt('003')

    const other = await withClient(url, async (client) => {
      const {rows} = await client.query<{pid: number}>('select pg_backend_pid() as pid')
      // A pid that is not the holder is refused and nothing is terminated.
      const refused = await unlock(url, ['--yes', '--terminate', String(rows[0].pid)])
      assert.equal(refused.code, 2, 'the lock is still held')
      assert.equal(refused.report.action, 'refused')
      assert.equal(refused.report.reason?.code, 'NOT_HOLDER')
      assert.match(refused.report.reason?.message ?? '', new RegExp(`holders: ${pid}`))
      await client.query('select 1') // our own session survived
      return rows[0].pid
    })
    assert.notEqual(other, pid)

    const noYes = await unlock(url, ['--terminate', String(pid)])
    assert.equal(noYes.code, 2)
    assert.equal(noYes.report.reason?.code, 'REFUSED', 'no TTY, no --yes: nothing terminated')

    const terminated = await unlock(url, ['--yes', '--terminate', String(pid)])
    assert.equal(terminated.code, 0, terminated.stderr)
    assert.equal(terminated.report.action, 'terminated')
    assert.deepEqual(terminated.report.terminated, {exited: true, pid})
    assert.equal(terminated.report.stateAfter, 'unlocked')
    migrator.resume('003') // its next query finds the connection gone
    const done = await migrator.done
    assert.equal(done.event, 'done')
    assert.equal(done.event === 'done' && done.results[0].ok, false, 'the migrator saw its connection terminated')

    const rerun = new Migrator({directory: TX_MIGRATIONS, url})
    migrators.push(rerun)
    const rerunDone = await rerun.done
    assert.deepEqual(rerunDone.event === 'done' && rerunDone.results[0], {applied: ['001_widgets.js', '002_gadgets.js', '003_widget_index.js'], ok: true})
    const counts = await applications(url)
    assert.deepEqual(counts.applied, {'001_widgets': 1, '002_gadgets': 1, '003_widget_index': 1}, 'the terminated run rolled back entirely')
  })

  it('without permission to terminate, the refusal names pg_signal_backend', async () => {
    const url = await fresh()
    const role = uniqueName('unlock_weak')
    const weakUrl = new URL(url)
    weakUrl.username = role
    weakUrl.password = 'weak-password'
    await withClient(url, async (client) => {
      await client.query(`create role ${quoteIdent(role)} login password 'weak-password'`)
    })
    try {
      await createKnexTables(url) // knex creates its tables (ensureTable) without migrating
      await withClient(url, (client) => client.query(`grant select, update on knex_migrations_lock, knex_migrations to ${quoteIdent(role)}`))
      const migrator = new Migrator({directory: TX_MIGRATIONS, pauseAt: ['001'], url})
      migrators.push(migrator)
      const pid = await migrator.pausedAt('001')
      const denied = await unlock(weakUrl.toString(), ['--yes', '--terminate', String(pid)])
      assert.equal(denied.code, 2, denied.stderr)
      assert.equal(denied.report.action, 'refused')
      assert.equal(denied.report.reason?.code, 'PERMISSION_DENIED')
      assert.match(denied.report.reason?.message ?? '', /pg_signal_backend/)
    } finally {
      for (const migrator of migrators.splice(0)) await migrator.kill()
      await withClient(url, async (client) => {
        await client.query(`drop owned by ${quoteIdent(role)}`)
        await client.query(`drop role ${quoteIdent(role)}`)
      })
    }
  })
})
