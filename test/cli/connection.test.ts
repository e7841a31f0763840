import assert from 'node:assert/strict'
import {chmod, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {inspect} from 'node:util'
import {after, before, describe, it} from 'node:test'

import {parseConnectionUrl, resolveConnection, type ResolveContext} from '../../src/cli/connection.js'
import {scrubSecrets} from '../../src/cli/redact.js'
import {ErrorCode, CliError} from '../../src/errors.js'
import {toPgClientConfig} from '../../src/pg/connection-settings.js'

const HOSTILE = 'p#a@s%s`w\'o"rd'

let home: string
function context(environ: NodeJS.ProcessEnv = {}): ResolveContext {
  return {cwd: home, environ: {PGPASSFILE: join(home, 'none'), ...environ}, homedir: home, platform: 'linux', username: 'osuser'}
}

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'poolctl-conn-'))
})
after(async () => {
  await rm(home, {force: true, recursive: true})
})

describe('resolveConnection: where the target comes from', () => {
  const environ = {
    DATABASE_URL: 'postgres://envurl:pw1@from-database-url:6000/envdb',
    PGDATABASE: 'pgdb',
    PGHOST: 'from-pghost',
    PGPORT: '7000',
    PGUSER: 'pguser',
  }

  it('--url wins over DATABASE_URL and PG*', async () => {
    const {settings} = await resolveConnection({url: 'postgres://flag:pw@from-flag:5433/flagdb'}, context(environ))
    assert.equal(settings.source, 'flag')
    assert.equal(settings.host, 'from-flag')
    assert.equal(settings.port, 5433)
    assert.equal(settings.user, 'flag')
    assert.equal(settings.database, 'flagdb')
  })

  it('DATABASE_URL wins over PG* when there is no flag', async () => {
    const {settings} = await resolveConnection({}, context(environ))
    assert.equal(settings.source, 'DATABASE_URL')
    assert.equal(settings.host, 'from-database-url')
    assert.equal(settings.port, 6000)
    assert.equal(settings.user, 'envurl')
    assert.equal(settings.password, 'pw1')
  })

  it('PG* variables are used when nothing else is given', async () => {
    const {settings} = await resolveConnection({}, context({...environ, DATABASE_URL: undefined}))
    assert.equal(settings.source, 'environment')
    assert.deepEqual([settings.host, settings.port, settings.user, settings.database], ['from-pghost', 7000, 'pguser', 'pgdb'])
  })

  it('PG* fill in what the URL leaves out, libpq defaults the rest', async () => {
    const fromPg = await resolveConnection({url: 'postgres://only-host'}, context({PGPORT: '7000', PGUSER: 'pguser'}))
    assert.deepEqual([fromPg.settings.host, fromPg.settings.port, fromPg.settings.user, fromPg.settings.database], ['only-host', 7000, 'pguser', 'pguser'])
    const defaults = await resolveConnection({}, context())
    assert.deepEqual([defaults.settings.host, defaults.settings.port, defaults.settings.user, defaults.settings.database], ['localhost', 5432, 'osuser', 'osuser'])
  })

  it('ignores PGAPPNAME: the application name is always poolctl', async () => {
    const {settings} = await resolveConnection({}, context({PGAPPNAME: 'not-poolctl'}))
    assert.equal(settings.applicationName, 'poolctl')
    assert.equal(toPgClientConfig(settings, {applicationNameSuffix: 'inspect'}).application_name, 'poolctl-inspect')
  })

  it('rejects --url together with --knexfile', async () => {
    await assert.rejects(resolveConnection({knexfile: 'k.js', url: 'postgres://h/d'}, context()), {code: ErrorCode.USAGE})
  })
})

describe('resolveConnection: passwords', () => {
  it('takes the URL password, percent-decoded, even a hostile one', async () => {
    const url = `postgres://u:${encodeURIComponent(HOSTILE)}@h/d`
    const {settings} = await resolveConnection({url}, context({PGPASSWORD: 'from-env'}))
    assert.equal(settings.password, HOSTILE)
    assert.equal(settings.passwordSource, 'url')
  })

  it('falls back to PGPASSWORD, then .pgpass', async () => {
    const env = await resolveConnection({url: 'postgres://u@h/d'}, context({PGPASSWORD: 'from-env'}))
    assert.equal(env.settings.password, 'from-env')
    assert.equal(env.settings.passwordSource, 'PGPASSWORD')

    const file = join(home, 'pgpass')
    await writeFile(file, 'h:5432:d:u:from-pgpass\n')
    await chmod(file, 0o600)
    const pgpass = await resolveConnection({url: 'postgres://u@h/d'}, context({PGPASSFILE: file}))
    assert.equal(pgpass.settings.password, 'from-pgpass')
    assert.equal(pgpass.settings.passwordSource, 'pgpass')
  })

  it('warns about and ignores an unsafe .pgpass', async () => {
    const file = join(home, 'open-pgpass')
    await writeFile(file, 'h:5432:d:u:from-pgpass\n')
    await chmod(file, 0o644)
    const {settings, warnings} = await resolveConnection({url: 'postgres://u@h/d'}, context({PGPASSFILE: file}))
    assert.equal(settings.password, undefined)
    assert.equal(settings.passwordSource, 'none')
    assert.equal(warnings.length, 1)
    assert.match(warnings[0], /0600/)
  })

  it('never serializes the password', async () => {
    const {settings} = await resolveConnection({url: `postgres://u:${encodeURIComponent(HOSTILE)}@h/d`}, context())
    assert.ok(!JSON.stringify(settings).includes('s%s'))
    assert.ok(!inspect(settings, {depth: 5}).includes('s%s'))
    assert.equal(settings.displayUrl, 'postgres://u:***@h:5432/d')
    const pgConfig = toPgClientConfig(settings)
    assert.equal(pgConfig.password, HOSTILE)
    assert.ok(!JSON.stringify(pgConfig).includes('s%s'))
    // and every later message is scrubbed of it
    assert.equal(scrubSecrets(`oops ${HOSTILE}`), 'oops ***')
  })
})

describe('resolveConnection: timeouts', () => {
  it('uses the defaults: connect 10 s, statement 30 s, lock 5 s', async () => {
    const {settings} = await resolveConnection({}, context())
    assert.deepEqual([settings.connectTimeoutMillis, settings.statementTimeoutMillis, settings.lockTimeoutMillis], [10_000, 30_000, 5000])
  })

  it('connect timeout: flag > URL connect_timeout > PGCONNECT_TIMEOUT', async () => {
    const environ = {PGCONNECT_TIMEOUT: '7'}
    assert.equal((await resolveConnection({}, context(environ))).settings.connectTimeoutMillis, 7000)
    assert.equal((await resolveConnection({url: 'postgres://h/d?connect_timeout=4'}, context(environ))).settings.connectTimeoutMillis, 4000)
    assert.equal(
      (await resolveConnection({connectTimeoutMillis: 1500, url: 'postgres://h/d?connect_timeout=4'}, context(environ))).settings.connectTimeoutMillis,
      1500,
    )
    // libpq: below 2 s means 2 s, 0 means no timeout
    assert.equal((await resolveConnection({}, context({PGCONNECT_TIMEOUT: '1'}))).settings.connectTimeoutMillis, 2000)
    assert.equal((await resolveConnection({}, context({PGCONNECT_TIMEOUT: '0'}))).settings.connectTimeoutMillis, 0)
  })

  it('sends statement_timeout and lock_timeout as startup parameters, not when 0', async () => {
    const {settings} = await resolveConnection({lockTimeoutMillis: 0, statementTimeoutMillis: 1234}, context())
    const config = toPgClientConfig(settings)
    assert.equal(config.statement_timeout, 1234)
    assert.equal(config.lock_timeout, undefined)
    assert.equal(config.connectionTimeoutMillis, 10_000)
  })
})

describe('parseConnectionUrl', () => {
  it('reads query parameters libpq-style', () => {
    const warnings: string[] = []
    const parts = parseConnectionUrl('postgresql://u@/db?host=/var/run/postgresql&port=5433&sslmode=require&target_session_attrs=any', warnings)
    assert.equal(parts.host, '/var/run/postgresql')
    assert.equal(parts.port, 5433)
    assert.equal(parts.sslMode, 'require')
    assert.deepEqual(warnings, ['ignoring URL parameter "target_session_attrs" (not supported by poolctl)'])
  })

  it('strips IPv6 brackets', () => {
    assert.equal(parseConnectionUrl('postgres://[::1]:5432/d').host, '::1')
  })

  for (const [name, url] of [
    ['a raw # in the password', `postgres://u:${HOSTILE}@127.0.0.1:5432/db`],
    ['an invalid percent-escape', 'postgres://u:50%zz-secret@h/d'],
    ['a wrong scheme', 'mysql://u:secretpw@h/d'],
    ['no scheme at all', 'u:secretpw@h/d'],
    ['a bad sslmode', 'postgres://u:secretpw@h/d?sslmode=sometimes'],
  ] as const) {
    it(`rejects ${name} without echoing the secret`, () => {
      assert.throws(
        () => parseConnectionUrl(url),
        (error: unknown) => {
          assert.ok(error instanceof CliError)
          assert.equal(error.code, ErrorCode.BAD_URL)
          assert.equal(error.exitCode, 3)
          for (const secret of ['s%s', 'secretpw', '50%zz']) assert.ok(!error.message.includes(secret), error.message)
          return true
        },
      )
    })
  }
})
