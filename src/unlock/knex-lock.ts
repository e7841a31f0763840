import type {Client} from 'pg'

import {CliError, ErrorCode} from '../errors.js'
import {describeQueryError} from '../pg/errors.js'
import {qualifiedName} from '../pg/sql.js'
import {readHolders, readRoleSessions} from './sessions.js'
import {readTracking} from './tracking.js'
import type {Holder, HolderRole, KnexDiagnosis, LatestMigration, LockRow, TrackingInfo} from './types.js'

/**
 * Diagnosis of knex's migration lock (knex 3, lib/migrations/migrate/Migrator.js and
 * table-creator.js): table `<tableName>_lock` (`index serial primary key, is_locked integer`) in
 * `schemaName`, else in `current_schema()` (knex's `hasTable` looks only there); acquire =
 * `UPDATE … SET is_locked = 1 WHERE is_locked = 0`, exactly one row expected.
 *
 * Every query here reads; the one that touches the lock row (`FOR UPDATE NOWAIT`) runs inside a
 * transaction that is always rolled back.
 */

export interface SessionContext {
  database: string
  user: string
  currentSchema: string | null
  searchPath: string[]
  pid: number
  serverVersionNum: number
}

export async function readSessionContext(client: Client): Promise<SessionContext> {
  const {rows} = await client.query<{
    database: string
    user_name: string
    current_schema: string | null
    search_path: string[]
    pid: number
    version: number
  }>(`select current_database() as database, current_user::text as user_name, current_schema()::text as current_schema,
             current_schemas(false)::text[] as search_path, pg_backend_pid() as pid,
             current_setting('server_version_num')::int as version`)
  const row = rows[0]
  return {
    currentSchema: row.current_schema,
    database: row.database,
    pid: row.pid,
    searchPath: row.search_path,
    serverVersionNum: row.version,
    user: row.user_name,
  }
}

export interface KnexLockOptions {
  /** knex's `migrations.tableName`; the lock table is `<table>_lock`. */
  table: string
  /** knex's `migrations.schemaName`; default: `current_schema()`. */
  schema?: string
  /** lock_timeout of the row-lock probe. */
  probeLockTimeoutMillis: number
}

/** The resolved lock table, for the repair and tracking steps. */
export interface LockTableRef {
  oid: string
  schema: string
  lockTable: string
  owner: string
  qualified: string
  migrationsOid: string | null
  migrationsQualified: string
}

export interface KnexDiagnosisResult {
  diagnosis: KnexDiagnosis
  ref: LockTableRef | null
  /** Identifies the row versions seen: a repair refuses when they changed in between. */
  fingerprint: string
}

/** Integer types knex's `increments()` / `integer()` produce, and their widths. */
const INTEGER_TYPES = new Set(['bigint', 'integer', 'smallint'])

export async function diagnoseKnexLock(client: Client, context: SessionContext, options: KnexLockOptions): Promise<KnexDiagnosisResult> {
  const lockTable = `${options.table}_lock`
  const schema = options.schema ?? context.currentSchema
  const base: KnexDiagnosis = {
    database: context.database,
    holders: [],
    latestMigration: null,
    lockTable,
    notes: [],
    otherSessions: [],
    proof: 'catalog',
    qualifiedLockTable: qualifiedName(schema ?? undefined, lockTable),
    rowCount: null,
    rows: [],
    schema,
    searchPath: context.searchPath,
    state: 'missing',
    table: options.table,
    tool: 'knex',
    tracking: {installed: false, record: null, table: null},
    waiters: [],
  }
  if (schema === null) {
    base.notes.push(
      `no schema given and the search_path (${context.searchPath.join(', ') || 'empty'}) names no existing schema: knex would fail too`,
    )
    return {diagnosis: base, fingerprint: '', ref: null}
  }

  const relations = await client.query<{relname: string; oid: string; relkind: string; owner: string}>(
    `select c.relname, c.oid::text as oid, c.relkind::text as relkind, pg_get_userbyid(c.relowner)::text as owner
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = $1 and c.relname = any($2::text[])`,
    [schema, [lockTable, options.table]],
  )
  const lockRel = relations.rows.find((row) => row.relname === lockTable)
  const migrationsRel = relations.rows.find((row) => row.relname === options.table)
  if (!lockRel) {
    base.notes.push(
      options.schema === undefined
        ? `looked in current_schema() "${schema}" (search_path: ${context.searchPath.join(', ')}), where knex looks when no schemaName is configured`
        : `looked in schema "${schema}" (--schema or the knexfile's migrations.schemaName)`,
    )
    return {diagnosis: base, fingerprint: '', ref: null}
  }
  const ref: LockTableRef = {
    lockTable,
    migrationsOid: migrationsRel?.oid ?? null,
    migrationsQualified: qualifiedName(schema, options.table),
    oid: lockRel.oid,
    owner: lockRel.owner,
    qualified: qualifiedName(schema, lockTable),
    schema,
  }
  await assertKnexShape(client, ref, lockRel.relkind)

  const {rows, xmaxes} = await readLockRows(client, ref)
  const diagnosis: KnexDiagnosis = {...base, proof: 'value', rowCount: rows.length, rows, state: 'unlocked'}
  const fingerprint = rows.map((row) => `${row.ctid}/${row.xmin}/${row.isLocked}`).join(',')
  diagnosis.latestMigration = await readLatestMigration(client, ref)

  const probe = await probeRowLock(client, ref, options.probeLockTimeoutMillis)
  const live = await findLiveHolders(client, ref, xmaxes)
  if (probe.result === 'held' || (probe.result === 'not-permitted' && live.holders.length > 0)) {
    diagnosis.state = 'held'
    diagnosis.proof = 'row-lock'
    diagnosis.holders = live.holders
    diagnosis.waiters = live.waiters
    diagnosis.notes.push(
      probe.result === 'held'
        ? `SELECT … FOR UPDATE NOWAIT failed with ${probe.message}: knex's transactional runs (the default) look like this`
        : 'a live transaction has written the lock row (its xid is the row\'s xmax); the row-lock probe needs UPDATE privilege, which this role lacks',
    )
    if (rows.some((row) => row.isLocked === 0)) {
      diagnosis.notes.push('is_locked reads 0 from outside: the holder\'s is_locked = 1 is not committed yet')
    }
    if (live.holders.length === 0) diagnosis.notes.push('the holding session could not be identified (it may have just finished)')
    diagnosis.tracking = await trackingOf(client, ref, rows)
    return {diagnosis, fingerprint, ref}
  }
  if (probe.result === 'not-permitted') {
    diagnosis.notes.push('this role may not lock the row (SELECT … FOR UPDATE needs UPDATE privilege): live holders were looked for by the row\'s xmax only')
  }

  if (rows.length !== 1) {
    diagnosis.state = 'corrupt'
    diagnosis.proof = 'row-count'
    diagnosis.notes.push(
      rows.length === 0
        ? 'the lock table has no row: knex\'s UPDATE … WHERE is_locked = 0 matches nothing, so every migrator fails with "Migration table is already locked"'
        : `the lock table has ${rows.length} rows: knex expects exactly one, so every migrator fails with "Migration table is already locked" (knex #3538)`,
    )
    diagnosis.tracking = await trackingOf(client, ref, rows)
    return {diagnosis, fingerprint, ref}
  }

  const tracked = await readTracking(client, ref, rows)
  diagnosis.tracking = tracked.info
  if (rows[0].isLocked === 0) {
    diagnosis.state = 'unlocked'
    diagnosis.proof = 'value'
    return {diagnosis, fingerprint, ref}
  }

  // is_locked = 1 is committed: a non-transactional run (disableTransactions, a migration with
  // `config.transaction = false`, any rollback/down) holds it, or one was killed while holding it.
  const record = tracked.info.record
  if (record?.matchesCurrentLock) {
    if (record.backendAlive !== false) {
      diagnosis.state = 'held'
      diagnosis.proof = 'tracking'
      diagnosis.holders = await readHolders(client, [
        {pid: record.pid, reason: `set is_locked = 1 at ${record.lockedAt} (recorded by --track)`, role: 'tracked'},
      ])
      if (record.backendAlive === null) {
        diagnosis.notes.push(
          `backend ${record.pid} is connected, but its backend_start is not visible to this role (grant pg_read_all_stats): it may be the recording backend, so it counts as the holder`,
        )
      }
      return {diagnosis, fingerprint, ref}
    }
    diagnosis.state = 'stale'
    diagnosis.proof = 'tracking'
    diagnosis.notes.push(
      `the backend that set is_locked = 1 (pid ${record.pid}, started ${record.backendStart ?? 'unknown'}) at ${record.lockedAt} has disconnected`,
    )
    if (tracked.sameClientSessions > 0) {
      diagnosis.proof = 'no-live-holder-found'
      diagnosis.notes.push(
        `${tracked.sameClientSessions} other session(s) from the same client, role and application_name are connected: a connection pool may have closed the locking connection while the migrator lives on`,
      )
      diagnosis.otherSessions = await readRoleSessions(client, [record.user ?? context.user])
    }
    return {diagnosis, fingerprint, ref}
  }

  const activity = await findMigrationActivity(client, ref)
  if (activity.length > 0) {
    diagnosis.state = 'held'
    diagnosis.proof = 'migration-activity'
    diagnosis.holders = activity
    diagnosis.notes.push('is_locked = 1 is committed and a session is doing migration work right now (DDL, or an open transaction on the migration tables)')
    return {diagnosis, fingerprint, ref}
  }

  diagnosis.state = 'stale'
  diagnosis.proof = 'no-live-holder-found'
  diagnosis.otherSessions = await readRoleSessions(client, [context.user, ref.owner])
  diagnosis.notes.push(
    'is_locked = 1 is committed and no session holds the row or shows migration work (DDL, locks on the migration tables)',
    "Postgres alone cannot prove the migrator is gone: a non-transactional knex run commits is_locked = 1 and may sit idle between statements. Check the sessions below; `--track` makes this provable next time",
  )
  if (tracked.info.installed && record && !record.matchesCurrentLock) {
    diagnosis.notes.push('tracking is installed, but its record is not for the current lock (taken before --track was installed, or rewritten since)')
  }
  return {diagnosis, fingerprint, ref}
}

async function trackingOf(client: Client, ref: LockTableRef, rows: readonly LockRow[]): Promise<TrackingInfo> {
  return (await readTracking(client, ref, rows)).info
}

async function assertKnexShape(client: Client, ref: LockTableRef, relkind: string): Promise<void> {
  const {rows} = await client.query<{attname: string; type: string}>(
    `select a.attname::text as attname, format_type(a.atttypid, a.atttypmod) as type
       from pg_attribute a
      where a.attrelid = $1::oid and a.attnum > 0 and not a.attisdropped
      order by a.attnum`,
    [ref.oid],
  )
  const columns = new Map(rows.map((row) => [row.attname, row.type]))
  const described = rows.map((row) => `${row.attname} ${row.type}`).join(', ') || 'no columns'
  const ok =
    (relkind === 'r' || relkind === 'p') &&
    rows.length === 2 &&
    INTEGER_TYPES.has(columns.get('index') ?? '') &&
    INTEGER_TYPES.has(columns.get('is_locked') ?? '')
  if (!ok) {
    throw new CliError(
      ErrorCode.TABLE_SHAPE,
      `${ref.qualified} is not a knex lock table (expected a table with exactly "index" integer and "is_locked" integer, found ${
        relkind === 'r' || relkind === 'p' ? described : `relkind ${relkind}`
      }); poolctl will not touch it`,
    )
  }
}

async function readLockRows(client: Client, ref: LockTableRef): Promise<{rows: LockRow[]; xmaxes: string[]}> {
  try {
    const result = await client.query<{index: string | null; is_locked: number | null; xmin: string; xmax: string; ctid: string}>(
      `select "index"::text as index, is_locked, xmin::text as xmin, xmax::text as xmax, ctid::text as ctid
         from ${ref.qualified} order by "index", ctid limit 1000`,
    )
    return {
      rows: result.rows.map((row) => ({ctid: row.ctid, index: row.index, isLocked: row.is_locked, xmin: row.xmin})),
      xmaxes: result.rows.map((row) => row.xmax).filter((xmax) => xmax !== '0'),
    }
  } catch (error) {
    throw readError(error, `reading ${ref.qualified}`)
  }
}

export function readError(error: unknown, what: string): CliError {
  if ((error as {code?: string}).code === '42501') {
    return new CliError(ErrorCode.PERMISSION_DENIED, `${what}: permission denied (${(error as Error).message})`, {cause: error})
  }
  return describeQueryError(error, what)
}

interface ProbeResult {
  result: 'free' | 'held' | 'not-permitted'
  message: string
}

/**
 * `SELECT … FOR UPDATE NOWAIT` in a transaction that is rolled back: SQLSTATE 55P03 proves a live
 * transaction holds the row (or, after lock_timeout, a strong lock on the table).
 */
async function probeRowLock(client: Client, ref: LockTableRef, lockTimeoutMillis: number): Promise<ProbeResult> {
  await client.query('begin')
  try {
    await client.query("select set_config('lock_timeout', $1, true)", [`${lockTimeoutMillis}ms`])
    await client.query(`select 1 from ${ref.qualified} for update nowait`)
    return {message: 'no other transaction holds the row', result: 'free'}
  } catch (error) {
    const code = (error as {code?: string}).code
    if (code === '55P03') return {message: `55P03 ${(error as Error).message}`, result: 'held'}
    if (code === '42501') return {message: (error as Error).message, result: 'not-permitted'}
    throw readError(error, `probing ${ref.qualified}`)
  } finally {
    await client.query('rollback').catch(() => undefined)
  }
}

interface RelationLockRow {
  pid: number
  mode: string
  granted: boolean
  waiting: boolean
}

/**
 * Who holds the lock row: the backend whose transaction id is the row's xmax (an UPDATE or
 * FOR UPDATE in progress), plus sessions holding a write-or-stronger lock on the table that are
 * not themselves waiting. Sessions waiting on the table are reported as waiters.
 */
async function findLiveHolders(client: Client, ref: LockTableRef, xmaxes: readonly string[]): Promise<{holders: Holder[]; waiters: Holder[]}> {
  const byXmax =
    xmaxes.length === 0
      ? []
      : (
          await client.query<{pid: number; xid: string}>(
            `select pid, backend_xid::text as xid from pg_stat_activity
              where backend_xid::text = any($1::text[]) and pid <> pg_backend_pid()`,
            [xmaxes],
          )
        ).rows
  const relationLocks = (
    await client.query<RelationLockRow>(
      `select l.pid, l.mode, l.granted,
              exists (select 1 from pg_locks w where w.pid = l.pid and not w.granted) as waiting
         from pg_locks l
        where l.locktype = 'relation' and l.relation = $1::oid and l.pid <> pg_backend_pid()`,
      [ref.oid],
    )
  ).rows
  const holderEntries: Array<{pid: number; reason: string; role: HolderRole}> = byXmax.map((row) => ({
    pid: row.pid,
    reason: `its transaction ${row.xid} holds the lock row`,
    role: 'row-lock',
  }))
  const holderPids = new Set(holderEntries.map((entry) => entry.pid))
  for (const lock of relationLocks) {
    if (holderPids.has(lock.pid) || !lock.granted || lock.waiting || lock.mode === 'AccessShareLock') continue
    holderEntries.push({pid: lock.pid, reason: `holds ${lock.mode} on ${ref.qualified} in an open transaction`, role: 'table-lock'})
    holderPids.add(lock.pid)
  }
  const waiterEntries = relationLocks
    .filter((lock) => !holderPids.has(lock.pid) && (lock.waiting || !lock.granted))
    .map((lock) => ({pid: lock.pid, reason: `waiting (holds ${lock.mode} on the lock table, queued behind the holder)`, role: 'row-lock' as const}))
  return {holders: await readHolders(client, holderEntries), waiters: await readHolders(client, waiterEntries)}
}

/**
 * Sessions that are visibly running a migration: an open transaction with a lock on the lock or
 * migrations table, ACCESS EXCLUSIVE on any relation of this database (DDL in an open transaction),
 * or a DDL statement executing right now.
 */
async function findMigrationActivity(client: Client, ref: LockTableRef): Promise<Holder[]> {
  const oids = [ref.oid, ...(ref.migrationsOid ? [ref.migrationsOid] : [])]
  const {rows} = await client.query<{pid: number; reason: string}>(
    `with activity as (
       select l.pid, 'holds ' || l.mode || ' on ' || l.relation::regclass::text || ' in an open transaction' as reason
         from pg_locks l
        where l.locktype = 'relation' and l.granted and l.relation = any($1::oid[])
       union all
       select l.pid, 'holds ACCESS EXCLUSIVE on ' || coalesce(l.relation::regclass::text, l.relation::text) || ' (DDL in an open transaction)'
         from pg_locks l
        where l.locktype = 'relation' and l.granted and l.mode = 'AccessExclusiveLock'
          and l.database = (select oid from pg_database where datname = current_database())
       union all
       select a.pid, 'running DDL: ' || left(regexp_replace(a.query, '\\s+', ' ', 'g'), 80)
         from pg_stat_activity a
        where a.state = 'active'
          and a.query ~* '^\\s*(create|alter|drop|truncate|comment\\s+on|reindex|refresh\\s+materialized\\s+view)\\y')
     select distinct act.pid, act.reason
       from activity act join pg_stat_activity a on a.pid = act.pid
      where a.pid <> pg_backend_pid() and a.datname = current_database()
        and (a.backend_type = 'client backend' or a.backend_type is null)
      order by act.pid`,
    [oids],
  )
  return readHolders(
    client,
    rows.map((row) => ({pid: row.pid, reason: row.reason, role: 'migration-activity' as const})),
  )
}

async function readLatestMigration(client: Client, ref: LockTableRef): Promise<LatestMigration | null> {
  if (!ref.migrationsOid) return null
  try {
    const {rows} = await client.query<{name: string; migration_time: Date | null; age: number | null; applied: number}>(
      `select name, migration_time, extract(epoch from clock_timestamp() - migration_time)::float8 as age,
              (select count(*)::int from ${ref.migrationsQualified}) as applied
         from ${ref.migrationsQualified} order by id desc limit 1`,
    )
    const row = rows[0]
    if (!row) return null
    return {
      ageSeconds: row.age === null ? null : Math.round(row.age),
      applied: row.applied,
      migrationTime: row.migration_time === null ? null : new Date(row.migration_time).toISOString(),
      name: row.name,
    }
  } catch {
    // Not knex's shape, or not readable: the latest migration is evidence, not a requirement.
    return null
  }
}
