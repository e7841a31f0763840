import type {Client} from 'pg'

import type {Holder, HolderRole, Session} from './types.js'

/**
 * Sessions as pg_stat_activity shows them. Without pg_read_all_stats (pg_monitor), other roles'
 * sessions show only pid, user and application_name: the other fields come back null and the
 * query reads `<insufficient privilege>`; callers say so instead of guessing.
 */
const SESSIONS_SQL = `select a.pid,
       a.usename::text as user_name,
       a.application_name,
       host(a.client_addr) as client_addr,
       a.client_port,
       a.state,
       a.backend_type,
       a.backend_start,
       a.xact_start,
       extract(epoch from clock_timestamp() - a.xact_start)::float8 as xact_age_seconds,
       extract(epoch from clock_timestamp() - a.state_change)::float8 as state_age_seconds,
       a.wait_event_type || ':' || a.wait_event as wait_event,
       left(a.query, 300) as query
  from pg_stat_activity a
 where a.pid = any($1::int[])
 order by a.backend_start nulls last, a.pid`

interface SessionRow {
  pid: number
  user_name: string | null
  application_name: string | null
  client_addr: string | null
  client_port: number | null
  state: string | null
  backend_type: string | null
  backend_start: Date | null
  xact_start: Date | null
  xact_age_seconds: number | null
  state_age_seconds: number | null
  wait_event: string | null
  query: string | null
}

export async function readSessions(client: Client, pids: readonly number[]): Promise<Session[]> {
  if (pids.length === 0) return []
  const {rows} = await client.query<SessionRow>(SESSIONS_SQL, [[...new Set(pids)]])
  return rows.map(toSession)
}

/** Sessions of these pids, each with the role and reason it is reported for (pids that vanished are dropped). */
export async function readHolders(
  client: Client,
  entries: ReadonlyArray<{pid: number; reason: string; role: HolderRole}>,
): Promise<Holder[]> {
  const sessions = await readSessions(
    client,
    entries.map((entry) => entry.pid),
  )
  const byPid = new Map(sessions.map((session) => [session.pid, session]))
  const merged = new Map<number, Holder>()
  for (const entry of entries) {
    const session = byPid.get(entry.pid)
    if (!session) continue
    const existing = merged.get(entry.pid)
    if (existing) {
      if (!existing.reason.includes(entry.reason)) existing.reason += `; ${entry.reason}`
      continue
    }
    merged.set(entry.pid, {...session, reason: entry.reason, role: entry.role})
  }
  return [...merged.values()]
}

/** Client sessions in this database run by these roles (poolctl's own excluded), newest activity first. */
export async function readRoleSessions(client: Client, roles: readonly string[], limit = 10): Promise<Session[]> {
  const {rows} = await client.query<{pid: number}>(
    `select pid from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid()
        and usename::text = any($1::text[])
        and (backend_type = 'client backend' or backend_type is null)
      order by state_change desc nulls last
      limit $2`,
    [[...new Set(roles)], limit],
  )
  return readSessions(
    client,
    rows.map((row) => row.pid),
  )
}

function toSession(row: SessionRow): Session {
  const client =
    row.client_addr === null
      ? row.backend_type === 'client backend'
        ? 'local'
        : null
      : `${row.client_addr}${row.client_port === null ? '' : `:${row.client_port}`}`
  return {
    applicationName: row.application_name,
    backendStart: iso(row.backend_start),
    backendType: row.backend_type,
    client,
    clientAddr: row.client_addr,
    pid: row.pid,
    query: row.query,
    state: row.state,
    stateAgeSeconds: seconds(row.state_age_seconds),
    user: row.user_name,
    waitEvent: row.wait_event,
    xactAgeSeconds: seconds(row.xact_age_seconds),
    xactStart: iso(row.xact_start),
  }
}

export function iso(value: Date | string | null): string | null {
  if (value === null) return null
  return value instanceof Date ? value.toISOString() : value
}

function seconds(value: number | null): number | null {
  return value === null ? null : Math.round(value * 10) / 10
}

/** Backends that are alive right now. */
export async function livePids(client: Client, pids: readonly number[]): Promise<Set<number>> {
  if (pids.length === 0) return new Set()
  const {rows} = await client.query<{pid: number}>('select pid from pg_stat_activity where pid = any($1::int[])', [[...pids]])
  return new Set(rows.map((row) => row.pid))
}
