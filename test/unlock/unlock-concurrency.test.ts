import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {createTestDatabase, dropTestDatabase} from '../support/postgres.js'
import {applications, createKnexTables, lockRows, Migrator, TX_MIGRATIONS, unlock, type UnlockRun} from './helpers.js'

describe('unlock-migrations in a loop while 20 transactional migrators race', () => {
  let url: string
  before(async () => {
    url = await createTestDatabase('unlock_race')
    // knex's own table set-up is not concurrency-safe (select-then-insert, knex #3538/#4865):
    // create the tables once, as a deploy's first migrator would.
    await createKnexTables(url) // knex creates its tables (ensureTable) without migrating
  })
  after(async () => {
    await dropTestDatabase(url)
  })

  it('never releases a live lock; every migration is applied exactly once; one lock row remains', async () => {
    // 20 knex instances (20 pools, separate connections) in one child process; the first to run
    // 002 pauses there inside its transaction until the loop has seen the lock held.
    const migrators = new Migrator({directory: TX_MIGRATIONS, instances: 20, pauseAt: ['002'], url})
    let finished = false
    void migrators.done.then(() => (finished = true))
    await migrators.pausedAt('002')

    const runs: UnlockRun[] = []
    let resumed = false
    while (!finished) {
      const run = await unlock(url, ['--yes'])
      runs.push(run)
      if (!resumed && run.report.state === 'held') {
        migrators.resume('002')
        resumed = true
      }
      if (runs.length > 50) break
    }
    const done = await migrators.done
    assert.equal(done.event, 'done', migrators.output)
    assert.equal(done.event === 'done' && done.results.length, 20)
    assert.ok(done.event === 'done' && done.results.every((result) => result.ok), JSON.stringify(done))
    const appliedBy = done.event === 'done' ? done.results.map((result) => result.applied?.length ?? 0) : []
    assert.deepEqual(
      appliedBy.filter((n) => n > 0),
      [3],
      'one migrator applied all three; the other 19 found nothing left to do',
    )

    assert.ok(runs.length > 0)
    for (const run of runs) {
      assert.ok(run.report.state === 'held' || run.report.state === 'unlocked', `unexpected state ${run.report.state}`)
      assert.notEqual(run.report.action, 'released')
      assert.equal(run.code, run.report.state === 'held' ? 2 : 0)
    }
    assert.ok(resumed, 'the loop saw the lock held by the paused migrator')

    const counts = await applications(url)
    assert.deepEqual(counts.applied, {'001_widgets': 1, '002_gadgets': 1, '003_widget_index': 1})
    assert.deepEqual(counts.recorded, {'001_widgets': 1, '002_gadgets': 1, '003_widget_index': 1})
    assert.deepEqual((await lockRows(url)).map((row) => row.is_locked), [0])

    const last = await unlock(url, ['--yes'])
    assert.equal(last.report.state, 'unlocked')
  })
})
