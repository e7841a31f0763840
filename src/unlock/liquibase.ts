// poolctl-ignore-file query-in-loop -- one query per Liquibase lock table found, and a database has one per schema that uses Liquibase (usually one)
import type {Client} from 'pg'

import {qualifiedName} from '../pg/sql.js'
import {readHolders} from './sessions.js'
import {withExclusiveTableLock, type RepairOutcome} from './repair.js'
import type {OtherToolLock} from './types.js'

/**
 * Liquibase's lock table (liquibase-standard, CreateDatabaseChangeLogLockTableGenerator.java):
 * DATABASECHANGELOGLOCK (ID int primary key, LOCKED boolean, LOCKGRANTED datetime, LOCKEDBY
 * varchar(255)), unquoted, so `databasechangeloglock` with lower-case columns in PostgreSQL.
 * Lock = `UPDATE … SET LOCKED = TRUE, LOCKGRANTED = NOW(), LOCKEDBY = 'host (ip)' WHERE ID = 1 AND
 * LOCKED = FALSE`, committed (LockDatabaseChangeLogGenerator.java); release =
 * `UPDATE … SET LOCKED = FALSE, LOCKGRANTED = NULL, LOCKEDBY = NULL WHERE ID = 1`
 * (UnlockDatabaseChangeLogGenerator.java), which is what poolctl runs.
 *
 * Stale check by age: the lock was granted at LOCKGRANTED, so only a session connected at that
 * time can hold it. Sessions connected no later than LOCKGRANTED are candidate holders (held);
 * when none is left, the lock is stale. LOCKGRANTED is a timestamp without time zone written in
 * Liquibase's session TimeZone; poolctl reads it in its own (see the docs).
 */

export interface LiquibaseTable {
  qualified: string
  lock: OtherToolLock
  fingerprint: string
}

const CANDIDATE_LIMIT = 20

export async function diagnoseLiquibase(client: Client): Promise<LiquibaseTable[]> {
  const tables = await client.query<{schema: string; oid: string}>(
    `select n.nspname::text as schema, c.oid::text as oid
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relname = 'databasechangeloglock' and c.relkind in ('r', 'p')
        and (select count(*) from pg_attribute a
              where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                and a.attname in ('id', 'locked', 'lockgranted', 'lockedby')) = 4
      order by 1`,
  )
  const found: LiquibaseTable[] = []
  for (const table of tables.rows) {
    const qualified = qualifiedName(table.schema, 'databasechangeloglock')
    const {rows} = await client.query<{
      locked: boolean | null
      lockgranted: string | null
      lockedby: string | null
      age: number | null
      ctid: string
      xmin: string
    }>(
      `select locked, lockgranted::text as lockgranted, lockedby,
              extract(epoch from localtimestamp - lockgranted)::float8 as age, ctid::text as ctid, xmin::text as xmin
         from ${qualified} where id = 1`,
    )
    const row = rows[0]
    const lock: OtherToolLock = {
      holders: [],
      key: qualified,
      kind: 'table',
      lockAgeSeconds: row?.age === null || row?.age === undefined ? null : Math.round(row.age),
      lockGranted: row?.lockgranted ?? null,
      lockTable: qualified,
      lockedBy: row?.lockedby ?? null,
      notes: [],
      state: 'unlocked',
      tool: 'Liquibase',
      variant: 'DATABASECHANGELOGLOCK row ID = 1',
      waiters: [],
    }
    const fingerprint = row ? `${row.ctid}/${row.xmin}` : ''
    if (!row) {
      lock.notes.push('no row with ID = 1: Liquibase inserts it (unlocked) on its next run; nothing to release')
    } else if (row.locked) {
      const candidates = await client.query<{pid: number; backend_start: string | null}>(
        `select pid, backend_start::text as backend_start from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid()
            and (backend_type = 'client backend' or backend_type is null)
            and ($1::timestamp is null or backend_start is null or backend_start <= $1::timestamp)
          order by backend_start desc nulls first limit $2`,
        [row.lockgranted, CANDIDATE_LIMIT + 1],
      )
      if (candidates.rows.length === 0) {
        lock.state = 'stale'
        lock.notes.push(
          `LOCKED since ${row.lockgranted ?? 'an unknown time'} by ${row.lockedby ?? 'unknown'}, and no session connected at that time is still connected: the locking session is gone`,
        )
      } else {
        lock.state = 'held'
        lock.holders = await readHolders(
          client,
          candidates.rows.slice(0, CANDIDATE_LIMIT).map((candidate) => ({
            pid: candidate.pid,
            reason: `connected ${candidate.backend_start ?? 'at a time hidden from this role'}, before the lock was granted (${row.lockgranted ?? 'unknown'}): may be the holder`,
            role: 'liquibase-candidate' as const,
          })),
        )
        lock.notes.push(
          `LOCKED since ${row.lockgranted ?? 'an unknown time'} by ${row.lockedby ?? 'unknown'}; ${
            candidates.rows.length > CANDIDATE_LIMIT ? `more than ${CANDIDATE_LIMIT}` : candidates.rows.length
          } session(s) connected before then are still connected and may hold it`,
        )
      }
    }
    found.push({fingerprint, lock, qualified})
  }
  return found
}

/** Liquibase's own release statement, under ACCESS EXCLUSIVE, only if the row is the one diagnosed. */
export async function resetLiquibaseLock(
  client: Client,
  table: LiquibaseTable,
  lockTimeoutMillis: number,
): Promise<RepairOutcome<number>> {
  return withExclusiveTableLock(client, table.qualified, lockTimeoutMillis, async (ensureUnchanged) => {
    const {rows} = await client.query<{ctid: string; xmin: string}>(
      `select ctid::text as ctid, xmin::text as xmin from ${table.qualified} where id = 1`,
    )
    ensureUnchanged(rows[0] ? `${rows[0].ctid}/${rows[0].xmin}` : '', table.fingerprint)
    const result = await client.query(`update ${table.qualified} set locked = false, lockgranted = null, lockedby = null where id = 1`)
    return result.rowCount ?? 0
  })
}
