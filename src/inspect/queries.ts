/**
 * Every SQL statement `poolctl inspect` sends to PostgreSQL, one place per query. Version branches live
 * here, keyed on `server_version_num`. All of them are catalog and statistics reads: no table is
 * touched, no lock is taken beyond what pg_blocking_pids and pg_locks need, and nothing heavy such as
 * pg_database_size runs.
 */
import {QUERY_TEXT_LIMIT} from './options.js'

/** inspect relies on backend_type (10+) and pg_blocking_pids (9.6+). */
export const MIN_SERVER_VERSION_NUM = 100_000

/**
 * Read the statement_timeout this role and database get from the server (the connection was opened
 * without poolctl's own, see snapshot.ts), then apply poolctl's statement_timeout and lock_timeout.
 * The materialized CTE is scanned before the select list runs set_config. '' leaves a setting alone.
 */
export const SESSION_TIMEOUTS_SQL = `with server as materialized (
  select setting from pg_settings where name = 'statement_timeout'
)
select server.setting as server_statement_timeout,
       case when $1::text <> '' then set_config('statement_timeout', $1::text, false) end as statement_timeout,
       case when $2::text <> '' then set_config('lock_timeout', $2::text, false) end as lock_timeout
  from server`

/**
 * Capacity, timeouts, who we are, and the honest backend total. Settings that older versions lack
 * are read missing-ok (null) and interpreted by version in snapshot.ts.
 */
export const SERVER_SQL = `select now() as taken_at,
       current_setting('server_version') as server_version,
       current_setting('server_version_num')::int as server_version_num,
       current_setting('max_connections')::int as max_connections,
       current_setting('superuser_reserved_connections')::int as superuser_reserved_connections,
       current_setting('reserved_connections', true) as reserved_connections,
       (select setting from pg_settings where name = 'idle_in_transaction_session_timeout') as idle_in_transaction_session_timeout,
       (select setting from pg_settings where name = 'idle_session_timeout') as idle_session_timeout,
       current_user as current_user,
       current_database() as current_database,
       pg_backend_pid() as backend_pid,
       coalesce((select rolsuper from pg_roles where rolname = current_user), false) as superuser,
       case when to_regrole('pg_read_all_stats') is null then false
            else pg_has_role('pg_read_all_stats', 'USAGE') end as can_read_all_stats,
       (select coalesce(sum(numbackends), 0)::int from pg_stat_database) as numbackends`

export interface ServerRow {
  /** From SESSION_TIMEOUTS_SQL, read once per connection (SERVER_SQL would see poolctl's own). */
  statement_timeout: string | null
  taken_at: Date
  server_version: string
  server_version_num: number
  max_connections: number
  superuser_reserved_connections: number
  reserved_connections: string | null
  idle_in_transaction_session_timeout: string | null
  idle_session_timeout: string | null
  current_user: string
  current_database: string
  backend_pid: number
  superuser: boolean
  can_read_all_stats: boolean
  numbackends: number
}

/**
 * Every session but our own that may be a client connection: client backends, walsenders (they used
 * max_connections slots before PG 12), and rows whose backend_type is hidden from this role (without
 * pg_read_all_stats, other roles' sessions show pid, database, user and application_name only;
 * filtering on backend_type or state would silently drop them).
 */
export function activitySql(serverVersionNum: number): string {
  // backend_type exists from PG 10 on (MIN_SERVER_VERSION_NUM); the branch point is kept here so
  // that lowering the minimum means editing this one function.
  const backendType = serverVersionNum >= 100_000 ? 'a.backend_type' : `'client backend'::text`
  return `select a.pid,
       a.datname,
       a.usename,
       a.application_name,
       host(a.client_addr) as client_addr,
       a.client_port,
       ${backendType} as backend_type,
       a.state,
       a.wait_event_type,
       a.wait_event,
       extract(epoch from now() - a.query_start)::float8 as query_age,
       extract(epoch from now() - a.xact_start)::float8 as xact_age,
       extract(epoch from now() - a.state_change)::float8 as state_age,
       left(a.query, ${QUERY_TEXT_LIMIT}) as query
  from pg_stat_activity a
 where a.pid <> pg_backend_pid()
   and (${backendType} in ('client backend', 'walsender') or ${backendType} is null)`
}

export interface ActivityRow {
  pid: number
  datname: string | null
  usename: string | null
  application_name: string | null
  client_addr: string | null
  client_port: number | null
  backend_type: string | null
  state: string | null
  wait_event_type: string | null
  wait_event: string | null
  query_age: number | null
  xact_age: number | null
  state_age: number | null
  query: string | null
}

/**
 * Who blocks the given lock waiters. pg_blocking_pids takes the lock manager's locks, so it is called
 * only for sessions whose wait_event_type is 'Lock' ($1), never for everyone. PG 14+ also says since
 * when each one waits (pg_locks.waitstart); before, snapshot.ts falls back to the statement's age.
 */
export function blockersSql(serverVersionNum: number): string {
  if (serverVersionNum >= 140_000) {
    return `with waits as (
  select l.pid, min(l.waitstart) as waitstart
    from pg_locks l
   where not l.granted and l.pid = any($1::int[])
   group by l.pid
)
select w.pid,
       pg_blocking_pids(w.pid) as blocked_by,
       extract(epoch from now() - waits.waitstart)::float8 as wait_age
  from unnest($1::int[]) as w(pid)
  left join waits on waits.pid = w.pid`
  }
  return `select w.pid, pg_blocking_pids(w.pid) as blocked_by, null::float8 as wait_age
  from unnest($1::int[]) as w(pid)`
}

export interface BlockerRow {
  pid: number
  blocked_by: number[]
  wait_age: number | null
}

/** PgBouncer's admin console: simple query protocol only, so these take no parameters. */
export const PGBOUNCER_SQL = {
  config: 'SHOW CONFIG',
  databases: 'SHOW DATABASES',
  pools: 'SHOW POOLS',
  version: 'SHOW VERSION',
} as const
