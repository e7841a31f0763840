import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {parsePid, qualifiedName, quoteIdent} from '../../src/pg/sql.js'
import {createTestDatabase, dropTestDatabase, withClient} from '../support/postgres.js'

describe('hostile_flags: user input that reaches SQL', () => {
  let url: string
  before(async () => {
    url = await createTestDatabase('hostile')
  })
  after(async () => {
    await dropTestDatabase(url)
  })

  it('hostile_flags: schema/table names with quotes and semicolons are quoted identifiers, never SQL', async () => {
    const hostile = ['x"; drop table victims; --', "it's", 'MixedCase', 'semi;colon', 'spa ce', '"']
    await withClient(url, async (client) => {
      await client.query('create table victims (id int)')
      for (const name of hostile) {
        await client.query(`create schema ${quoteIdent(name)}`)
        await client.query(`create table ${qualifiedName(name, name)} (n int)`)
        await client.query(`insert into ${qualifiedName(name, name)} values ($1)`, [1])
        const {rows} = await client.query<{n: number}>(`select n from ${qualifiedName(name, name)}`)
        assert.deepEqual(rows, [{n: 1}])
      }

      const {rows} = await client.query<{name: string}>(
        "select nspname as name from pg_namespace where nspname = any($1::text[]) order by 1",
        [hostile],
      )
      assert.deepEqual(rows.map((r) => r.name), [...hostile].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)))
      const victims = await client.query("select to_regclass('public.victims') as t")
      assert.equal(victims.rows[0].t, 'victims', 'the injection attempt did not run')
    })
  })

  it('hostile_flags: quoteIdent refuses what cannot be an identifier', () => {
    assert.throws(() => quoteIdent(''), TypeError)
    assert.throws(() => quoteIdent('a\0b'), TypeError)
    assert.equal(quoteIdent('a"b'), '"a""b"')
  })

  it('hostile_flags: pids are parsed as integers, anything else is refused', () => {
    assert.equal(parsePid('12345'), 12345)
    assert.equal(parsePid(' 42 '), 42)
    for (const bad of ['1; select 1', '1e3', '-5', '0', '0x10', '', '3.0', '99999999999', 'NaN']) {
      assert.equal(parsePid(bad), undefined, bad)
    }
  })
})
