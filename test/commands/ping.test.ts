import assert from 'node:assert/strict'
import {chmod, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {EMBEDDED_POSTGRES_MAJOR, freePort} from '../../src/embedded/embedded-postgres.js'
import {lines, runCli} from '../support/cli.js'
import {createTestDatabase, dropTestDatabase, quoteIdent, quoteLiteral, uniqueName, withClient} from '../support/postgres.js'

const HOSTILE = 'p#a@s%s`w\'o"rd'

/** Every form in which a password could leak. */
function assertNoSecret(text: string, secret: string): void {
  for (const form of [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1), 's%s`w']) {
    assert.ok(!text.includes(form), `secret leaked as ${form}:\n${text}`)
  }
}

describe('poolctl ping', () => {
  let url: string
  let role: string
  let hostileUrl: string
  let server: URL
  let dir: string

  before(async () => {
    url = await createTestDatabase('ping')
    server = new URL(url)
    role = uniqueName('hostile')
    await withClient(url, (client) => client.query(`create role ${quoteIdent(role)} login password ${quoteLiteral(HOSTILE)}`))
    hostileUrl = `postgres://${role}:${encodeURIComponent(HOSTILE)}@${server.host}${server.pathname}`
    dir = await mkdtemp(join(tmpdir(), 'poolctl-ping-'))
  })
  after(async () => {
    await dropTestDatabase(url)
    await withClient(new URL('/postgres', url).toString(), (client) => client.query(`drop role if exists ${quoteIdent(role)}`))
    await rm(dir, {force: true, recursive: true})
  })

  it('--json reports the server, user, database and latency, exit 0', async () => {
    const result = await runCli(['ping', '--json', '--url', url])
    assert.equal(result.code, 0, result.stderr)
    const body = JSON.parse(result.stdout) as Record<string, unknown>
    for (const key of ['url', 'version', 'serverVersion', 'serverVersionNum', 'user', 'database', 'backendPid', 'applicationName', 'connectMs', 'latencyMs']) {
      assert.ok(key in body, `missing ${key}`)
    }
    assert.equal(body.database, decodeURIComponent(server.pathname.slice(1)))
    assert.equal(body.applicationName, 'poolctl-ping')
    assert.equal(Math.floor((body.serverVersionNum as number) / 10_000), EMBEDDED_POSTGRES_MAJOR)
    assert.equal(typeof body.latencyMs, 'number')
    assert.match(body.url as string, /^postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\//)
    assertNoSecret(result.stdout + result.stderr, decodeURIComponent(server.password))
  })

  it('prints a short human summary', async () => {
    const result = await runCli(['ping'], {env: {DATABASE_URL: hostileUrl}})
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /^ok postgres:\/\/hostile_[0-9a-f]+:\*\*\*@127\.0\.0\.1:\d+\//)
    assert.match(result.stdout, /server\s+PostgreSQL 17/)
    assert.match(result.stdout, /latency\s+[\d.]+ ms/)
    assertNoSecret(result.stdout + result.stderr, HOSTILE)
  })

  it('connects with PG* variables, a hostile PGPASSWORD and the hostile role', async () => {
    const result = await runCli(['ping', '--json'], {
      env: {PGDATABASE: decodeURIComponent(server.pathname.slice(1)), PGHOST: server.hostname, PGPASSWORD: HOSTILE, PGPORT: server.port, PGUSER: role},
    })
    assert.equal(result.code, 0, result.stderr)
    assert.equal((JSON.parse(result.stdout) as {user: string}).user, role)
  })

  it('reads the password from a 0600 .pgpass file', async () => {
    const file = join(dir, 'pgpass')
    const escaped = HOSTILE.replaceAll('\\', '\\\\').replaceAll(':', String.raw`\:`)
    await writeFile(file, `${server.hostname}:${server.port}:*:${role}:${escaped}\n`)
    await chmod(file, 0o600)
    const noPasswordUrl = `postgres://${role}@${server.host}${server.pathname}`
    const result = await runCli(['ping', '--json', '--url', noPasswordUrl], {env: {PGPASSFILE: file}})
    assert.equal(result.code, 0, result.stderr)
    await chmod(file, 0o644)
    const ignored = await runCli(['ping', '--url', noPasswordUrl], {env: {PGPASSFILE: file}})
    assert.equal(ignored.code, 3)
    assert.match(ignored.stderr, /warning: password file .* group or world access/)
    assert.match(ignored.stderr, /none was supplied/)
  })

  it('a wrong hostile password exits 3 with one stderr line and no trace of either password', async () => {
    const wrong = `${HOSTILE}-WRONG`
    const wrongUrl = `postgres://${role}:${encodeURIComponent(wrong)}@${server.host}${server.pathname}`
    const result = await runCli(['ping', '--url', wrongUrl])
    assert.equal(result.code, 3)
    assert.equal(result.stdout, '')
    const errorLines = lines(result.stderr)
    assert.equal(errorLines.length, 1, result.stderr)
    assert.match(errorLines[0], /^poolctl: could not connect to 127\.0\.0\.1:\d+: password authentication failed for user "hostile_/)
    assertNoSecret(result.stdout + result.stderr, wrong)
    assertNoSecret(result.stdout + result.stderr, HOSTILE)
  })

  it('--json with an unreachable port exits 3 with a single JSON error on stdout', async () => {
    const port = await freePort()
    const result = await runCli(['ping', '--json', '--url', `postgres://${role}:${encodeURIComponent(HOSTILE)}@127.0.0.1:${port}/db`])
    assert.equal(result.code, 3)
    const parsed = JSON.parse(result.stdout) as {error: {code: string; message: string}}
    assert.deepEqual(Object.keys(parsed), ['error'])
    assert.equal(parsed.error.code, 'CONNECTION_REFUSED')
    assert.equal(parsed.error.message, `could not connect to 127.0.0.1:${port}: connection refused`)
    assertNoSecret(result.stdout + result.stderr, HOSTILE)
  })

  it('a URL that does not parse exits 3 without echoing it', async () => {
    const raw = `postgres://${role}:${HOSTILE}@127.0.0.1:5432/db`
    for (const json of [false, true]) {
      const result = await runCli(json ? ['ping', '--json', '--url', raw] : ['ping', '--url', raw])
      assert.equal(result.code, 3, result.stderr)
      const output = result.stdout + result.stderr
      assertNoSecret(output, HOSTILE)
      assert.ok(!output.includes(raw))
      if (json) assert.equal((JSON.parse(result.stdout) as {error: {code: string}}).error.code, 'BAD_URL')
      else assert.match(result.stderr, /^poolctl: could not parse the connection URL postgres:\/\/hostile_[0-9a-f]+:\*\*\*@127\.0\.0\.1:5432\/db/)
    }
  })

  it('--log-level debug logs pino JSON to stderr, never the password', async () => {
    const ok = await runCli(['ping', '--log-level', 'debug', '--url', hostileUrl])
    assert.equal(ok.code, 0, ok.stderr)
    const records = lines(ok.stderr).map((line) => JSON.parse(line) as {level: number; msg: string; name: string})
    assert.ok(records.length >= 2)
    assert.ok(records.every((record) => record.name === 'poolctl' && typeof record.level === 'number'))
    assert.ok(records.some((record) => record.msg === 'resolved connection'))
    assertNoSecret(ok.stdout + ok.stderr, HOSTILE)

    const failed = await runCli(['ping', '--log-level=debug', '--url', `${hostileUrl.replace(encodeURIComponent(HOSTILE), encodeURIComponent(`${HOSTILE}x`))}`])
    assert.equal(failed.code, 3)
    assert.match(failed.stderr, /"msg":"command failed"/)
    assertNoSecret(failed.stdout + failed.stderr, `${HOSTILE}x`)
  })

  it('reads the connection from a knexfile, and fails cleanly on a missing environment', async () => {
    const file = join(dir, 'knexfile.cjs')
    await writeFile(
      file,
      `module.exports = {production: {client: 'postgresql', connection: {host: '${server.hostname}', port: ${server.port}, user: '${role}', password: ${JSON.stringify(HOSTILE)}, database: '${decodeURIComponent(server.pathname.slice(1))}'}}}`,
    )
    const ok = await runCli(['ping', '--json', '--knexfile', file, '--env', 'production'])
    assert.equal(ok.code, 0, ok.stderr)
    assert.equal((JSON.parse(ok.stdout) as {user: string}).user, role)
    const viaNodeEnv = await runCli(['ping', '--json', '--knexfile', file], {env: {NODE_ENV: 'production'}})
    assert.equal(viaNodeEnv.code, 0, viaNodeEnv.stderr)

    const missing = await runCli(['ping', '--knexfile', file, '--env', 'staging'])
    assert.equal(missing.code, 3)
    assert.match(missing.stderr, /^poolctl: knexfile .* has no "staging" environment \(it has: production\)/)
    assertNoSecret(missing.stdout + missing.stderr, HOSTILE)
  })
})
