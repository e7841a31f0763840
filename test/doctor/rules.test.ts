/**
 * Every rule on its own: a positive case (flagged, at the right line and column) and negative cases,
 * including the idiomatic correct code it must not flag. Sources are analysed in memory.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {found} from './support.js'

const SHARED = "const knex = require('knex')\nmodule.exports = knex(require('./knexfile').production)\n"

describe('separate-pool', () => {
  it('flags pg pools, pg clients and a second knex() outside the shared pool module', () => {
    const files = {
      'src/db.ts': "import knex from 'knex'\nexport const db = knex({client: 'pg'})\n",
      'src/workers/a.ts': "import {Pool} from 'pg'\nexport const pool = new Pool()\n",
      'src/workers/b.js': "const pg = require('pg')\nconst c = new pg.Client()\n",
      'src/workers/c.mjs': "import * as pg from 'pg'\nexport const p = new pg.Pool()\n",
      'src/workers/d.js': "const db = require('knex')({client: 'pg'})\n",
      'src/workers/e.ts': "import PgPool from 'pg-pool'\nexport const p = new PgPool()\n",
    }
    assert.deepEqual(found(files, 'separate-pool'), [
      'separate-pool src/workers/a.ts:2:21',
      'separate-pool src/workers/b.js:2:11',
      'separate-pool src/workers/c.mjs:2:18',
      'separate-pool src/workers/d.js:1:12',
      'separate-pool src/workers/e.ts:2:18',
    ])
  })

  it('sees pg through every import shape: ESM default then destructured, require(...).Pool, pg.native, .cts/.mts', () => {
    const files = {
      'src/db.ts': "import knex from 'knex'\nexport const db = knex({client: 'pg'})\n",
      'src/workers/a.mjs': "import pg from 'pg'\nconst {Pool, Client: PgClient} = pg\nexport const p = new Pool()\nexport const c = new PgClient()\n",
      'src/workers/b.cts': "const Pool = require('pg').Pool\nexport const p = new Pool()\n",
      'src/workers/c.js': "const pg = require('pg')\nconst p = new pg.native.Pool()\nconst q = new (require('pg').Pool)()\n",
      'src/workers/d.mts': "import * as pg from 'pg'\nconst {Pool} = pg\nexport const p = new Pool()\n",
    }
    assert.deepEqual(found(files, 'separate-pool'), [
      'separate-pool src/workers/a.mjs:3:18',
      'separate-pool src/workers/a.mjs:4:18',
      'separate-pool src/workers/b.cts:2:18',
      'separate-pool src/workers/c.js:2:11',
      'separate-pool src/workers/c.js:3:11',
      'separate-pool src/workers/d.mts:3:18',
    ])
    // a local value that merely comes from pg is not a constructor of pg's
    assert.deepEqual(found({'src/db.ts': files['src/db.ts'], 'src/x.js': "import pg from 'pg'\nconst {types} = pg\nnew types.Thing()\n"}, 'separate-pool'), [])
  })

  it('does not flag the shared pool module, tests, other libraries\' Pool, or a single pool', () => {
    assert.deepEqual(found({'src/db.js': SHARED, 'src/orders.js': "const db = require('./db')\nmodule.exports = () => db('orders')\n"}, 'separate-pool'), [])
    assert.deepEqual(found({'src/db.js': SHARED, 'test/orders.test.js': "const {Client} = require('pg')\nconst c = new Client()\n"}, 'separate-pool'), [])
    assert.deepEqual(found({'src/db.js': SHARED, 'src/jobs.js': "const {Pool} = require('generic-pool')\nconst p = new Pool()\nconst q = new Map()\n"}, 'separate-pool'), [])
    assert.deepEqual(found({'src/app/only.ts': "import {Pool} from 'pg'\nexport const pool = new Pool()\n"}, 'separate-pool'), [])
  })

  it('a second knex() in the shared module is flagged; config sharedPool names the owner', () => {
    assert.deepEqual(found({'src/db.js': `${SHARED}const other = knex({client: 'pg'})\n`}, 'separate-pool'), ['separate-pool src/db.js:3:15'])
    const files = {'src/a.js': "const {Pool} = require('pg')\nnew Pool()\n", 'src/b.js': "const {Pool} = require('pg')\nnew Pool()\n"}
    assert.deepEqual(found(files, 'separate-pool', {config: {sharedPool: 'src/b.js'}}), ['separate-pool src/a.js:2:1'])
  })
})

const KNEXFILE = (production: string) => `module.exports = {\n  development: {client: 'pg'},\n  production: ${production},\n}\n`
const GOOD_PRODUCTION = "{\n    client: 'pg',\n    connection: {host: 'db', application_name: 'orders'},\n    acquireConnectionTimeout: 10000,\n    pool: {min: 0, max: 20, idleTimeoutMillis: 10000},\n  }"

describe('pool-undersized', () => {
  it('flags max × instances below the declared concurrency, at max', () => {
    const knexfile = KNEXFILE("{client: 'pg', pool: {min: 0, max: 10}}")
    assert.deepEqual(found({'knexfile.js': knexfile}, 'pool-undersized', {concurrency: 50}), ['pool-undersized knexfile.js:3:45'])
    assert.deepEqual(found({'knexfile.js': knexfile}, 'pool-undersized', {concurrency: 50, instances: 5}), [])
    assert.deepEqual(found({'knexfile.js': knexfile}, 'pool-undersized', {config: {concurrency: {production: 11}}}), ['pool-undersized knexfile.js:3:45'])
  })

  it("counts knex's default max 10 when max is absent; reads TypeScript knexfiles and spreads", () => {
    assert.deepEqual(found({'knexfile.js': KNEXFILE("{client: 'pg'}")}, 'pool-undersized', {concurrency: 11}), ['pool-undersized knexfile.js:3:3'])
    const ts = "import type {Knex} from 'knex'\nconst base = {client: 'pg', pool: {min: 0, max: 4}}\nconst config: Record<string, Knex.Config> = {\n  production: {...base} satisfies Knex.Config,\n}\nexport default config\n"
    assert.deepEqual(found({'knexfile.ts': ts}, 'pool-undersized', {concurrency: 8}), ['pool-undersized knexfile.ts:2:44'])
  })

  it('does not flag enough connections, development/test environments, no declared concurrency, or a max from the environment', () => {
    assert.deepEqual(found({'knexfile.js': KNEXFILE(GOOD_PRODUCTION)}, 'pool-undersized', {concurrency: 20}), [])
    assert.deepEqual(found({'knexfile.js': "module.exports = {test: {client: 'pg', pool: {max: 1}}}\n"}, 'pool-undersized', {concurrency: 50}), [])
    assert.deepEqual(found({'knexfile.js': KNEXFILE("{client: 'pg', pool: {max: 1}}")}, 'pool-undersized'), [])
    assert.deepEqual(found({'knexfile.js': KNEXFILE("{client: 'pg', pool: {max: Number(process.env.POOL_MAX)}}")}, 'pool-undersized', {concurrency: 50}), [])
  })
})

describe('pool-oversized', () => {
  it("flags max × instances above the server's usable slots", () => {
    const knexfile = KNEXFILE("{client: 'pg', pool: {min: 0, max: 20}}")
    assert.deepEqual(found({'knexfile.js': knexfile}, 'pool-oversized', {instances: 6, usableSlots: {slots: 97, source: 'test'}}), ['pool-oversized knexfile.js:3:45'])
  })

  it('does not flag a pool that fits, or anything without the server slots', () => {
    const knexfile = KNEXFILE("{client: 'pg', pool: {min: 0, max: 20}}")
    assert.deepEqual(found({'knexfile.js': knexfile}, 'pool-oversized', {instances: 4, usableSlots: {slots: 97, source: 'test'}}), [])
    assert.deepEqual(found({'knexfile.js': knexfile}, 'pool-oversized', {instances: 40}), [])
  })
})

describe('missing-acquire-timeout', () => {
  it('flags a knexfile environment without one and a pg.Pool without connectionTimeoutMillis (or 0)', () => {
    assert.deepEqual(found({'knexfile.js': KNEXFILE("{client: 'pg', pool: {max: 10}}")}, 'missing-acquire-timeout'), ['missing-acquire-timeout knexfile.js:3:3'])
    const src = "const {Pool} = require('pg')\nconst a = new Pool({max: 5})\nconst b = new Pool({connectionTimeoutMillis: 0})\n"
    assert.deepEqual(found({'src/db.js': src}, 'missing-acquire-timeout'), ['missing-acquire-timeout src/db.js:2:11', 'missing-acquire-timeout src/db.js:3:21'])
    // PG* variables can give the connection, never the pool's timeouts
    assert.deepEqual(found({'src/db.mjs': "import pg from 'pg'\nconst {Pool} = pg\nexport const pool = new Pool()\n"}, 'missing-acquire-timeout'), ['missing-acquire-timeout src/db.mjs:3:21'])
  })

  it('does not flag acquireConnectionTimeout, pool.acquireTimeoutMillis, connectionTimeoutMillis, or options it cannot see', () => {
    assert.deepEqual(found({'knexfile.js': KNEXFILE(GOOD_PRODUCTION)}, 'missing-acquire-timeout'), [])
    assert.deepEqual(found({'knexfile.js': KNEXFILE("{client: 'pg', pool: {acquireTimeoutMillis: 5000}}")}, 'missing-acquire-timeout'), [])
    const src = "const {Pool} = require('pg')\nconst a = new Pool({connectionTimeoutMillis: 5000})\nconst b = new Pool({...settings})\nconst c = new Pool(options)\n"
    assert.deepEqual(found({'src/db.js': src}, 'missing-acquire-timeout'), [])
  })
})

describe('missing-idle-timeout', () => {
  it('flags pools without idleTimeoutMillis and a pg.Pool that never closes idle clients', () => {
    assert.deepEqual(found({'knexfile.js': KNEXFILE("{client: 'pg', pool: {max: 10}}")}, 'missing-idle-timeout'), ['missing-idle-timeout knexfile.js:3:3'])
    const src = "import pg from 'pg'\nexport const pool = new pg.Pool({idleTimeoutMillis: 0, connectionTimeoutMillis: 1000})\n"
    assert.deepEqual(found({'src/db.ts': src}, 'missing-idle-timeout'), ['missing-idle-timeout src/db.ts:2:34'])
  })

  it('does not flag an explicit idle timeout, or a pg.Client', () => {
    assert.deepEqual(found({'knexfile.js': KNEXFILE(GOOD_PRODUCTION)}, 'missing-idle-timeout'), [])
    assert.deepEqual(found({'src/db.js': "const pg = require('pg')\nnew pg.Client({host: 'db'})\nnew pg.Pool({idleTimeoutMillis: 10000})\n"}, 'missing-idle-timeout'), [])
  })
})

describe('pool-min-nonzero', () => {
  it("flags knex's implicit min 2 and an explicit min above 0", () => {
    assert.deepEqual(found({'knexfile.js': KNEXFILE("{client: 'pg', pool: {max: 10}}")}, 'pool-min-nonzero'), ['pool-min-nonzero knexfile.js:3:3'])
    assert.deepEqual(found({'knexfile.js': KNEXFILE("{client: 'pg', pool: {min: 5, max: 10}}")}, 'pool-min-nonzero'), ['pool-min-nonzero knexfile.js:3:37'])
    assert.deepEqual(found({'src/db.js': "const {Pool} = require('pg')\nnew Pool({min: 2})\n"}, 'pool-min-nonzero'), ['pool-min-nonzero src/db.js:2:11'])
  })

  it("does not flag min: 0, pg.Pool's default, or development", () => {
    assert.deepEqual(found({'knexfile.js': KNEXFILE(GOOD_PRODUCTION)}, 'pool-min-nonzero'), [])
    assert.deepEqual(found({'src/db.js': "const {Pool} = require('pg')\nnew Pool({max: 5})\n"}, 'pool-min-nonzero'), [])
    assert.deepEqual(found({'knexfile.js': "module.exports = {development: {client: 'pg', pool: {min: 2}}}\n"}, 'pool-min-nonzero'), [])
  })
})

describe('unreleased-client', () => {
  it('flags pool.connect() and acquireConnection() without a release in finally', () => {
    const src = [
      'async function a(pool) {',
      '  const client = await pool.connect()',
      "  await client.query('select 1')",
      '  client.release()',
      '}',
      'async function b(knex) {',
      '  const conn = await knex.client.acquireConnection()',
      '  try { await work(conn) } catch (error) { knex.client.releaseConnection(conn); throw error }',
      '}',
      '',
    ].join('\n')
    assert.deepEqual(found({'src/a.js': src}, 'unreleased-client'), ['unreleased-client src/a.js:2:24', 'unreleased-client src/a.js:7:22'])
  })

  it('flags pool.connect().then(client => …) released only when the work succeeds', () => {
    const src = "pool.connect().then((client) => client.query('select 1').then(() => client.release()))\n"
    assert.deepEqual(found({'src/a.js': src}, 'unreleased-client'), ['unreleased-client src/a.js:1:1'])
  })

  it('does not flag try/finally release, a client handed to the caller, pool.query, or pg.Client#connect', () => {
    const src = [
      'async function a(pool) {',
      '  const client = await pool.connect()',
      '  try {',
      "    await client.query('begin')",
      '  } finally {',
      '    client.release()',
      '  }',
      '}',
      'async function b(pool) {',
      '  const client = await pool.connect()',
      '  await client.query("set search_path = app")',
      '  return client',
      '}',
      "const rows = await pool.query('select 1')",
      'const c = new Client()',
      'await c.connect()',
      'const connecting = c.connect()',
      'await connecting',
      'async function c(pool) {',
      '  let client',
      '  try {',
      '    client = await pool.connect()',
      "    await client.query('select 1')",
      '  } finally {',
      '    client?.release()',
      '  }',
      '}',
      "pool.connect().then((client) => client.query('select 1').finally(() => client.release()))",
      "const redis = await createClient({url}).connect()",
      "const socket = await transport.connect()",
      "await socket.send('x')",
      'async function d(pool) {',
      '  const client = await pool.connect()',
      "  return client.query('select 1').finally(() => client.release())",
      '}',
      '',
    ].join('\n')
    assert.deepEqual(found({'src/a.mjs': src}, 'unreleased-client'), [])
  })
})

describe('race-timeout', () => {
  it('flags Promise.race of a query and a timer', () => {
    const src = "const rows = await Promise.race([\n  pool.query('select * from big'),\n  new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 5000)),\n])\nconst r2 = await Promise.race([db('t').select(), delay(1000)])\n"
    assert.deepEqual(found({'src/a.mjs': src}, 'race-timeout'), ['race-timeout src/a.mjs:1:20', 'race-timeout src/a.mjs:5:18'])
    // the timer kept in a variable first
    const named = "async function q(pool) {\n  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 5000))\n  return Promise.race([pool.query('select 1'), timeout])\n}\n"
    assert.deepEqual(found({'src/b.mjs': named}, 'race-timeout'), ['race-timeout src/b.mjs:3:10'])
  })

  it('does not flag a race without a query (an HTTP call) or a query with statement_timeout', () => {
    const src = "await Promise.race([fetch(url), sleep(1000)])\nawait pool.query({text: 'select 1', query_timeout: 5000})\nawait Promise.race([pool.query('select 1'), other.query('select 1')])\nawait Promise.race([db('t').select().timeout(5000, {cancel: true}), abortion(AbortSignal.timeout(5000))])\n"
    assert.deepEqual(found({'src/a.mjs': src}, 'race-timeout'), [])
  })
})

describe('force-free-lock', () => {
  it('flags forceFreeMigrationsLock() and migrate:unlock in test set-up and start-up code', () => {
    const setup = "module.exports = async () => {\n  await knex.migrate.forceFreeMigrationsLock()\n}\n"
    assert.deepEqual(found({'test/global-setup.js': setup}, 'force-free-lock'), ['force-free-lock test/global-setup.js:2:9'])
    assert.deepEqual(found({'jest.global-setup.js': setup}, 'force-free-lock'), ['force-free-lock jest.global-setup.js:2:9'])
    assert.deepEqual(found({'globalSetup.ts': setup}, 'force-free-lock'), ['force-free-lock globalSetup.ts:2:9'])
    const server = "const {execSync} = require('node:child_process')\nexecSync('npx knex migrate:unlock && npx knex migrate:latest')\n"
    assert.deepEqual(found({'src/server.js': server}, 'force-free-lock'), ['force-free-lock src/server.js:2:10'])
  })

  it("flags migrate:unlock in package.json's start and test scripts, not in an operator's script", () => {
    const pkg = JSON.stringify({name: 'app', scripts: {pretest: 'knex migrate:unlock && knex migrate:latest', start: 'node server.js', 'db:unlock': 'knex migrate:unlock', 'test:e2e': 'knex migrate:unlock; vitest'}}, null, 2)
    assert.deepEqual(found({'package.json': pkg}, 'force-free-lock'), ['force-free-lock package.json:4:16', 'force-free-lock package.json:7:17'])
    assert.deepEqual(found({'package.json': '{"scripts": {"start": "node server.js"}, "description": "never migrate:unlock"}'}, 'force-free-lock'), [])
  })

  it('does not flag an operator script, or a comment mentioning it', () => {
    assert.deepEqual(found({'scripts/unlock.js': 'await knex.migrate.forceFreeMigrationsLock()\n'}, 'force-free-lock'), [])
    assert.deepEqual(found({'src/index.js': '// never run migrate:unlock here\nawait knex.migrate.latest()\n'}, 'force-free-lock'), [])
  })
})

describe('migrate-retry-loop', () => {
  it('flags migrate.latest() retried in a loop or by a retry helper', () => {
    const src = [
      'for (let attempt = 0; attempt < 10; attempt++) {',
      '  try {',
      '    await knex.migrate.latest()',
      '    break',
      '  } catch (error) {',
      '    await sleep(1000)',
      '  }',
      '}',
      'await pRetry(() => db.migrate.latest(), {retries: 5})',
      '',
    ].join('\n')
    assert.deepEqual(found({'src/migrate.mjs': src}, 'migrate-retry-loop'), ['migrate-retry-loop src/migrate.mjs:3:11', 'migrate-retry-loop src/migrate.mjs:9:20'])
  })

  it('does not flag a single migrate.latest(), or one per tenant database', () => {
    const src = "await knex.migrate.latest()\nfor (const tenant of tenants) await tenant.migrate.latest()\ntry { await knex.migrate.latest() } catch (e) { process.exit(1) }\nfor (const tenant of tenants) {\n  try { await tenant.db.migrate.latest() } catch (error) { log.error({tenant, error}) }\n}\n"
    assert.deepEqual(found({'src/migrate.mjs': src}, 'migrate-retry-loop'), [])
  })
})

describe('missing-application-name', () => {
  it('flags knexfile connections and pg configs without application_name', () => {
    const knexfile = "module.exports = {\n  development: {client: 'pg', connection: {host: 'localhost'}},\n  production: {client: 'pg', connection: 'postgres://app@db/app'},\n}\n"
    assert.deepEqual(found({'knexfile.js': knexfile}, 'missing-application-name'), ['missing-application-name knexfile.js:2:3', 'missing-application-name knexfile.js:3:3'])
    assert.deepEqual(found({'src/db.ts': "import {Client} from 'pg'\nexport const c = new Client({host: 'db', user: 'app'})\n"}, 'missing-application-name'), ['missing-application-name src/db.ts:2:18'])
  })

  it('does not flag application_name in the object or the URL, or connections it cannot read', () => {
    const knexfile = "module.exports = {\n  a: {client: 'pg', connection: {host: 'db', application_name: 'orders'}},\n  b: {client: 'pg', connection: 'postgres://app@db/app?application_name=orders'},\n  c: {client: 'pg', connection: process.env.DATABASE_URL},\n}\n"
    assert.deepEqual(found({'knexfile.js': knexfile}, 'missing-application-name'), [])
    assert.deepEqual(found({'src/db.js': "const {Pool} = require('pg')\nnew Pool()\nnew Pool({connectionString: process.env.DATABASE_URL})\n"}, 'missing-application-name'), [])
  })
})

describe('query-in-loop', () => {
  it('flags an awaited query in a for…of loop, a for loop and an async array callback', () => {
    const src = [
      'for (const order of orders) {',
      "  const items = await db('items').where({order_id: order.id}).select()",
      '}',
      'for (let i = 0; i < rows.length; i++) await pool.query("update t set x = 1 where id = $1", [rows[i].id])',
      'rows.forEach(async (row) => {',
      '  await client.query("delete from t where id = $1", [row.id])',
      '})',
      '',
    ].join('\n')
    assert.deepEqual(found({'src/a.mjs': src}, 'query-in-loop'), ['query-in-loop src/a.mjs:2:23', 'query-in-loop src/a.mjs:4:45', 'query-in-loop src/a.mjs:6:9'])
    // one insert per item, the item as its data, inside a knex transaction
    const writes = "await knex.transaction(async (trx) => {\n  for (const item of items) await trx('items').insert(item)\n})\n"
    assert.deepEqual(found({'src/b.mjs': writes}, 'query-in-loop'), ['query-in-loop src/b.mjs:2:35'])
  })

  it('does not flag one query for all rows, a polling while loop, Promise.all, or a non-query await', () => {
    const src = [
      "const items = await db('items').whereIn('order_id', orders.map((o) => o.id))",
      'while (running) {',
      "  const jobs = await pool.query('select * from jobs for update skip locked limit 10')",
      '  await sleep(1000)',
      '}',
      'for (const file of files) await fs.readFile(file)',
      "await Promise.all(rows.map((row) => pool.query('select $1', [row.id])))",
      'for (const statement of migrationStatements) await client.query(statement)',
      'for (const job of jobs) await job.execute()',
      'for (const shard of shards) await shard.pool.query("vacuum analyze t")',
      '',
    ].join('\n')
    assert.deepEqual(found({'src/a.mjs': src}, 'query-in-loop'), [])
  })
})

describe('suppression comments', () => {
  const src = "const {Pool} = require('pg')\n// poolctl-ignore missing-acquire-timeout -- this pool only runs EXPLAIN\nnew Pool({max: 1})\nnew Pool({max: 1})\n"

  it('// poolctl-ignore <rule> silences that rule on the next line only', () => {
    assert.deepEqual(found({'src/db.js': src}, 'missing-acquire-timeout'), ['missing-acquire-timeout src/db.js:4:1'])
    assert.deepEqual(found({'src/db.js': src}, 'missing-idle-timeout'), ['missing-idle-timeout src/db.js:3:1', 'missing-idle-timeout src/db.js:4:1'])
  })

  it('// poolctl-ignore-file <rule> silences it in the whole file; no rule = every rule', () => {
    const fileWide = `/* poolctl-ignore-file missing-acquire-timeout, missing-idle-timeout missing-application-name */\n${src}`
    assert.deepEqual(found({'src/db.js': fileWide}, undefined), [])
    assert.deepEqual(found({'src/db.js': `// poolctl-ignore-file\n${src}`}, undefined), [])
  })

  it('a directive inside a string is not a comment', () => {
    const text = "const {Pool} = require('pg')\nconst s = '// poolctl-ignore-file'\nnew Pool({max: 1, idleTimeoutMillis: 1000})\n"
    assert.deepEqual(found({'src/db.js': text}, 'missing-acquire-timeout'), ['missing-acquire-timeout src/db.js:3:1'])
  })
})
