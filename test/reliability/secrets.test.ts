/**
 * secrets_never_emitted: a password full of URL-breaking characters, given through each source poolctl
 * reads (URL, PGPASSWORD, .pgpass, knexfile), never shows in stdout, stderr, pino logs or --json errors,
 * whether the connection works, fails on a wrong password, or fails to connect at all.
 */
import assert from 'node:assert/strict'
import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {runCli} from '../support/cli.js'
import {createTestDatabase, dropTestDatabase, quoteIdent, quoteLiteral, uniqueName, withClient} from '../support/postgres.js'

const PASSWORD = 'p#a@s%s`w\'o"rd:/?&=\\x'
const WRONG = 'Wr0ng#@%`\'"pass'
const dir = mkdtempSync(join(tmpdir(), 'poolctl-secrets-'))

let url: string
let role: string
let host: string
let port: string
let database: string

before(async () => {
  url = await createTestDatabase('secrets')
  role = uniqueName('hostile_role')
  await withClient(url, (client) => client.query(`create role ${quoteIdent(role)} login password ${quoteLiteral(PASSWORD)}`))
  const parsed = new URL(url)
  host = parsed.hostname
  port = parsed.port
  database = decodeURIComponent(parsed.pathname.slice(1))
})
after(async () => {
  rmSync(dir, {force: true, recursive: true})
  await withClient(url, (client) => client.query(`drop role if exists ${quoteIdent(role)}`)).catch(() => {})
  await dropTestDatabase(url)
})

function assertNoSecret(output: string, secrets: string[], where: string): void {
  for (const secret of secrets) {
    for (const form of [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]) {
      assert.ok(!output.includes(form), `${where} leaked ${JSON.stringify(form)}:\n${output}`)
    }
  }
}

const urlWith = (password: string, atPort = port) =>
  `postgres://${encodeURIComponent(role)}:${encodeURIComponent(password)}@${host}:${atPort}/${encodeURIComponent(database)}`

function pgpassFile(password: string): string {
  const escape = (field: string) => field.replaceAll('\\', '\\\\').replaceAll(':', '\\:')
  const file = join(dir, `pgpass-${Math.random().toString(16).slice(2)}`)
  writeFileSync(file, `${host}:${port}:*:${escape(role)}:${escape(password)}\n`)
  chmodSync(file, 0o600)
  return file
}

function knexfile(password: string, atPort = port): string {
  const file = join(dir, `knexfile-${Math.random().toString(16).slice(2)}.cjs`)
  const connection = {host, port: Number(atPort), user: role, password, database}
  writeFileSync(file, `module.exports = {production: {client: 'pg', connection: ${JSON.stringify(connection)}}}\n`)
  return file
}

interface Source {
  name: string
  /** CLI args and environment that make poolctl use this password on this port. */
  use(password: string, atPort?: string): {args: string[]; env: Record<string, string>}
}

const SOURCES: Source[] = [
  {name: 'URL', use: (password, atPort) => ({args: ['--url', urlWith(password, atPort)], env: {}})},
  {
    name: 'PGPASSWORD',
    use: (password, atPort = port) => ({args: [], env: {PGHOST: host, PGPORT: atPort, PGUSER: role, PGDATABASE: database, PGPASSWORD: password}}),
  },
  {
    name: '.pgpass',
    use: (password, atPort = port) => ({args: [], env: {PGHOST: host, PGPORT: atPort, PGUSER: role, PGDATABASE: database, PGPASSFILE: pgpassFile(password)}}),
  },
  {name: 'knexfile', use: (password, atPort) => ({args: ['--knexfile', knexfile(password, atPort), '--env', 'production'], env: {}})},
]

describe('secrets_never_emitted', () => {
  for (const source of SOURCES) {
    it(`secrets_never_emitted: ${source.name}: a working connection at --log-level trace shows no password`, async () => {
      const {args, env} = source.use(PASSWORD)
      const result = await runCli(['ping', ...args, '--log-level', 'trace'], {env})
      assert.equal(result.code, 0, result.stderr)
      assert.ok(result.stderr.includes('"level"'), 'pino logged at trace level, so the check is meaningful')
      assertNoSecret(result.stdout + result.stderr, [PASSWORD], `${source.name} success`)
    })

    it(`secrets_never_emitted: ${source.name}: a wrong password (--json and debug logs) shows neither password, exit 3`, async () => {
      const {args, env} = source.use(WRONG)
      const asJson = await runCli(['ping', ...args, '--json'], {env})
      assert.equal(asJson.code, 3)
      assert.equal(JSON.parse(asJson.stdout).error.code, 'AUTH_FAILED')
      const debug = await runCli(['ping', ...args, '--log-level', 'debug'], {env})
      assert.equal(debug.code, 3)
      assertNoSecret(asJson.stdout + asJson.stderr + debug.stdout + debug.stderr, [WRONG, PASSWORD], `${source.name} auth failure`)
    })

    it(`secrets_never_emitted: ${source.name}: could not connect (refused port) shows no password`, async () => {
      const {args, env} = source.use(PASSWORD, '1')
      const result = await runCli(['ping', ...args, '--json', '--log-level', 'debug'], {env})
      assert.equal(result.code, 3)
      assert.equal(JSON.parse(result.stdout).error.code, 'CONNECTION_REFUSED')
      assertNoSecret(result.stdout + result.stderr, [PASSWORD], `${source.name} refused`)
    })
  }

  it('scaffold_secret_files: a .pgpass readable by others is warned about and ignored, as libpq does', async () => {
    const file = pgpassFile(PASSWORD)
    chmodSync(file, 0o644)
    const result = await runCli(['ping', '--json'], {env: {PGHOST: host, PGPORT: port, PGUSER: role, PGDATABASE: database, PGPASSFILE: file}})
    assert.equal(result.code, 3, 'without the ignored password the login fails')
    assert.match(result.stderr, /poolctl: warning: password file .* has group or world access .*0644.*ignoring it/)
    assertNoSecret(result.stdout + result.stderr, [PASSWORD], 'loose .pgpass')
  })

  it('secrets_never_emitted: a URL that does not parse is never echoed (node-postgres #3145 puts it in its error)', async () => {
    const broken = `postgres://${role}:${PASSWORD}@${host}:${port}/${database}`
    const result = await runCli(['ping', '--url', broken, '--json', '--log-level', 'debug'])
    assert.equal(result.code, 3)
    assertNoSecret(result.stdout + result.stderr, [PASSWORD, 'w\'o"rd'], 'unparseable URL')
  })
})
