import {randomBytes} from 'node:crypto'

import type {Client} from 'pg'

import type {
  EmbeddedPostgresServer,
  StartEmbeddedPostgresOptions,
} from '../../src/embedded/embedded-postgres.js'

/**
 * Real-Postgres helpers for tests.
 *
 * `npm test` (scripts/run-tests.mjs) starts ONE embedded server and exports
 * its superuser URL as POOLCTL_TEST_DATABASE_URL; every test file uses it and
 * creates its own throwaway database (`createTestDatabase`) so files running in
 * parallel never collide. A file run on its own (`node --test dist/test/x.test.js`)
 * starts a private server instead, stopped when the file's process ends.
 */

export async function startEmbeddedPostgres(options: StartEmbeddedPostgresOptions = {}): Promise<EmbeddedPostgresServer> {
  const {startEmbeddedPostgres: start} = await import('../../src/embedded/embedded-postgres.js')
  return start({verbose: Boolean(process.env.POOLCTL_TEST_VERBOSE), ...options})
}

export async function stopEmbeddedPostgres(server: EmbeddedPostgresServer | undefined): Promise<void> {
  await server?.stop()
}

let privateServer: Promise<EmbeddedPostgresServer> | undefined

/** The superuser URL tests connect with: POOLCTL_TEST_DATABASE_URL, or a private server. */
export async function testDatabaseUrl(): Promise<string> {
  const fromEnv = process.env.POOLCTL_TEST_DATABASE_URL
  if (fromEnv) return fromEnv
  // A file run on its own gets a private server, stopped (SIGINT, data dir removed) by the embedded
  // module's exit handler: any earlier stop races the file's own after() hooks, which need the server.
  privateServer ??= startEmbeddedPostgres({unref: true})

  return (await privateServer).url
}

/** Same server, another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${encodeURIComponent(database)}`
  return parsed.toString()
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`
}

/** A unique, valid database/role name: `<prefix>_<random>`, at most 63 bytes. */
export function uniqueName(prefix: string): string {
  const safe = prefix.toLowerCase().replaceAll(/[^a-z0-9_]/g, '_').slice(0, 40)
  return `${safe}_${randomBytes(5).toString('hex')}`
}

/** Run `fn` with a connected pg.Client, always closing it. */
export async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const {default: pg} = await import('pg')
  const client = new pg.Client({connectionString: url, connectionTimeoutMillis: 10_000})
  client.on('error', () => undefined)
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end().catch(() => undefined)
  }
}

/** Create a throwaway database on the test server; returns its URL (superuser credentials). */
export async function createTestDatabase(prefix: string): Promise<string> {
  const admin = await testDatabaseUrl()
  const name = uniqueName(prefix)
  await withClient(admin, (client) => client.query(`create database ${quoteIdent(name)}`))
  return withDatabase(admin, name)
}

/** Drop a database made by createTestDatabase, disconnecting anyone still in it. */
export async function dropTestDatabase(url: string): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1))
  const admin = await testDatabaseUrl()
  await withClient(admin, (client) => client.query(`drop database if exists ${quoteIdent(name)} with (force)`))
}
