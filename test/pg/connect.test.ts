import assert from 'node:assert/strict'
import {createServer, type Server, type Socket} from 'node:net'
import {after, before, describe, it} from 'node:test'

import {resolveConnection} from '../../src/cli/connection.js'
import {freePort} from '../../src/embedded/embedded-postgres.js'
import {ErrorCode} from '../../src/errors.js'
import {closeClient, connectClient} from '../../src/pg/connect.js'
import {createConnectionSettings, withSettings} from '../../src/pg/connection-settings.js'
import {createTestDatabase, dropTestDatabase, quoteIdent, quoteLiteral, uniqueName, withClient} from '../support/postgres.js'

const environ = {PGPASSFILE: '/nonexistent/pgpass'}
const context = {cwd: process.cwd(), environ, homedir: '/nonexistent', username: 'nobody'}

describe('connectClient against a real server', () => {
  let url: string
  before(async () => {
    url = await createTestDatabase('connect')
  })
  after(async () => {
    await dropTestDatabase(url)
  })

  it("puts application_name, statement_timeout and lock_timeout in effect on the server", async () => {
    const {settings} = await resolveConnection({url}, context)
    const client = await connectClient(settings, {applicationNameSuffix: 'inspect'})
    try {
      const {rows} = await client.query<{app: string; lock: string; statement: string}>(
        `select current_setting('application_name') as app, current_setting('statement_timeout') as statement, current_setting('lock_timeout') as lock`,
      )
      assert.deepEqual(rows[0], {app: 'poolctl-inspect', lock: '5s', statement: '30s'})
      const shown = await client.query<{statement_timeout: string}>('show statement_timeout')
      assert.equal(shown.rows[0].statement_timeout, '30s')
      // and the server sees the session under that name
      const activity = await client.query<{application_name: string}>(
        'select application_name from pg_stat_activity where pid = pg_backend_pid()',
      )
      assert.equal(activity.rows[0].application_name, 'poolctl-inspect')
      // statement_timeout actually cancels a long statement
      await assert.rejects(
        withSettingsQuery(url, 200, 'select pg_sleep(5)'),
        (error: {code?: string}) => error.code === '57014',
      )
    } finally {
      await closeClient(client)
    }
  })

  it('honours custom timeouts and leaves the server default when 0', async () => {
    const {settings} = await resolveConnection({lockTimeoutMillis: 0, statementTimeoutMillis: 1500, url}, context)
    const client = await connectClient(settings)
    try {
      const {rows} = await client.query<{app: string; lock: string; statement: string}>(
        `select current_setting('application_name') as app, current_setting('statement_timeout') as statement, current_setting('lock_timeout') as lock`,
      )
      assert.deepEqual(rows[0], {app: 'poolctl', lock: '0', statement: '1500ms'})
    } finally {
      await closeClient(client)
    }
  })

  it('maps a wrong password to AUTH_FAILED and a missing database to DATABASE_NOT_FOUND', async () => {
    const role = uniqueName('connect_role')
    await withClient(url, (client) => client.query(`create role ${quoteIdent(role)} login password ${quoteLiteral('right-password')}`))
    const {settings} = await resolveConnection({url}, context)
    const wrong = withSettings(settings, {password: 'wrong-password', passwordSource: 'url', user: role})
    await assert.rejects(connectClient(wrong), (error: {code: string; message: string}) => {
      assert.equal(error.code, ErrorCode.AUTH_FAILED)
      assert.ok(!error.message.includes('wrong-password'))
      return true
    })
    await assert.rejects(connectClient(withSettings(settings, {database: uniqueName('missing')})), {code: ErrorCode.DATABASE_NOT_FOUND})
    await assert.rejects(connectClient(withSettings(settings, {password: undefined, passwordSource: 'none', user: role})), {
      code: ErrorCode.NO_PASSWORD,
    })
  })
})

describe('connectClient failure modes (no server needed)', () => {
  const base = createConnectionSettings({
    database: 'd',
    host: '127.0.0.1',
    password: 'x',
    passwordSource: 'url',
    port: 1,
    source: 'flag',
    user: 'u',
  })

  it('fails fast with CONNECTION_REFUSED on a closed port', async () => {
    const port = await freePort()
    const startedAt = performance.now()
    await assert.rejects(connectClient(withSettings(base, {port})), (error: {code: string; message: string}) => {
      assert.equal(error.code, ErrorCode.CONNECTION_REFUSED)
      assert.equal(error.message, `could not connect to 127.0.0.1:${port}: connection refused`)
      return true
    })
    assert.ok(performance.now() - startedAt < 2000)
  })

  it('gives up at the connect timeout on a black-hole server and leaves no socket open', async () => {
    const sockets = new Set<Socket>()
    const server: Server = createServer((socket) => {
      sockets.add(socket)
      socket.resume() // read (and ignore) the startup packet so that the client's FIN is seen
      socket.on('close', () => sockets.delete(socket))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const {port} = server.address() as {port: number}
    try {
      const startedAt = performance.now()
      await assert.rejects(connectClient(withSettings(base, {connectTimeoutMillis: 300, port})), {code: ErrorCode.CONNECT_TIMEOUT})
      const elapsed = performance.now() - startedAt
      assert.ok(elapsed >= 250 && elapsed < 300 + 600, `took ${elapsed} ms`)
      await new Promise((resolve) => setTimeout(resolve, 100))
      assert.equal(sockets.size, 0, 'the timed-out socket was closed')
    } finally {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('maps an unknown host to HOST_NOT_FOUND', async () => {
    await assert.rejects(connectClient(withSettings(base, {host: 'no-such-host.invalid', port: 5432})), {code: ErrorCode.HOST_NOT_FOUND})
  })
})

async function withSettingsQuery(url: string, statementTimeoutMillis: number, sql: string): Promise<void> {
  const {settings} = await resolveConnection({statementTimeoutMillis, url}, context)
  const client = await connectClient(settings)
  try {
    await client.query(sql)
  } finally {
    await closeClient(client)
  }
}
