import assert from 'node:assert/strict'
import {after, describe, it} from 'node:test'

import {createTestDatabase, dropTestDatabase, quoteIdent, withClient} from '../support/postgres.js'
import {applications, createKnexTables, lockRows, testKnex, TX_MIGRATIONS, unlock} from './helpers.js'

/** Lock-table shapes and names: corrupt tables, missing tables, foreign tables, hostile identifiers. */
describe('unlock-migrations: the lock table itself', () => {
  const databases: string[] = []
  const fresh = async (withKnexTables = true) => {
    const url = await createTestDatabase('unlock_table')
    databases.push(url)
    if (withKnexTables) {
      await createKnexTables(url) // knex creates its tables (ensureTable) without migrating
    }
    return url
  }
  after(async () => {
    for (const url of databases) await dropTestDatabase(url)
  })

  it('two rows are corrupt (knex fails forever); repaired to one row in one transaction; knex then migrates', async () => {
    const url = await fresh()
    await withClient(url, (client) => client.query('insert into knex_migrations_lock (is_locked) values (0)'))
    const blocked = testKnex(url, TX_MIGRATIONS)
    await assert.rejects(blocked.migrate.latest(), /already locked/, 'knex #3538: two rows lock everyone out')
    await blocked.destroy()

    const repaired = await unlock(url, ['--yes'])
    assert.equal(repaired.code, 0, repaired.stderr)
    assert.equal(repaired.report.state, 'corrupt')
    assert.equal(repaired.report.proof, 'row-count')
    assert.equal(repaired.report.action, 'released')
    assert.equal(repaired.report.rowsBefore, 2)
    assert.equal(repaired.report.rowsAfter, 1)
    assert.deepEqual(await lockRows(url), [{index: 1, is_locked: 0}])

    const next = testKnex(url, TX_MIGRATIONS)
    await next.migrate.latest()
    await next.destroy()
    assert.deepEqual((await applications(url)).applied, {'001_widgets': 1, '002_gadgets': 1, '003_widget_index': 1})
  })

  it('zero rows are corrupt; repaired by inserting one row', async () => {
    const url = await fresh()
    await withClient(url, (client) => client.query('delete from knex_migrations_lock'))
    const repaired = await unlock(url, ['--yes'])
    assert.equal(repaired.code, 0, repaired.stderr)
    assert.equal(repaired.report.state, 'corrupt')
    assert.equal(repaired.report.rowsBefore, 0)
    assert.equal(repaired.report.rowsAfter, 1)
    assert.deepEqual((await lockRows(url)).map((row) => row.is_locked), [0])
  })

  it('a missing lock table is reported with where poolctl looked, exit 0', async () => {
    const url = await fresh(false)
    const missing = await unlock(url, ['--yes'])
    assert.equal(missing.code, 0, missing.stderr)
    assert.equal(missing.report.state, 'missing')
    assert.equal(missing.report.action, 'none')
    assert.deepEqual(missing.report.searchPath, ['public'])
    assert.match(missing.report.notes.join('\n'), /current_schema\(\) "public"/)
  })

  it('a table of the same name with another shape is refused (TABLE_SHAPE, exit 3) and left alone', async () => {
    const url = await fresh(false)
    await withClient(url, (client) =>
      client.query("create table knex_migrations_lock (id int, is_locked text, note text); insert into knex_migrations_lock values (1, '1', 'mine')"),
    )
    const refused = await unlock(url, ['--yes'])
    assert.equal(refused.code, 3)
    assert.equal((refused.report as unknown as {error: {code: string}}).error.code, 'TABLE_SHAPE')
    const rows = await withClient(url, async (client) => (await client.query('select * from knex_migrations_lock')).rows)
    assert.deepEqual(rows, [{id: 1, is_locked: '1', note: 'mine'}])
  })

  it('--table and --schema with quotes, semicolons and odd case are identifiers, never SQL', async () => {
    const url = await fresh(false)
    const schema = `Mig"s; drop table canary; --`
    const table = `Knex"Migrations'; select 1; --`
    await withClient(url, async (client) => {
      await client.query('create table canary (id int)')
      await client.query(`create schema ${quoteIdent(schema)}`)
    })
    // knex itself creates the tables under these names (it quotes identifiers too).
    await createKnexTables(url, {schemaName: schema, tableName: table}) // knex creates its tables (ensureTable) without migrating
    const lockTable = `${quoteIdent(schema)}.${quoteIdent(`${table}_lock`)}`
    await withClient(url, (client) => client.query(`update ${lockTable} set is_locked = 1`))

    const released = await unlock(url, ['--yes', '--schema', schema, '--table', table])
    assert.equal(released.code, 0, released.stderr)
    assert.equal(released.report.state, 'stale')
    assert.equal(released.report.schema, schema)
    assert.equal(released.report.lockTable, `${table}_lock`)
    assert.equal(released.report.qualifiedLockTable, lockTable)
    assert.equal(released.report.action, 'released')
    assert.deepEqual((await lockRows(url, lockTable)).map((row) => row.is_locked), [0])
    await withClient(url, (client) => client.query('select * from canary'))

    const wrongCase = await unlock(url, ['--schema', schema.toLowerCase(), '--table', table])
    assert.equal(wrongCase.report.state, 'missing', 'case matters: identifiers are quoted, not folded')

    const empty = await unlock(url, ['--table', ''])
    assert.equal(empty.code, 64)
  })
})
