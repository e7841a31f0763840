import assert from 'node:assert/strict'
import {mkdir, mkdtemp, readdir, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {resolveConnection} from '../../src/cli/connection.js'
import {ErrorCode} from '../../src/errors.js'
import {
  assertPostgresClient,
  KNEX_POOL_DEFAULTS,
  loadKnexfile,
  readKnexPoolConfig,
  resolveKnexConnection,
} from '../../src/knex/knexfile.js'

let root: string
let counter = 0

/** Write a knexfile into a fresh directory (optionally with a package.json `type`). */
async function knexfile(name: string, source: string, type?: 'commonjs' | 'module'): Promise<string> {
  const dir = join(root, `case-${++counter}`)
  await mkdir(dir)
  if (type) await writeFile(join(dir, 'package.json'), JSON.stringify({type}))
  const file = join(dir, name)
  await writeFile(file, source)
  return file
}

const byEnv = (client = 'pg') => `{
  development: {client: '${client}', connection: 'postgres://dev@dev-host:5432/devdb'},
  production: {client: '${client}', connection: {host: 'prod-host', port: 6543, user: 'prod', password: 'prod-secret', database: 'proddb'}},
}`

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'poolctl-knexfile-'))
})
after(async () => {
  await rm(root, {force: true, recursive: true})
})

describe('loadKnexfile: module formats', () => {
  const cases: Array<[string, string, 'commonjs' | 'module' | undefined]> = [
    ['CommonJS .js', `module.exports = ${byEnv()}`, undefined],
    ['.cjs', `module.exports = ${byEnv()}`, 'module'],
    ['.mjs', `export default ${byEnv()}`, undefined],
    ['ESM .js (package type module)', `export default ${byEnv()}`, 'module'],
    ['ESM named exports only', `export const development = ${byEnv()}.development`, 'module'],
  ]
  for (const [label, source, type] of cases) {
    it(`reads ${label}`, async () => {
      const name = label.startsWith('.cjs') ? 'knexfile.cjs' : label.startsWith('.mjs') ? 'knexfile.mjs' : 'knexfile.js'
      const loaded = await loadKnexfile(await knexfile(name, source, type), {env: 'development', environ: {}})
      assert.equal(loaded.environment, 'development')
      assert.equal(loaded.config.connection, 'postgres://dev@dev-host:5432/devdb')
    })
  }

  it('reads a TypeScript knexfile with `export default` and types', async () => {
    const file = await knexfile(
      'knexfile.ts',
      `interface Config { client: string; connection: string }
const config: Record<string, Config> = {development: {client: 'pg', connection: 'postgres://ts@ts-host/tsdb' as string}}
export default config`,
    )
    const loaded = await loadKnexfile(file, {environ: {}})
    assert.equal(loaded.config.connection, 'postgres://ts@ts-host/tsdb')
  })

  it("reads the `knex init -x ts` template (import type + module.exports) and cleans up", async () => {
    const file = await knexfile(
      'knexfile.ts',
      `import type { Knex } from "knex";
const config: { [key: string]: Knex.Config } = {
  staging: { client: "postgresql", connection: { database: "my_db", user: "username", password: "password" } },
};
module.exports = config;`,
    )
    const loaded = await loadKnexfile(file, {env: 'staging', environ: {}})
    assert.deepEqual(loaded.config.connection, {database: 'my_db', password: 'password', user: 'username'})
    // the temporary transpiled file is gone
    const left = await readdir(join(file, '..'))
    assert.deepEqual(left, ['knexfile.ts'])
  })

  it('calls an exported function, sync or async, and unwraps default exports', async () => {
    const sync = await knexfile('knexfile.js', `module.exports = () => (${byEnv()})`)
    const asyncDefault = await knexfile('knexfile.mjs', `export default async () => { await new Promise(r => setTimeout(r, 5)); return ${byEnv()} }`)
    for (const file of [sync, asyncDefault]) {
      const loaded = await loadKnexfile(file, {env: 'production', environ: {}})
      assert.equal((loaded.config.connection as {host: string}).host, 'prod-host')
    }
  })
})

describe('loadKnexfile: environments', () => {
  it('defaults to NODE_ENV, then development', async () => {
    const file = await knexfile('knexfile.js', `module.exports = ${byEnv()}`)
    assert.equal((await loadKnexfile(file, {environ: {NODE_ENV: 'production'}})).environment, 'production')
    assert.equal((await loadKnexfile(file, {environ: {}})).environment, 'development')
    assert.equal((await loadKnexfile(file, {env: 'development', environ: {NODE_ENV: 'production'}})).environment, 'development')
  })

  it('uses a single (not keyed) config for any environment', async () => {
    const file = await knexfile('knexfile.js', `module.exports = {client: 'pg', connection: 'postgres://single/db'}`)
    const loaded = await loadKnexfile(file, {env: 'whatever', environ: {}})
    assert.equal(loaded.keyedByEnvironment, false)
    assert.equal(loaded.config.connection, 'postgres://single/db')
  })

  it('fails with KNEXFILE_NO_ENV listing the environments it has', async () => {
    const file = await knexfile('knexfile.js', `module.exports = ${byEnv()}`)
    await assert.rejects(loadKnexfile(file, {env: 'staging', environ: {}}), (error: {code: string; message: string; exitCode: number}) => {
      assert.equal(error.code, ErrorCode.KNEXFILE_NO_ENV)
      assert.equal(error.exitCode, 3)
      assert.match(error.message, /"staging".*development, production/)
      return true
    })
  })

  it('fails with KNEXFILE_NOT_FOUND and KNEXFILE_FAILED, never leaking secrets', async () => {
    await assert.rejects(loadKnexfile(join(root, 'nope.js'), {environ: {}}), {code: ErrorCode.KNEXFILE_NOT_FOUND})
    const throwing = await knexfile('knexfile.js', `throw new Error('cannot reach postgres://admin:TopSecret1@db/app')`)
    await assert.rejects(loadKnexfile(throwing, {environ: {}}), (error: {code: string; message: string}) => {
      assert.equal(error.code, ErrorCode.KNEXFILE_FAILED)
      assert.ok(!error.message.includes('TopSecret1'), error.message)
      return true
    })
    const yaml = await knexfile('knexfile.yaml', 'client: pg')
    await assert.rejects(loadKnexfile(yaml, {environ: {}}), {code: ErrorCode.KNEXFILE_FAILED})
  })
})

describe('knex config: client, connection, pool', () => {
  it('accepts only PostgreSQL clients', () => {
    for (const client of ['pg', 'postgres', 'postgresql', 'pgnative']) {
      assertPostgresClient({config: {client}, environment: 'x', path: 'k.js'})
    }
    for (const client of ['mysql2', 'sqlite3', undefined]) {
      assert.throws(() => assertPostgresClient({config: {client}, environment: 'x', path: 'k.js'}), {
        code: ErrorCode.KNEXFILE_UNSUPPORTED_CLIENT,
      })
    }
  })

  it('calls a connection function (async too) and drops expirationChecker', async () => {
    const connection = await resolveKnexConnection({
      config: {client: 'pg', connection: async () => ({expirationChecker: () => false, host: 'fn-host'})},
      environment: 'x',
      path: 'k.js',
    })
    assert.deepEqual(connection, {host: 'fn-host'})
    await assert.rejects(resolveKnexConnection({config: {client: 'pg'}, environment: 'x', path: 'k.js'}), {
      code: ErrorCode.KNEXFILE_NO_CONNECTION,
    })
  })

  it("reports knex's pool defaults (min 2, max 10, acquire 60 s) when absent", () => {
    const pool = readKnexPoolConfig({client: 'pg'})
    assert.equal(pool.min, 2)
    assert.equal(pool.max, 10)
    assert.equal(pool.acquireTimeoutMillis, 60_000)
    assert.equal(pool.idleTimeoutMillis, KNEX_POOL_DEFAULTS.idleTimeoutMillis)
    assert.deepEqual(pool.fromKnexfile, [])
  })

  it('reads pool values; acquire timeout is the smaller of the two knex settings', () => {
    const pool = readKnexPoolConfig({
      acquireConnectionTimeout: 5000,
      client: 'pg',
      pool: {acquireTimeoutMillis: 8000, idleTimeoutMillis: 1000, max: 4, min: 0},
    })
    assert.deepEqual([pool.min, pool.max, pool.acquireTimeoutMillis, pool.idleTimeoutMillis], [0, 4, 5000, 1000])
    assert.ok(pool.fromKnexfile.includes('max'))
    assert.throws(() => readKnexPoolConfig({pool: {max: 'ten'}}), {code: ErrorCode.KNEXFILE_FAILED})
    assert.throws(() => readKnexPoolConfig({pool: {max: 2, min: 5}}), {code: ErrorCode.KNEXFILE_FAILED})
  })

  it('resolves a connection through --knexfile with PG* filling the gaps', async () => {
    const file = await knexfile('knexfile.js', `module.exports = ${byEnv()}`)
    const {knexfile: loaded, settings} = await resolveConnection(
      {env: 'production', knexfile: file},
      {cwd: root, environ: {PGPASSFILE: join(root, 'none')}, homedir: root, username: 'me'},
    )
    assert.equal(loaded?.environment, 'production')
    assert.deepEqual([settings.source, settings.host, settings.port, settings.user, settings.database], ['knexfile', 'prod-host', 6543, 'prod', 'proddb'])
    assert.equal(settings.password, 'prod-secret')
    assert.equal(settings.passwordSource, 'knexfile')
    const dev = await resolveConnection({env: 'development', knexfile: file}, {cwd: root, environ: {PGPASSWORD: 'envpw', PGPASSFILE: join(root, 'none')}, homedir: root, username: 'me'})
    assert.equal(dev.settings.host, 'dev-host')
    assert.equal(dev.settings.password, 'envpw')
  })

  it('rejects a knexfile for another database with KNEXFILE_UNSUPPORTED_CLIENT', async () => {
    const file = await knexfile('knexfile.js', `module.exports = ${byEnv('mysql2')}`)
    await assert.rejects(
      resolveConnection({knexfile: file}, {cwd: root, environ: {}, homedir: root, username: 'me'}),
      {code: ErrorCode.KNEXFILE_UNSUPPORTED_CLIENT},
    )
  })
})
