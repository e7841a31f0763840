import assert from 'node:assert/strict'
import {crc32} from 'node:zlib'
import {after, before, describe, it} from 'node:test'

import {createTestDatabase, dropTestDatabase, withClient} from '../support/postgres.js'
import {unlock} from './helpers.js'

describe('unlock-migrations: other migration tools', () => {
  let url: string
  let database: string
  before(async () => {
    url = await createTestDatabase('unlock_tools')
    database = decodeURIComponent(new URL(url).pathname.slice(1))
  })
  after(async () => {
    await dropTestDatabase(url)
  })

  it("an advisory lock taken with Prisma's key is reported with the holder's pid (exit 2); --terminate PID releases it", async () => {
    await withClient(url, async (prisma) => {
      await prisma.query('select pg_advisory_lock(72707369)')
      const {rows} = await prisma.query<{pid: number}>('select pg_backend_pid() as pid')
      const held = await unlock(url, ['--yes'])
      assert.equal(held.code, 2, held.stderr)
      assert.equal(held.report.state, 'missing', 'no knex tables in this database')
      const lock = held.report.otherTools.find((tool) => tool.tool === 'Prisma Migrate')
      assert.ok(lock, JSON.stringify(held.report.otherTools))
      assert.equal(lock.state, 'held')
      assert.equal(lock.key, '72707369')
      assert.deepEqual(
        lock.holders.map((holder) => holder.pid),
        [rows[0].pid],
      )

      const terminated = await unlock(url, ['--yes', '--terminate', String(rows[0].pid)])
      assert.equal(terminated.code, 0, terminated.stderr)
      assert.equal(terminated.report.action, 'terminated')
      assert.deepEqual(terminated.report.otherTools, [])
      await assert.rejects(prisma.query('select 1'), 'the holder was terminated')
    })
  })

  it('golang-migrate\'s key is computed from schema, table and database; Kysely\'s transaction-level lock is found too', async () => {
    // Independent of poolctl's crc32: Node's zlib.
    const key = (BigInt(crc32(`public\0schema_migrations\0${database}`)) * 1_486_364_155n) & 0xff_ff_ff_ffn
    await withClient(url, async (golang) => {
      await golang.query('select pg_advisory_lock($1::int8)', [key.toString()])
      await withClient(url, async (kysely) => {
        await kysely.query('begin')
        await kysely.query('select pg_advisory_xact_lock(3853314791062309107)')
        const held = await unlock(url)
        await kysely.query('rollback')
        assert.equal(held.code, 2)
        const tools = Object.fromEntries(held.report.otherTools.map((lock) => [lock.tool, lock]))
        assert.equal(tools['golang-migrate']?.key, key.toString())
        assert.match(tools['golang-migrate']?.variant ?? '', /schema "public", table "schema_migrations"/)
        assert.equal(tools.Kysely?.state, 'held')
      })
      await golang.query('select pg_advisory_unlock_all()')
    })
  })

  it("Liquibase's databasechangeloglock: held while a session from before LOCKGRANTED lives, stale once none does; reset needs --yes", async () => {
    await withClient(url, (client) =>
      client.query(`create table databasechangeloglock (id int primary key, locked boolean not null, lockgranted timestamp, lockedby varchar(255));
                    insert into databasechangeloglock values (1, true, localtimestamp, 'ci-runner (10.0.0.7)')`),
    )
    // A session connected before LOCKGRANTED may be the holder.
    await withClient(url, async (client) => {
      await client.query('update databasechangeloglock set lockgranted = localtimestamp')
      const held = await unlock(url, ['--yes'])
      const lock = held.report.otherTools.find((tool) => tool.tool === 'Liquibase')
      assert.equal(lock?.state, 'held')
      assert.equal(held.code, 2)
    })
    // A lock granted long before any current session connected: its session is gone.
    await withClient(url, (client) => client.query("update databasechangeloglock set lockgranted = localtimestamp - interval '1 day'"))
    const refused = await unlock(url)
    const stale = refused.report.otherTools.find((tool) => tool.tool === 'Liquibase')
    assert.equal(stale?.state, 'stale')
    assert.equal(stale?.lockedBy, 'ci-runner (10.0.0.7)')
    assert.equal(refused.code, 1)

    const reset = await unlock(url, ['--yes'])
    assert.equal(reset.code, 0, reset.stderr)
    assert.equal(reset.report.action, 'released')
    const rows = await withClient(url, async (client) => (await client.query('select * from databasechangeloglock')).rows)
    assert.deepEqual(rows, [{id: 1, locked: false, lockedby: null, lockgranted: null}])
  })
})
