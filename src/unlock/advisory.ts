import type {Client} from 'pg'

import {crc32, fnv1_32, javaStringHashCode, uint32Multiply} from './hash.js'
import {readHolders} from './sessions.js'
import type {Holder, OtherToolLock} from './types.js'

/**
 * Advisory-lock keys of other migration tools, each verified against the tool's own source
 * (docs/unlock-migrations.md cites repository and path). A bigint key shows in pg_locks as
 * locktype 'advisory', classid = high 32 bits, objid = low 32 bits, objsubid = 1.
 */

export interface AdvisoryKey {
  tool: string
  key: bigint
  /** Which input the key was computed from, for humans. */
  variant: string
}

export interface KeyContext {
  database: string
  /** Every non-system schema of the database (keys that depend on a schema are computed for each). */
  schemas: readonly string[]
}

/** golang-migrate: `const advisoryLockIDSalt uint = 1486364155` (database/util.go). */
const GOLANG_MIGRATE_SALT = 1_486_364_155
/** Rails: `MIGRATOR_SALT = 2053462845` (activerecord/lib/active_record/migration.rb). */
const RAILS_MIGRATOR_SALT = 2_053_462_845n
/** Flyway: LOCK_MAGIC_NUM, "Flyway" in ASCII (PostgreSQLAdvisoryLockTemplate.java). */
const FLYWAY_LOCK_MAGIC_NUM = (0x46n << 40n) + (0x6cn << 32n) + (0x79n << 24n) + (0x77n << 16n) + (0x61n << 8n) + 0x79n

export const ADVISORY_TOOLS = ['node-pg-migrate', 'Prisma Migrate', 'graphile-migrate', 'golang-migrate', 'Rails', 'Flyway', 'Atlas', 'Kysely'] as const

function golangMigrateKey(input: string): bigint {
  return BigInt(uint32Multiply(crc32(input), GOLANG_MIGRATE_SALT))
}

/** Java's quoting of a PostgreSQL identifier (PostgreSQLDatabase.doQuote). */
function flywayQuote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`
}

export function advisoryKeys(context: KeyContext): AdvisoryKey[] {
  const keys: AdvisoryKey[] = [
    // src/runner.ts: const PG_MIGRATE_LOCK_ID = 7_241_865_325_823_964; pg_try_advisory_lock (session)
    {key: 7_241_865_325_823_964n, tool: 'node-pg-migrate', variant: 'PG_MIGRATE_LOCK_ID'},
    // schema-engine/.../flavour/postgres.rs: SELECT pg_advisory_lock(72707369) (session)
    {key: 72_707_369n, tool: 'Prisma Migrate', variant: 'pg_advisory_lock(72707369)'},
    // src/pgReal.ts: ADVISORY_LOCK_MIGRATE = "4727445306447283"; pg_try_advisory_lock (session)
    {key: 4_727_445_306_447_283n, tool: 'graphile-migrate', variant: 'ADVISORY_LOCK_MIGRATE'},
    // src/dialect/postgres/postgres-adapter.ts: LOCK_ID = '3853314791062309107'; pg_advisory_xact_lock
    {key: 3_853_314_791_062_309_107n, tool: 'Kysely', variant: 'LOCK_ID (transaction-level)'},
    // sql/postgres/driver.go: fnv.New32() of the lock name; cmdapi: applyLockValue = "atlas_migrate_execute"
    {key: BigInt(fnv1_32('atlas_migrate_execute')), tool: 'Atlas', variant: 'fnv32("atlas_migrate_execute"), the default --lock-name'},
    // migration.rb: MIGRATOR_SALT * Zlib.crc32(connection.current_database)
    {key: RAILS_MIGRATOR_SALT * BigInt(crc32(context.database)), tool: 'Rails', variant: `2053462845 × crc32("${context.database}")`},
  ]
  // golang-migrate: the driver opened from a URL uses url.Path ("/db") as the database name,
  // WithInstance uses current_database() ("db"); the table defaults to schema_migrations in
  // current_schema(). Current releases join schema, table, database with NUL; some joined the
  // database first; older ones hashed the database name alone.
  for (const database of [context.database, `/${context.database}`]) {
    for (const schema of context.schemas) {
      keys.push({
        key: golangMigrateKey(`${schema}\0schema_migrations\0${database}`),
        tool: 'golang-migrate',
        variant: `schema "${schema}", table "schema_migrations", database "${database}"`,
      })
    }
    keys.push({key: golangMigrateKey(database), tool: 'golang-migrate', variant: `database "${database}" (releases before schema-aware keys)`})
    for (const schema of context.schemas) {
      keys.push({
        key: golangMigrateKey(`${database}\0${schema}\0schema_migrations`),
        tool: 'golang-migrate',
        variant: `database "${database}", schema "${schema}", table "schema_migrations" (releases that joined the database name first)`,
      })
    }
  }
  // Flyway: LOCK_MAGIC_NUM + table.toString().hashCode(), toString = "schema"."flyway_schema_history".
  for (const schema of context.schemas) {
    const table = `${flywayQuote(schema)}.${flywayQuote('flyway_schema_history')}`
    keys.push({key: FLYWAY_LOCK_MAGIC_NUM + BigInt(javaStringHashCode(table)), tool: 'Flyway', variant: `history table ${table}`})
  }
  return keys
}

interface AdvisoryLockRow {
  pid: number
  key: string
  granted: boolean
  mode: string
}

/** Advisory locks in this database whose key is one of `keys`, grouped per tool and key. */
export async function findAdvisoryLocks(client: Client, keys: readonly AdvisoryKey[]): Promise<OtherToolLock[]> {
  const byKey = new Map(keys.map((key) => [key.key.toString(), key]))
  const {rows} = await client.query<AdvisoryLockRow>(
    `select l.pid, ((l.classid::int8 << 32) | l.objid::int8)::text as key, l.granted, l.mode
       from pg_locks l
      where l.locktype = 'advisory' and l.objsubid = 1
        and l.database = (select oid from pg_database where datname = current_database())
        and ((l.classid::int8 << 32) | l.objid::int8) = any($1::int8[])
      order by l.granted desc, l.pid`,
    [[...byKey.keys()]],
  )
  const found = new Map<string, AdvisoryLockRow[]>()
  for (const row of rows) found.set(row.key, [...(found.get(row.key) ?? []), row])
  const locks: OtherToolLock[] = []
  for (const [key, lockRows] of found) {
    const spec = byKey.get(key)
    if (!spec) continue
    const holders: Holder[] = await readHolders(
      client,
      lockRows
        .filter((row) => row.granted)
        .map((row) => ({pid: row.pid, reason: `holds advisory lock ${key} (${row.mode})`, role: 'advisory-lock' as const})),
    )
    const waiters: Holder[] = await readHolders(
      client,
      lockRows
        .filter((row) => !row.granted)
        .map((row) => ({pid: row.pid, reason: `waiting for advisory lock ${key}`, role: 'advisory-lock' as const})),
    )
    locks.push({
      holders,
      key,
      kind: 'advisory',
      notes:
        holders.length > 0
          ? ['a session advisory lock is released only by its own session: end that session, or pass --terminate PID']
          : [],
      state: holders.length > 0 ? 'held' : 'unlocked',
      tool: spec.tool,
      variant: spec.variant,
      waiters,
    })
  }
  return locks
}

/** Non-system schemas of this database. */
export async function listSchemas(client: Client): Promise<string[]> {
  const {rows} = await client.query<{nspname: string}>(
    `select nspname::text as nspname from pg_namespace
      where nspname !~ '^pg_' and nspname <> 'information_schema' order by nspname`,
  )
  return rows.map((row) => row.nspname)
}
