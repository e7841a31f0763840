import type {Client} from 'pg'

import {quoteIdent} from '../pg/sql.js'
import type {LockRow, TrackingInfo, TrackingRecord} from './types.js'

/**
 * Opt-in tracking (`--track`): a trigger on the knex lock table that records who set
 * is_locked = 1 in a side table of the same schema. knex commits is_locked = 1 in
 * non-transactional runs and leaves nothing else behind, so without this Postgres cannot tell a
 * killed migrator from one that is merely idle between statements. With it, a lock whose recording
 * backend (pid + backend_start) has disconnected is provably stale.
 *
 * - One side table per schema, one row per lock table (the latest lock only: it is upserted).
 * - The trigger function is SECURITY DEFINER with a pinned search_path, so migrator roles need no
 *   grant on the side table; its body is constant (it finds the side table through
 *   TG_TABLE_SCHEMA), so no user-supplied name is ever spliced into function source.
 * - The trigger row is written in the migrator's own transaction: a transactional run that rolls
 *   back leaves no record; `txid` ties the record to the row version it produced (row xmin).
 */

export const TRACKING_TABLE = 'poolctl_lock_tracking'
export const TRACKING_FUNCTION = 'poolctl_track_lock'
export const TRACKING_TRIGGER = 'poolctl_track_lock'

const FUNCTION_BODY = `
begin
  execute format(
    'insert into %I.${TRACKING_TABLE} as t
            (lock_table, locked_at, txid, pid, backend_start, application_name, client_addr, client_port, usename)
     values ($1, clock_timestamp(), txid_current(), pg_backend_pid(),
             (select a.backend_start from pg_catalog.pg_stat_activity a where a.pid = pg_backend_pid()),
             current_setting(''application_name''), inet_client_addr(), inet_client_port(), session_user)
     on conflict (lock_table) do update
        set locked_at = excluded.locked_at, txid = excluded.txid, pid = excluded.pid,
            backend_start = excluded.backend_start, application_name = excluded.application_name,
            client_addr = excluded.client_addr, client_port = excluded.client_port, usename = excluded.usename',
    TG_TABLE_SCHEMA)
  using TG_TABLE_NAME;
  return null;
end`

export interface TrackingTarget {
  /** Lock table oid. */
  oid: string
  schema: string
  lockTable: string
}

function names(target: TrackingTarget) {
  return {
    fn: `${quoteIdent(target.schema)}.${quoteIdent(TRACKING_FUNCTION)}`,
    lock: `${quoteIdent(target.schema)}.${quoteIdent(target.lockTable)}`,
    side: `${quoteIdent(target.schema)}.${quoteIdent(TRACKING_TABLE)}`,
  }
}

export async function isTrackingInstalled(client: Client, oid: string): Promise<boolean> {
  const {rows} = await client.query(
    'select 1 from pg_trigger where tgrelid = $1::oid and tgname = $2 and not tgisinternal',
    [oid, TRACKING_TRIGGER],
  )
  return rows.length > 0
}

/**
 * The statements `--track` runs, in one transaction (idempotent). `lockTimeoutMillis` bounds the
 * wait for the lock table: CREATE TRIGGER needs SHARE ROW EXCLUSIVE, which a live transactional
 * migrator's row lock blocks.
 */
export function installStatements(target: TrackingTarget): string[] {
  const {fn, lock, side} = names(target)
  return [
    `create table if not exists ${side} (
       lock_table text primary key,
       locked_at timestamptz not null,
       txid bigint,
       pid integer not null,
       backend_start timestamptz,
       application_name text,
       client_addr inet,
       client_port integer,
       usename text)`,
    `comment on table ${side} is 'poolctl unlock-migrations --track: who last set is_locked = 1 on each knex lock table of this schema'`,
    `create or replace function ${fn}() returns trigger language plpgsql security definer
       set search_path = pg_catalog, pg_temp as $poolctl_body$${FUNCTION_BODY}$poolctl_body$`,
    `revoke all on function ${fn}() from public`,
    `drop trigger if exists ${quoteIdent(TRACKING_TRIGGER)} on ${lock}`,
    `create trigger ${quoteIdent(TRACKING_TRIGGER)} after insert or update of is_locked on ${lock}
       for each row when (new.is_locked = 1) execute procedure ${fn}()`,
  ]
}

/** The statements `--untrack` runs: the trigger, this table's record, and the shared objects once unused. */
export function removeStatements(target: TrackingTarget): string[] {
  const {lock} = names(target)
  return [`drop trigger if exists ${quoteIdent(TRACKING_TRIGGER)} on ${lock}`]
}

/** After removing the trigger: drop the side table and function of the schema when no trigger uses them. */
export async function dropUnusedTrackingObjects(client: Client, target: TrackingTarget): Promise<void> {
  const {fn, side} = names(target)
  const {rows} = await client.query<{fn: string | null}>('select to_regprocedure($1)::oid::text as fn', [`${fn}()`])
  const fnOid = rows[0]?.fn
  if (fnOid) {
    const users = await client.query('select 1 from pg_trigger where tgfoid = $1::oid limit 1', [fnOid])
    if (users.rows.length > 0) {
      await client.query(`delete from ${side} where lock_table = $1`, [target.lockTable]).catch(() => undefined)
      return
    }
    await client.query(`drop function ${fn}()`)
  }
  await client.query(`drop table if exists ${side}`)
}

interface RecordRow {
  locked_at: string
  txid: string | null
  pid: number
  backend_start: string | null
  application_name: string | null
  client_addr: string | null
  client_port: number | null
  usename: string | null
  alive_exact: boolean
  pid_alive: boolean
  start_visible: boolean
  same_client_sessions: number
}

export interface TrackingReadResult {
  info: TrackingInfo
  /** Other sessions from the same client address, role and application_name (a pool may hold them). */
  sameClientSessions: number
}

/** Read the tracking record for this lock table and check whether its backend still lives. */
export async function readTracking(client: Client, target: TrackingTarget, rows: readonly LockRow[]): Promise<TrackingReadResult> {
  const installed = await isTrackingInstalled(client, target.oid)
  const {side} = names(target)
  const exists = await client.query<{oid: string | null}>('select to_regclass($1)::oid::text as oid', [side])
  if (!exists.rows[0]?.oid) {
    return {info: {installed, record: null, table: null}, sameClientSessions: 0}
  }
  const result = await client.query<RecordRow>(
    `select t.locked_at::text as locked_at, t.txid::text as txid, t.pid, t.backend_start::text as backend_start,
            t.application_name, host(t.client_addr) as client_addr, t.client_port, t.usename,
            exists (select 1 from pg_stat_activity a where a.pid = t.pid and a.backend_start = t.backend_start) as alive_exact,
            exists (select 1 from pg_stat_activity a where a.pid = t.pid) as pid_alive,
            coalesce((select a.backend_start is not null from pg_stat_activity a where a.pid = t.pid), false) as start_visible,
            (select count(*)::int from pg_stat_activity a
              where a.pid <> t.pid and a.pid <> pg_backend_pid() and a.datname = current_database()
                and a.usename::text is not distinct from t.usename
                and a.client_addr is not distinct from t.client_addr
                and a.application_name is not distinct from t.application_name) as same_client_sessions
       from ${side} t where t.lock_table = $1`,
    [target.lockTable],
  )
  const row = result.rows[0]
  if (!row) return {info: {installed, record: null, table: `${target.schema}.${TRACKING_TABLE}`}, sameClientSessions: 0}
  // txid_current() is epoch-extended; a row's xmin is the low 32 bits.
  const txidLow = row.txid === null ? null : (BigInt(row.txid) & 0xff_ff_ff_ffn).toString()
  const matchesCurrentLock = rows.length === 1 && rows[0].isLocked === 1 && txidLow !== null && rows[0].xmin === txidLow
  // Same pid and backend_start: the very backend. Same pid but backend_start hidden (no
  // pg_read_all_stats) or never recorded: cannot tell (null). Same pid, another backend_start: the
  // pid was reused, the recording backend is gone.
  const backendAlive = row.alive_exact
    ? true
    : !row.pid_alive
      ? false
      : row.backend_start === null || !row.start_visible
        ? null
        : false
  const record: TrackingRecord = {
    applicationName: row.application_name,
    backendAlive,
    backendStart: row.backend_start,
    client: row.client_addr === null ? 'local' : `${row.client_addr}${row.client_port === null ? '' : `:${row.client_port}`}`,
    lockedAt: row.locked_at,
    matchesCurrentLock,
    pid: row.pid,
    txid: row.txid,
    user: row.usename,
  }
  return {info: {installed, record, table: `${target.schema}.${TRACKING_TABLE}`}, sameClientSessions: row.same_client_sessions}
}
