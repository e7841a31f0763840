import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {cliEnv, HAS_SCRIPT, spawnOnTerminal, typeOnceShown} from '../support/cli.js'
import {createTestDatabase, dropTestDatabase, withClient} from '../support/postgres.js'
import {createKnexTables, lockRows} from './helpers.js'

/** On a pseudo-terminal, the test types the answer once the question shows. */
function answerOnTty(url: string, answer: string): Promise<{code: number | null; output: string}> {
  const child = spawnOnTerminal(['unlock-migrations', '--url', url], cliEnv())
  return typeOnceShown(child, (output) => output.includes('Go ahead? [y/N]'), [`${answer}\n`])
}

describe('unlock-migrations on a terminal', {skip: HAS_SCRIPT ? false : 'util-linux `script` is not installed'}, () => {
  let url: string
  before(async () => {
    url = await createTestDatabase('unlock_tty')
    await createKnexTables(url) // knex creates its tables (ensureTable) without migrating
    await withClient(url, (client) => client.query('update knex_migrations_lock set is_locked = 1'))
  })
  after(async () => {
    await dropTestDatabase(url)
  })

  it('shows the diagnosis and asks; "n" changes nothing (exit 1)', async () => {
    const {code, output} = await answerOnTty(url, 'n')
    assert.equal(code, 1, output)
    assert.match(output, /knex migration lock: STALE/)
    assert.match(output, /declined: nothing was changed/)
    assert.deepEqual((await lockRows(url)).map((row) => row.is_locked), [1])
  })

  it('"y" releases (exit 0)', async () => {
    const {code, output} = await answerOnTty(url, 'y')
    assert.equal(code, 0, output)
    assert.match(output, /Action: released/)
    assert.deepEqual((await lockRows(url)).map((row) => row.is_locked), [0])
  })
})
